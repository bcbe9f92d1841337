// What every behaviour model gives the device runtime: the next reading at a given simulated time.
// Models are pure state machines over (time, their own PRNG streams): no I/O, no clock of their own.
import type { AnyReading } from "../../services/contract/readings.ts";
import type { CalendarDocument } from "../../services/contract/schedule.ts";
import type { FaultRates } from "../faults.ts";

export type ModelStep = {
  reading: AnyReading;
  /** Streetlights: energy drawn since the previous reading, Wh (the truth the meter should show). */
  energyWh: number;
  /** Streetlights: seconds the lamp was burning since the previous reading. */
  burnS: number;
  /** Streetlights: seconds since the previous reading spent under a dim override (a command, not the program). */
  overrideS?: number;
};

/** A dim override after TALQ: a level held for a while (or until the next command), then back to the program. */
export type DimOverride = {
  levelPct: number;
  /** Ramp from the level in effect to `levelPct`, ms (0 = at once). */
  rampMs: number;
  /** Simulated time the command took effect, epoch ms. */
  fromMs: number;
  /** End of the override (back to the program); Infinity = until the next command. */
  untilMs: number;
};

/**
 * A scheduled override (issue 4, contract `override`): the platform's id, a start that may lie ahead (the
 * program runs until then) and an expiry. It shares the lamp's one override slot with a dim (TALQ).
 */
export type ScheduledOverride = DimOverride & { overrideId: string };

/** What commands act on in a streetlight (commands.ts decides, the lamp carries out). */
export type LampControl = {
  /** True while the lamp is in a lamp-failure episode (it cannot light). */
  failedAt(tsMs: number): boolean;
  /** Starts a blink cycle for the engineer looking for the pole (TALQ identify). */
  identify(fromMs: number, durationMs: number): void;
  /** Replaces any override by this one; returns the level in effect at `fromMs`. */
  dim(override: DimOverride): number;
  /**
   * Fills the override slot at `atMs` (the older override, a dim's or a scheduled one, ends then, even if this
   * one starts later); its ramp starts from the level in effect at its start. Returns the level at `atMs`.
   */
  override(override: ScheduledOverride, atMs: number): number;
  /** Ends the override `overrideId` at `atMs` if the slot holds it (started or not); false if it does not. */
  cancelOverride(overrideId: string, atMs: number): boolean;
  /** Follows this calendar for readings from `fromMs` on (earlier ones keep the calendar they had). */
  followCalendar(doc: CalendarDocument, fromMs: number): void;
  /** The commanded level at `tsMs` (override or program), for acks. */
  levelAt(tsMs: number): number;
};

export type DeviceModel = {
  /** The reading at `tsMs`; calls must come in increasing time order. */
  next(tsMs: number): ModelStep;
  /** Streetlights only: the lamp commands act on. */
  lamp?: LampControl;
};

export type ModelOptions = {
  seed: string | number;
  faults: FaultRates;
  /** Streetlights: the calendar they start with; default the built-in FACTORY_CALENDAR. */
  calendar?: CalendarDocument;
};

/** Exponential smoothing factor for a step of `dtMs` towards a target with time constant `tauMs`. */
export function smoothing(dtMs: number, tauMs: number): number {
  return dtMs <= 0 ? 1 : 1 - Math.exp(-dtMs / tauMs);
}
