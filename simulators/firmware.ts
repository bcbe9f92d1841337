// What a simulated lamp controller's firmware can hold of a calendar, and how often its radio loses a message
// (issue 4). Most lamps run full firmware; a configured share (`faults.scheduleRejectShare`) runs an older one
// that refuses some calendars with the contract's reasons, so that the platform's rejected path is exercised:
//   no-ramps      an early dimming firmware: refuses `unsupported` a document with a ramp (ramp_s > 0) or an
//                 nth-weekday rule
//   small-memory  an on/off controller with room for 2 switch points per program and 4 rules: refuses
//                 `too_large` anything with more (so nearly every dimming calendar)
// Which lamp runs which firmware is drawn once from its own fault PRNG stream (seed + id), so a seed replays the
// same rejecting lamps, and raising the share keeps the lamps that already rejected (a draw below the share).
// Missed messages (`faults.scheduleMissRate`): each calendar, override or cancel_override message is lost with
// that probability (no effect, no ack), drawn from another per-lamp stream: the platform's retries recover.
import {
  type CalendarDocument,
  MAX_CALENDAR_RULES,
  MAX_SWITCH_POINTS,
  type ScheduleRejectReason,
} from "../services/contract/schedule.ts";
import { type Rng, rngFor } from "./prng.ts";

export type FirmwareName = "full" | "no-ramps" | "small-memory";

export type Firmware = {
  readonly name: FirmwareName;
  /** Calendar rules the controller can store. */
  readonly maxRules: number;
  /** Switch points per program. */
  readonly maxSwitchPoints: number;
  /** Ramps between levels (ramp_s > 0). */
  readonly ramps: boolean;
  /** Rules on the nth weekday of a month. */
  readonly nthWeekday: boolean;
};

export const FIRMWARE: Readonly<Record<FirmwareName, Firmware>> = {
  full: {
    name: "full",
    maxRules: MAX_CALENDAR_RULES,
    maxSwitchPoints: MAX_SWITCH_POINTS,
    ramps: true,
    nthWeekday: true,
  },
  "no-ramps": {
    name: "no-ramps",
    maxRules: MAX_CALENDAR_RULES,
    maxSwitchPoints: MAX_SWITCH_POINTS,
    ramps: false,
    nthWeekday: false,
  },
  "small-memory": { name: "small-memory", maxRules: 4, maxSwitchPoints: 2, ramps: true, nthWeekday: true },
};

/** A lamp's schedule behaviour: its firmware and its message loss. */
export type LampProfile = {
  readonly firmware: Firmware;
  /** Draws the next message's fate from the lamp's own stream: true = this one is lost. */
  miss(): boolean;
};

export type ScheduleFaults = {
  /** Share of lamps (0–1) running a firmware that refuses some calendars. */
  scheduleRejectShare: number;
  /** Probability (0–1) that a lamp loses one calendar, override or cancel_override message. */
  scheduleMissRate: number;
};

/** The firmware of lamp `deviceId`: deterministic from the seed, limited for a `rejectShare` of lamps. */
export function firmwareOf(seed: string | number, deviceId: string, rejectShare: number): Firmware {
  const rng = rngFor(seed, deviceId, "faults", "firmware");
  if (!(rng() < rejectShare)) return FIRMWARE.full;
  return rng() < 0.5 ? FIRMWARE["no-ramps"] : FIRMWARE["small-memory"];
}

export function lampProfile(seed: string | number, deviceId: string, faults: ScheduleFaults): LampProfile {
  const firmware = firmwareOf(seed, deviceId, faults.scheduleRejectShare);
  const rate = faults.scheduleMissRate;
  const rng: Rng = rngFor(seed, deviceId, "faults", "schedule-miss");
  return { firmware, miss: () => rate > 0 && rng() < rate };
}

/** A profile that keeps and acks everything (tests, a benchmark's well-behaved lamps). */
export function perfectProfile(): LampProfile {
  return { firmware: FIRMWARE.full, miss: () => false };
}

export type FirmwareRefusal = {
  reason: Extract<ScheduleRejectReason, "too_large" | "unsupported">;
  detail: string;
};

/** Why this firmware cannot hold the document, or null. Capacity is checked first (a full store says so). */
export function firmwareRefusal(fw: Firmware, doc: CalendarDocument): FirmwareRefusal | null {
  const prefix = `firmware ${fw.name}`;
  if (doc.rules.length > fw.maxRules)
    return { reason: "too_large", detail: `${prefix} stores ${fw.maxRules} rules, got ${doc.rules.length}` };
  for (const [id, program] of Object.entries(doc.programs)) {
    const n = program.switch_points.length;
    if (n > fw.maxSwitchPoints)
      return {
        reason: "too_large",
        detail: `${prefix} stores ${fw.maxSwitchPoints} switch points per program, programs.${id} has ${n}`,
      };
  }
  if (!fw.ramps)
    for (const [id, program] of Object.entries(doc.programs)) {
      const i = program.switch_points.findIndex((p) => p.ramp_s > 0);
      if (i >= 0)
        return {
          reason: "unsupported",
          detail: `${prefix} has no ramps: programs.${id}.switch_points.${i}.ramp_s`,
        };
    }
  if (!fw.nthWeekday) {
    const i = doc.rules.findIndex((r) => r.nth_weekday !== undefined);
    if (i >= 0)
      return { reason: "unsupported", detail: `${prefix} has no nth-weekday rules: rules.${i}.nth_weekday` };
  }
  return null;
}
