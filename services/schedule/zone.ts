// Local civil time of the city for schedules (issue 4; contract/schedule.ts). Africa/Casablanca comes from the
// IANA database through luxon (ICU in Node 24, tz 2026c): UTC+1 most of the year, UTC+0 around Ramadan and, from
// 2026-09-20, for good. A schedule's NIGHT D is [local noon D, local noon D+1).
//
// Wall time → instant follows the design: a time inside a spring-forward gap moves forward by the gap (as luxon
// does), a time inside a fall-back overlap takes the EARLIER instant (luxon would take the later one, so the
// instant is resolved here from the zone's offsets rather than by DateTime.fromObject).
//
// Offsets are memoised per UTC hour (only when the whole hour has one offset): the simulator asks for the night
// of every reading of thousands of lamps, and an ICU lookup costs microseconds. Memoisation keeps it pure.
import { IANAZone } from "luxon";
import { CITY } from "../contract/city.ts";
import { WEEKDAYS, type Weekday } from "../contract/schedule.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const zone = IANAZone.create(CITY.timeZone);
if (!zone.isValid) throw new Error(`time zone ${CITY.timeZone} is unknown to this runtime's ICU data`);

const offsetCache = new Map<number, number>();
const OFFSET_CACHE_MAX = 100_000;

/** Offset of local time from UTC at `tsMs`, in minutes (60 = UTC+1). */
export function utcOffsetMin(tsMs: number): number {
  assertFiniteMs(tsMs, "tsMs");
  const hour = Math.floor(tsMs / HOUR_MS);
  const cached = offsetCache.get(hour);
  if (cached !== undefined) return cached;
  const start = hour * HOUR_MS;
  const first = zone.offset(start);
  // A transition inside this hour: answer exactly, do not memoise.
  if (zone.offset(start + HOUR_MS - 1) !== first) return zone.offset(tsMs);
  if (offsetCache.size >= OFFSET_CACHE_MAX) offsetCache.clear();
  offsetCache.set(hour, first);
  return first;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HHMM_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Parses "YYYY-MM-DD" into the UTC midnight of that calendar date; throws RangeError naming `field`. */
function dateUtcMs(date: string, field: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`${field}: must be a date YYYY-MM-DD, got ${JSON.stringify(date)}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    throw new RangeError(`${field}: ${date} is not a calendar date`);
  return ms;
}

/** Throws a RangeError naming `field` unless `date` is a real calendar date "YYYY-MM-DD". */
export function assertDate(date: string, field = "date"): void {
  dateUtcMs(date, field);
}

function formatDate(utcMidnightMs: number): string {
  return new Date(utcMidnightMs).toISOString().slice(0, 10);
}

function assertFiniteMs(tsMs: number, field: string): void {
  if (!Number.isFinite(tsMs)) throw new RangeError(`${field}: must be a finite epoch-ms number, got ${tsMs}`);
}

/** Local calendar date "YYYY-MM-DD" at `tsMs`. */
export function localDateOf(tsMs: number): string {
  const local = tsMs + utcOffsetMin(tsMs) * MINUTE_MS;
  return formatDate(Math.floor(local / DAY_MS) * DAY_MS);
}

/** The operating day D whose night [noon D, noon D+1) holds `tsMs`. */
export function nightOf(tsMs: number): string {
  const local = tsMs + utcOffsetMin(tsMs) * MINUTE_MS;
  // Shifting by 12 h maps [noon D, noon D+1) onto the calendar day D. Noon is never inside a transition here.
  return formatDate(Math.floor((local - DAY_MS / 2) / DAY_MS) * DAY_MS);
}

/** `date` moved by `n` calendar days. */
export function addDays(date: string, n: number): string {
  if (!Number.isInteger(n)) throw new RangeError(`n: must be an integer, got ${n}`);
  return formatDate(dateUtcMs(date, "date") + n * DAY_MS);
}

/** Weekday of a calendar date, as the contract spells it (WEEKDAYS: "mon" … "sun"). */
export function weekdayOf(date: string): Weekday {
  const sundayFirst = new Date(dateUtcMs(date, "date")).getUTCDay();
  return WEEKDAYS[(sundayFirst + 6) % 7] as Weekday;
}

/**
 * The instant of local wall time `hhmm` on `date`. In a fall-back overlap (the wall time happens twice) the
 * earlier instant; in a spring-forward gap (it never happens) the instant the offset before the gap gives,
 * i.e. the wall time moved forward by the gap (02:30 in a 02:00→03:00 gap reads 03:30).
 */
export function localInstant(date: string, hhmm: string): number {
  const m = HHMM_RE.exec(hhmm);
  if (!m) throw new RangeError(`hhmm: must be a local time HH:MM, got ${JSON.stringify(hhmm)}`);
  const wall = dateUtcMs(date, "date") + Number(m[1]) * HOUR_MS + Number(m[2]) * MINUTE_MS;
  // Every offset the zone has within a day either side; a wall time maps to wall − offset for each offset
  // that is actually in force at that instant.
  const offsets = new Set([utcOffsetMin(wall - DAY_MS), utcOffsetMin(wall), utcOffsetMin(wall + DAY_MS)]);
  let best: number | null = null;
  for (const off of offsets) {
    const ts = wall - off * MINUTE_MS;
    if (utcOffsetMin(ts) === off && (best === null || ts < best)) best = ts;
  }
  if (best !== null) return best;
  // In a gap (the offset grows from o1 to o2): resolve with o1, the offset in force before it, which gives the
  // latest of the candidates and moves the wall time forward by the gap.
  return Math.max(...[...offsets].map((off) => wall - off * MINUTE_MS));
}

/** Bounds of night D: [local noon D, local noon D+1) as epoch ms. */
export function nightBounds(night: string): { startMs: number; endMs: number } {
  return { startMs: localInstant(night, "12:00"), endMs: localInstant(addDays(night, 1), "12:00") };
}

/** Local wall time "HH:MM" at `tsMs` (for labels and previews). */
export function localHhmm(tsMs: number): string {
  const local = tsMs + utcOffsetMin(tsMs) * MINUTE_MS;
  return new Date(Math.floor(local / MINUTE_MS) * MINUTE_MS).toISOString().slice(11, 16);
}

/** Local ISO-8601 timestamp with its offset, "2026-02-15T02:30:00+00:00" (for previews and explanations). */
export function localIso(tsMs: number): string {
  const off = utcOffsetMin(tsMs);
  const local = new Date(tsMs + off * MINUTE_MS).toISOString().slice(0, 19);
  const sign = off < 0 ? "-" : "+";
  const abs = Math.abs(off);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}
