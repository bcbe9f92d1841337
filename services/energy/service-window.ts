// When a lamp was in service, for the completeness of an energy report (issue 5): from its installed_at (local
// midnight of that date, Africa/Casablanca) until it was decommissioned or now. Each lamp-second in service is
// metered, estimated or missing (contract/energy.ts COVERAGE); missing = in service − covered, never below 0.
// A city-wide month is 10,000 lamps × 31 days: the per-day totals are built with a difference array, O(lamps +
// days), not by visiting every lamp-day.
import { dayStart } from "./days.ts";

export type Interval = { startMs: number; endMs: number };
export type Day = { date: string; startMs: number; endMs: number };

export type LampService = {
  /** Registry installed_at: a date "YYYY-MM-DD" (its local midnight), or an ISO instant. */
  installedAt: string;
  /** When it was decommissioned (epoch ms), null while in service. */
  decommissionedAtMs: number | null;
};

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const installedCache = new Map<string, number>();

/** The instant a lamp came into service; NaN when installed_at cannot be read (then it never counts). */
export function installedAtMs(installedAt: string): number {
  const known = installedCache.get(installedAt);
  if (known !== undefined) return known;
  let ms = Number.NaN;
  if (!DATE_RE.test(installedAt)) ms = Date.parse(installedAt);
  else
    try {
      ms = dayStart(installedAt);
    } catch {
      // not a calendar date: NaN
    }
  // A fleet shares a few installation dates; a city-wide report asks 10,000 times.
  if (installedCache.size >= 10_000) installedCache.clear();
  installedCache.set(installedAt, ms);
  return ms;
}

/** The lamp's in-service stretch within [period.startMs, min(period.endMs, now)); null when there is none. */
export function serviceWindow(lamp: LampService, period: Interval, nowMs: number): Interval | null {
  const installed = installedAtMs(lamp.installedAt);
  if (Number.isNaN(installed)) return null;
  const startMs = Math.max(period.startMs, installed);
  const endMs = Math.min(period.endMs, nowMs, lamp.decommissionedAtMs ?? Number.POSITIVE_INFINITY);
  return endMs > startMs ? { startMs, endMs } : null;
}

/** Index of the day holding `t` (days ascending and contiguous, t within them). */
function dayIndexOf(days: readonly Day[], t: number): number {
  let lo = 0;
  let hi = days.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((days[mid] as Day).startMs <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Per day: lamps in service some time of it, and their in-service seconds summed. */
export type DayService = { date: string; lamps: number; seconds: number };

/**
 * Per day of `days` (ascending, contiguous), the lamps in service and their lamp-seconds. Windows must lie within
 * the days (serviceWindow clips them to the period). A window's first and last day get their partial seconds; the
 * whole days between are counted through a difference array.
 */
export function serviceByDay(windows: Iterable<Interval>, days: readonly Day[]): DayService[] {
  const n = days.length;
  const lamps = new Array<number>(n).fill(0);
  const seconds = new Array<number>(n).fill(0);
  const whole = new Array<number>(n + 1).fill(0);
  if (n === 0) return [];
  for (const w of windows) {
    if (w.endMs <= w.startMs) continue;
    const i = dayIndexOf(days, w.startMs);
    const j = dayIndexOf(days, w.endMs - 1);
    const di = days[i] as Day;
    const dj = days[j] as Day;
    if (i === j) {
      lamps[i] = (lamps[i] as number) + 1;
      seconds[i] = (seconds[i] as number) + (w.endMs - w.startMs) / 1000;
      continue;
    }
    lamps[i] = (lamps[i] as number) + 1;
    seconds[i] = (seconds[i] as number) + (di.endMs - w.startMs) / 1000;
    lamps[j] = (lamps[j] as number) + 1;
    seconds[j] = (seconds[j] as number) + (w.endMs - dj.startMs) / 1000;
    whole[i + 1] = (whole[i + 1] as number) + 1;
    whole[j] = (whole[j] as number) - 1;
  }
  let running = 0;
  return days.map((d, k) => {
    running += whole[k] as number;
    return {
      date: d.date,
      lamps: (lamps[k] as number) + running,
      seconds: (seconds[k] as number) + (running * (d.endMs - d.startMs)) / 1000,
    };
  });
}

/** One lamp's in-service seconds per day (days without service left out). */
export function windowSecondsByDay(window: Interval, days: readonly Day[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of days) {
    const s = Math.min(d.endMs, window.endMs) - Math.max(d.startMs, window.startMs);
    if (s > 0) out.set(d.date, s / 1000);
  }
  return out;
}

/** In-service seconds not covered by metered or estimated data; never below 0 (data outside the window). */
export function missingSeconds(inServiceS: number, meteredS: number, estimatedS: number): number {
  return Math.max(0, inServiceS - meteredS - estimatedS);
}
