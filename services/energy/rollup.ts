// One lamp's readings → its daily energy accumulations (issue 5; .design/issue5.md "Semantics"), the arithmetic
// behind energy_daily. Reporting-period energy after IPMVP: metered from the increase of the cumulative meter
// (Option B) wherever the meter gives a usable increase, estimated otherwise (from the reported power over a short
// interval, or Option A — LED watts × the level the platform asked for — over a gap), and missing beyond the
// estimate limit. Every interval a → b between consecutive readings is classified:
//   reset  = b flagged meter_reset, or the meter went back (a restarted meter counts from 0 again)
//   short  (dt ≤ gapS): reset → b.energy_wh (energy since the restart); else the increase; either one above
//          plausibleMaxWh(dt) → a.power_w × dt (estimated "power"). Split over local days in proportion to time.
//   gap    (dt > gapS): no reset and a plausible increase → metered, spread over the gap's day pieces in proportion
//          to ledW·dark + standbyW·light seconds (the lamp burns at night); otherwise, up to estimateMaxS, the
//          estimator's energy per piece (estimated "calendar"); beyond it nothing (missing).
// Hot path: the roller feeds this about 10,000 lamps × 744 readings a month, so it allocates nothing per reading
// beyond the day map (the current day's bounds and accumulator are remembered) and caches sun events per night.

import type { Site } from "../schedule/sun.ts";
import { createDarkCalendar, type DarkCalendar } from "./dark.ts";
import { createDayIndex } from "./days.ts";

export type MeterReading = { ts: number; energyWh: number; powerW: number; dimPct: number; reset: boolean };
export type LampParams = { ledW: number; legacyW: number; site: Site };
export type RollupOptions = { gapS: number; estimateMaxS: number; standbyW: number };
/** Option A energy in Wh over [fromMs, toMs): what the lamp should have drawn (services/energy/estimate.ts). */
export type Estimator = (fromMs: number, toMs: number) => number;
export type DayAccum = {
  day: string;
  meteredWh: number;
  estimatedWh: number;
  meteredS: number;
  estimatedS: number;
  darkS: number;
  litS: number;
  readings: number;
  resets: number;
  gaps: number;
  firstTs: number | null;
  lastTs: number | null;
};

export type RollLampInput = {
  /** The last reading already rolled up (the lamp's cursor), or undefined for the lamp's first reading. */
  prev: MeterReading | undefined;
  /** Sorted by ts ascending, all strictly after prev.ts; several with one ts: the last one counts. */
  readings: readonly MeterReading[];
  lamp: LampParams;
  options: RollupOptions;
  estimator: Estimator;
  /**
   * Contributions before this instant are dropped. To recompute a lamp from local day D (late data): delete its
   * rows from D on, pass prev = its last reading STRICTLY before dayStart(D) and clipFromMs = dayStart(D); the
   * interval from prev into D then adds only its part from D on, and the earlier rows stay as they were.
   */
  clipFromMs?: number;
  /** Dark-time source; defaults to createDarkCalendar(lamp.site). Injected by tests with hand-set nights. */
  dark?: DarkCalendar;
};

export type RollLampResult = { days: Map<string, DayAccum>; last: MeterReading | undefined };

/** Highest believable increase over dtS seconds: a quarter above LED watts plus 5 W of slack (meter, driver). */
export function plausibleMaxWh(ledW: number, dtS: number): number {
  return ((1.25 * ledW + 5) * dtS) / 3600;
}

export function emptyDay(day: string): DayAccum {
  return {
    day,
    meteredWh: 0,
    estimatedWh: 0,
    meteredS: 0,
    estimatedS: 0,
    darkS: 0,
    litS: 0,
    readings: 0,
    resets: 0,
    gaps: 0,
    firstTs: null,
    lastTs: null,
  };
}

const minTs = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : Math.min(x, y));
const maxTs = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : Math.max(x, y));

