// What every behaviour model gives the device runtime: the next reading at a given simulated time.
// Models are pure state machines over (time, their own PRNG streams): no I/O, no clock of their own.
import type { AnyReading } from "../../services/contract/readings.ts";
import type { FaultRates } from "../faults.ts";
import type { DimmingProgram } from "../program.ts";

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

/** What commands act on in a streetlight (commands.ts decides, the lamp carries out). */
export type LampControl = {
  /** True while the lamp is in a lamp-failure episode (it cannot light). */
  failedAt(tsMs: number): boolean;
  /** Starts a blink cycle for the engineer looking for the pole (TALQ identify). */
  identify(fromMs: number, durationMs: number): void;
  /** Replaces any override by this one; returns the level in effect at `fromMs`. */
  dim(override: DimOverride): number;
};

export type DeviceModel = {
  /** The reading at `tsMs`; calls must come in increasing time order. */
  next(tsMs: number): ModelStep;
  /** Streetlights only: replaces the dimming program (issue 4 pushes calendars over MQTT). */
  setProgram?(program: DimmingProgram): void;
  /** Streetlights only: the lamp commands act on. */
  lamp?: LampControl;
};

export type ModelOptions = {
  seed: string | number;
  faults: FaultRates;
  program?: DimmingProgram;
};

/** Exponential smoothing factor for a step of `dtMs` towards a target with time constant `tauMs`. */
export function smoothing(dtMs: number, tauMs: number): number {
  return dtMs <= 0 ? 1 : 1 - Math.exp(-dtMs / tauMs);
}
