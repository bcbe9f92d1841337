// Faults the simulated fleet shows now and then, at configurable rates per device and simulated day, drawn
// from the device's own fault PRNG so that a seed replays the same faults. An episode starts with probability
// 1 − exp(−rate · dt) at each reading (a Poisson process) and lasts a random time in its range.
// The schedule faults (issue 4) are shares, not rates: which lamps run a firmware that refuses some calendars,
// and the chance of losing each calendar or override message (firmware.ts draws both per lamp).
import type { Rng } from "./prng.ts";

export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export type FaultRates = {
  /** Streetlight: lamp or driver failure (lamp_ok false, no light) until repaired, 2–48 h later. */
  lampFailurePerDay: number;
  /** Air quality: sensor stuck on its last values for 1–12 h. */
  stuckSensorPerDay: number;
  /** Any device: loses its connection for 2–90 min, buffering readings into a backlog. */
  offlinePerDay: number;
  /** Streetlight: energy meter restarts from zero (controller reboot). */
  meterResetPerDay: number;
  /**
   * Any device: readings lost before sending for 15 min–6 h (a controller's storage dropping records); they are
   * measured (the truth counts their energy) but never published. Issue 5: the gaps an energy audit must survive.
   */
  readingLossPerDay: number;
  /** Streetlight: share of lamps (0–1) whose firmware refuses some calendars (too_large, unsupported). */
  scheduleRejectShare: number;
  /** Streetlight: probability (0–1) of losing a calendar, override or cancel_override message (no ack). */
  scheduleMissRate: number;
};

export const NO_FAULTS: FaultRates = {
  lampFailurePerDay: 0,
  stuckSensorPerDay: 0,
  offlinePerDay: 0,
  meterResetPerDay: 0,
  readingLossPerDay: 0,
  scheduleRejectShare: 0,
  scheduleMissRate: 0,
};

export const FAULT_DURATIONS = {
  lampFailure: [2 * HOUR_MS, 48 * HOUR_MS],
  stuckSensor: [HOUR_MS, 12 * HOUR_MS],
  offline: [2 * MINUTE_MS, 90 * MINUTE_MS],
  readingLoss: [15 * MINUTE_MS, 6 * HOUR_MS],
} as const satisfies Record<string, readonly [number, number]>;

export function chance(rng: Rng, ratePerDay: number, dtMs: number): boolean {
  return ratePerDay > 0 && dtMs > 0 && rng() < 1 - Math.exp((-ratePerDay * dtMs) / DAY_MS);
}

export type Episode = {
  /** Advances to `tsMs` (dtMs since the previous call); true while an episode is in progress. */
  at(tsMs: number, dtMs: number): boolean;
  /** End of the current or last episode (epoch ms), −Infinity if none yet. */
  readonly until: number;
};

export function episode(rng: Rng, ratePerDay: number, [minMs, maxMs]: readonly [number, number]): Episode {
  let until = Number.NEGATIVE_INFINITY;
  return {
    at(tsMs, dtMs) {
      if (tsMs < until) return true;
      if (!chance(rng, ratePerDay, dtMs)) return false;
      until = tsMs + minMs + rng() * (maxMs - minMs);
      return true;
    },
    get until() {
      return until;
    },
  };
}