/** Merges two accumulations of the same day (rows of two roller passes) into a new one. */
export function addDays(a: DayAccum, b: DayAccum): DayAccum {
  if (a.day !== b.day) throw new RangeError(`b.day: cannot add ${b.day} to ${a.day}`);
  return {
    day: a.day,
    meteredWh: a.meteredWh + b.meteredWh,
    estimatedWh: a.estimatedWh + b.estimatedWh,
    meteredS: a.meteredS + b.meteredS,
    estimatedS: a.estimatedS + b.estimatedS,
    darkS: a.darkS + b.darkS,
    litS: a.litS + b.litS,
    readings: a.readings + b.readings,
    resets: a.resets + b.resets,
    gaps: a.gaps + b.gaps,
    firstTs: minTs(a.firstTs, b.firstTs),
    lastTs: maxTs(a.lastTs, b.lastTs),
  };
}

function positive(value: number, field: string, allowZero: boolean): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new RangeError(
      `${field}: must be a ${allowZero ? "non-negative" : "positive"} finite number, got ${value}`,
    );
}

function checkInput(input: RollLampInput): void {
  const { lamp, options, clipFromMs, prev } = input;
  positive(lamp.ledW, "lamp.ledW", true);
  positive(lamp.legacyW, "lamp.legacyW", true);
  positive(options.gapS, "options.gapS", false);
  positive(options.estimateMaxS, "options.estimateMaxS", false);
  positive(options.standbyW, "options.standbyW", true);
  if (options.estimateMaxS < options.gapS)
    throw new RangeError(`options.estimateMaxS: must not be below options.gapS (${options.gapS} s)`);
  if (clipFromMs !== undefined && !Number.isFinite(clipFromMs))
    throw new RangeError(`clipFromMs: must be a finite epoch ms, got ${clipFromMs}`);
  if (prev) checkReading(prev, "prev");
}

function checkReading(r: MeterReading, field: string): void {
  if (!Number.isFinite(r.ts)) throw new RangeError(`${field}.ts: must be a finite epoch ms, got ${r.ts}`);
  if (!(Number.isFinite(r.energyWh) && r.energyWh >= 0))
    throw new RangeError(`${field}.energyWh: must be a non-negative finite number, got ${r.energyWh}`);
  if (!(Number.isFinite(r.powerW) && r.powerW >= 0))
    throw new RangeError(`${field}.powerW: must be a non-negative finite number, got ${r.powerW}`);
  if (!Number.isFinite(r.dimPct))
    throw new RangeError(`${field}.dimPct: must be a finite number, got ${r.dimPct}`);
}

/** How an interval's energy is attributed: metered or estimated share of a known total, or the estimator's. */
const SPREAD = { metered: 0, estimated: 1, estimator: 2 } as const;
type Spread = (typeof SPREAD)[keyof typeof SPREAD];

