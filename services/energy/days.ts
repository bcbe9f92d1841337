// Local calendar days of the energy reports (issue 5; contract/energy.ts): a day is local midnight to the next local
// midnight in Africa/Casablanca, so it may be 23, 24 or 25 hours long when the clocks change inside it (Morocco
// moves them around Ramadan, at 02:00/03:00). All zone arithmetic goes through services/schedule/zone.ts.
import { addDays, assertDate, localDateOf, localInstant } from "../schedule/zone.ts";

/** One local day's share of an interval: [fromMs, toMs) within `day`. */
export type DayPiece = { day: string; fromMs: number; toMs: number };

/** Start instant (epoch ms) of local day `date` "YYYY-MM-DD": its 00:00 local time. */
export function dayStart(date: string): number {
  return localInstant(date, "00:00");
}

/**
 * The local day holding an instant and its bounds, remembered between calls: a lamp's readings arrive in order, so
 * nearly every lookup hits the day of the previous one (the roller asks once per reading, millions of times).
 */
export type DayIndex = (tsMs: number) => { day: string; startMs: number; endMs: number };

export function createDayIndex(): DayIndex {
  let hit = { day: "", startMs: Number.POSITIVE_INFINITY, endMs: Number.NEGATIVE_INFINITY };
  return (tsMs) => {
    if (tsMs >= hit.startMs && tsMs < hit.endMs) return hit;
    const day = localDateOf(tsMs);
    hit = { day, startMs: dayStart(day), endMs: dayStart(addDays(day, 1)) };
    return hit;
  };
}

const sharedIndex = createDayIndex();

/**
 * [fromMs, toMs) split at local midnights, in order; empty when toMs ≤ fromMs. Every piece is non-empty and the
 * pieces tile the interval exactly.
 */
export function dayPieces(fromMs: number, toMs: number): DayPiece[] {
  if (!Number.isFinite(fromMs)) throw new RangeError(`fromMs: must be a finite epoch ms, got ${fromMs}`);
  if (!Number.isFinite(toMs)) throw new RangeError(`toMs: must be a finite epoch ms, got ${toMs}`);
  const pieces: DayPiece[] = [];
  let t = fromMs;
  while (t < toMs) {
    const d = sharedIndex(t);
    const end = Math.min(toMs, d.endMs);
    pieces.push({ day: d.day, fromMs: t, toMs: end });
    t = end;
  }
  return pieces;
}

/** Longest span daysBetween lists (a report covers at most MAX_REPORT_DAYS; this only guards against typos). */
const MAX_DAYS = 100 * 366;

/** The local dates from `from` to `to`, both included, in order; empty when to is before from. */
export function daysBetween(from: string, to: string): string[] {
  assertDate(from, "from");
  assertDate(to, "to");
  const out: string[] = [];
  // ISO dates compare like the calendar.
  for (let d = from; d <= to; d = addDays(d, 1)) {
    out.push(d);
    if (out.length > MAX_DAYS)
      throw new RangeError(`to: more than ${MAX_DAYS} days after from (${from} → ${to})`);
  }
  return out;
}
