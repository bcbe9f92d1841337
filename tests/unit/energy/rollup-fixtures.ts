// Shared builders for the rollLamp unit tests (not a test file: vitest only collects *.test.ts).
//
// The fixtures are worked out by hand, so the dark time is injected: every night is dark from 18:00 to 07:00 local
// time (a fake DarkCalendar over a list of intervals). All dates are in January 2026, when Africa/Casablanca is
// UTC+1, so local 00:00 on 2026-01-11 is 2026-01-10T23:00Z; `local()` reads a wall time with that offset.
//
// The lamp: a 100 W LED replacing a 250 W sodium lamp (295 W with its ballast, shared/DOMAIN.md), 1 W standby.
// plausibleMaxWh over 900 s = (1.25 × 100 + 5) × 900 / 3600 = 130 × 0.25 = 32.5 Wh; a full-power quarter hour
// draws 25 Wh, a standby one 0.25 Wh.
import { expect } from "vitest";
import type { DarkCalendar } from "../../../services/energy/dark.ts";
import {
  type DayAccum,
  emptyDay,
  type LampParams,
  type MeterReading,
  type RollupOptions,
} from "../../../services/energy/rollup.ts";

export const CASABLANCA = { lat: 33.573, lon: -7.59 };
export const LAMP: LampParams = { ledW: 100, legacyW: 295, site: CASABLANCA };
export const OPTIONS: RollupOptions = { gapS: 3600, estimateMaxS: 72 * 3600, standbyW: 1 };
export const QUARTER_MS = 900_000;
export const HOUR_MS = 3_600_000;

/** Wall time "2026-01-10T18:00" in Casablanca in January (UTC+1) → epoch ms. */
export const local = (wall: string): number => Date.parse(`${wall}:00+01:00`);

/** Every night of January 2026 dark from 18:00 to 07:00 local time. */
const NIGHTS: [number, number][] = Array.from({ length: 30 }, (_, i) => {
  const d = String(i + 1).padStart(2, "0");
  const next = String(i + 2).padStart(2, "0");
  return [local(`2026-01-${d}T18:00`), local(`2026-01-${next}T07:00`)];
});

export const FAKE_DARK: DarkCalendar = {
  darkSeconds(fromMs, toMs) {
    let ms = 0;
    for (const [a, b] of NIGHTS) ms += Math.max(0, Math.min(toMs, b) - Math.max(fromMs, a));
    return ms / 1000;
  },
};

/** Option A under the fake nights: 100 W while dark, 1 W standby otherwise (Wh over [from, to)). */
export const FAKE_ESTIMATOR = (fromMs: number, toMs: number): number => {
  const darkS = FAKE_DARK.darkSeconds(fromMs, toMs);
  return (100 * darkS + 1 * ((toMs - fromMs) / 1000 - darkS)) / 3600;
};

/** An estimator that must not be asked (intervals the meter covers). */
export const NO_ESTIMATOR = (fromMs: number, toMs: number): number => {
  throw new Error(`estimator asked for [${fromMs}, ${toMs})`);
};

export function reading(
  ts: number,
  energyWh: number,
  powerW: number,
  dimPct: number,
  reset = false,
): MeterReading {
  return { ts, energyWh, powerW, dimPct, reset };
}

const isDark = (ts: number) => FAKE_DARK.darkSeconds(ts, ts + 1) > 0;

/**
 * A lamp that follows the fake nights exactly: at 100 % (100 W) while dark, off (1 W) otherwise, read every 900 s
 * from `fromMs` to `toMs` inclusive; each reading's energy is the previous one's plus its power over 900 s.
 */
export function modelReadings(fromMs: number, toMs: number, startWh = 1000): MeterReading[] {
  const out: MeterReading[] = [];
  let wh = startWh;
  for (let t = fromMs; t <= toMs; t += QUARTER_MS) {
    const on = isDark(t);
    out.push(reading(t, wh, on ? 100 : 1, on ? 100 : 0));
    wh += ((on ? 100 : 1) * 900) / 3600;
  }
  return out;
}

/** A full row: emptyDay with the given fields. */
export const row = (day: string, fields: Partial<DayAccum>): DayAccum => ({ ...emptyDay(day), ...fields });

const round = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);
const rounded = (d: DayAccum): DayAccum => ({
  ...d,
  meteredWh: round(d.meteredWh) as number,
  estimatedWh: round(d.estimatedWh) as number,
  meteredS: round(d.meteredS) as number,
  estimatedS: round(d.estimatedS) as number,
  darkS: round(d.darkS) as number,
  litS: round(d.litS) as number,
});

/** The rows, in day order, equal to `expected` (Wh and seconds to 1e-6). */
export function expectRows(days: Map<string, DayAccum>, expected: DayAccum[]): void {
  const actual = [...days.values()].sort((a, b) => a.day.localeCompare(b.day)).map(rounded);
  expect(actual).toEqual(expected.map(rounded));
}