export function rollLamp(input: RollLampInput): RollLampResult {
  checkInput(input);
  const { prev, readings, lamp, options, estimator } = input;
  const { ledW } = lamp;
  const { gapS, estimateMaxS, standbyW } = options;
  const clip = input.clipFromMs ?? Number.NEGATIVE_INFINITY;
  const dark = input.dark ?? createDarkCalendar(lamp.site);
  const dayOf = createDayIndex();
  const days = new Map<string, DayAccum>();
  let current: DayAccum | undefined;
  const accOf = (day: string): DayAccum => {
    if (current?.day === day) return current;
    let acc = days.get(day);
    if (!acc) {
      acc = emptyDay(day);
      days.set(day, acc);
    }
    current = acc;
    return acc;
  };

  /**
   * Adds interval [a.ts, b.ts) piece by piece (split at local midnights and at the clip), dropping pieces before
   * the clip. `wh` is the interval's energy for "metered"/"estimated" spreads (by time, or by `weightTotal` when
   * it is > 0: the dark/standby weight of the whole interval); "estimator" asks the estimator per piece.
   */
  const spread = (a: MeterReading, b: MeterReading, wh: number, how: Spread, byWeight: boolean): void => {
    const spanMs = b.ts - a.ts;
    let weightTotal = 0;
    if (byWeight) {
      const darkAll = dark.darkSeconds(a.ts, b.ts);
      weightTotal = ledW * darkAll + standbyW * (spanMs / 1000 - darkAll);
    }
    // Lit time is what the lamp reported: a short interval holds a's level; over a gap nothing was reported.
    const lit = a.dimPct > 0 && spanMs <= gapS * 1000;
    let t = a.ts;
    while (t < b.ts) {
      const d = dayOf(t);
      let end = Math.min(d.endMs, b.ts);
      if (clip > t && clip < end) end = clip;
      if (t >= clip) {
        const pieceS = (end - t) / 1000;
        const darkS = dark.darkSeconds(t, end);
        const acc = accOf(d.day);
        if (how === SPREAD.estimator) {
          const e = estimator(t, end);
          if (!(Number.isFinite(e) && e >= 0))
            throw new RangeError(
              `estimator: must return a non-negative finite Wh, got ${e} for [${t}, ${end})`,
            );
          acc.estimatedWh += e;
          acc.estimatedS += pieceS;
        } else {
          const share =
            weightTotal > 0
              ? (wh * (ledW * darkS + standbyW * (pieceS - darkS))) / weightTotal
              : (wh * (end - t)) / spanMs;
          if (how === SPREAD.metered) {
            acc.meteredWh += share;
            acc.meteredS += pieceS;
          } else {
            acc.estimatedWh += share;
            acc.estimatedS += pieceS;
          }
        }
        acc.darkS += darkS;
        if (lit) acc.litS += pieceS;
      }
      t = end;
    }
  };

  /** Counters of an interval go to the day it ends in (the day of its last instant). */
  const countEnd = (b: MeterReading, resets: number, gaps: number): void => {
    if (!(b.ts > clip) || (resets === 0 && gaps === 0)) return;
    const acc = accOf(dayOf(b.ts - 1).day);
    acc.resets += resets;
    acc.gaps += gaps;
  };

  const interval = (a: MeterReading, b: MeterReading): void => {
    const dtS = (b.ts - a.ts) / 1000;
    const reset = b.reset || b.energyWh < a.energyWh;
    const maxWh = plausibleMaxWh(ledW, dtS);
    if (dtS <= gapS) {
      const metered = reset ? b.energyWh : b.energyWh - a.energyWh;
      // A restarted meter that claims more than the lamp could draw since is as unusable as a jump.
      if (metered > maxWh) spread(a, b, (a.powerW * dtS) / 3600, SPREAD.estimated, false);
      else spread(a, b, metered, SPREAD.metered, false);
      countEnd(b, reset ? 1 : 0, 0);
      return;
    }
    const delta = b.energyWh - a.energyWh;
    if (!reset && delta <= maxWh) {
      spread(a, b, delta, SPREAD.metered, true);
      countEnd(b, 0, 1);
    } else if (dtS <= estimateMaxS) {
      spread(a, b, 0, SPREAD.estimator, false);
      countEnd(b, reset ? 1 : 0, 1);
    } else {
      countEnd(b, 0, 1); // missing: nothing covered
    }
  };

  let a = prev;
  const n = readings.length;
  for (let i = 0; i < n; i++) {
    const b = readings[i] as MeterReading;
    if (!Number.isFinite(b.ts)) checkReading(b, `readings.${i}`);
    if (a !== undefined && b.ts <= a.ts) {
      const what = a === prev ? `after prev.ts ${a.ts}` : "sorted by ts";
      throw new RangeError(`readings.${i}.ts: must be ${what}, got ${b.ts}`);
    }
    const next = readings[i + 1];
    if (next !== undefined && next.ts === b.ts) continue; // same ts: the last one counts
    checkReading(b, `readings.${i}`);
    if (a !== undefined) interval(a, b);
    if (b.ts >= clip) {
      const acc = accOf(dayOf(b.ts).day);
      acc.readings++;
      if (acc.firstTs === null || b.ts < acc.firstTs) acc.firstTs = b.ts;
      if (acc.lastTs === null || b.ts > acc.lastTs) acc.lastTs = b.ts;
    }
    a = b;
  }
  return { days, last: a };
}
