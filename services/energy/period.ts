// The period of an energy report (issue 5; contract/energy.ts): a calendar text (a day 2026-10-05, an ISO week
// 2026-W41, a month 2026-10, a year 2026), a relative one (last-month …, resolved at `now` in Africa/Casablanca,
// weeks from Monday), or an inclusive range of local dates. A period is [00:00 local of `from`, 00:00 local of the
// day after `to`), so a month is the 1st 00:00 to the next 1st 00:00, whatever the clocks did in between.
// Refusals are values naming the query field at fault, for the route's 400.
import { ENERGY_TIME_ZONE, MAX_REPORT_DAYS, PERIOD_PATTERN, RELATIVE_PERIODS } from "../contract/energy.ts";
import { addDays, localDateOf } from "../schedule/zone.ts";
import { dayStart, daysBetween } from "./days.ts";

export type ReportPeriod = {
  /** First and last local date, inclusive. */
  from: string;
  to: string;
  days: number;
  /** [startMs, endMs): local midnight of `from` to local midnight after `to`. */
  startMs: number;
  endMs: number;
  /** The period reaches past now: only what has happened is counted. */
  partial: boolean;
  /** Short name for files: 2026, 2026-10, 2026-W41, 2026-10-05 or 2026-10-01_2026-10-15. */
  label: string;
};

export type PeriodInput = { period?: string | undefined; from?: string | undefined; to?: string | undefined };
export type PeriodRefusal = { ok: false; field: "period" | "from" | "to"; message: string };
export type PeriodResult = { ok: true; period: ReportPeriod } | PeriodRefusal;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WEEK_RE = /^(\d{4})-W(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;
const YEAR_RE = /^(\d{4})$/;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Whether `date` is a real calendar date (2026-02-30 is not). */
function isCalendarDate(date: string): boolean {
  const m = DAY_RE.exec(date);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const back = new Date(Date.UTC(y, mo - 1, d));
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d;
}

/** Monday = 0 … Sunday = 6. */
function weekdayIndex(date: string): number {
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
}

const mondayOf = (date: string) => addDays(date, -weekdayIndex(date));

/** Monday of ISO week 1: the week with the year's first Thursday, i.e. the one holding 4 January. */
const isoWeekOneMonday = (year: number) => mondayOf(`${pad(year, 4)}-01-04`);

/** ISO weeks in a year: 53 when 28 December (always in the last week) is in week 53, else 52. */
function isoWeeksIn(year: number): number {
  const lastMonday = mondayOf(`${pad(year, 4)}-12-28`);
  const diff = (Date.parse(lastMonday) - Date.parse(isoWeekOneMonday(year))) / 86_400_000;
  return diff / 7 + 1;
}

/** ISO week "YYYY-Www" of a date. */
export function isoWeekOf(date: string): string {
  // The ISO year is the year of the Thursday of the date's week.
  const thursday = addDays(mondayOf(date), 3);
  const year = Number(thursday.slice(0, 4));
  const week = (Date.parse(mondayOf(date)) - Date.parse(isoWeekOneMonday(year))) / (7 * 86_400_000) + 1;
  return `${pad(year, 4)}-W${pad(week)}`;
}

const lastDayOfMonth = (year: number, month: number) =>
  `${pad(year, 4)}-${pad(month)}-${pad(new Date(Date.UTC(year, month, 0)).getUTCDate())}`;

/** The file-name label of an inclusive range of local dates. */
export function periodLabel(from: string, to: string): string {
  if (from === to) return from;
  const [fy, fm] = [Number(from.slice(0, 4)), Number(from.slice(5, 7))];
  if (from === `${pad(fy, 4)}-01-01` && to === `${pad(fy, 4)}-12-31`) return String(fy);
  if (from.endsWith("-01") && to === lastDayOfMonth(fy, fm)) return from.slice(0, 7);
  if (weekdayIndex(from) === 0 && to === addDays(from, 6)) return isoWeekOf(from);
  return `${from}_${to}`;
}

/** A calendar or relative period text → its inclusive dates, or why not. */
function datesOf(text: string, today: string): { from: string; to: string } | string {
  const [y, m] = [Number(today.slice(0, 4)), Number(today.slice(5, 7))];
  const month = (year: number, mon: number) => ({
    from: `${pad(year, 4)}-${pad(mon)}-01`,
    to: lastDayOfMonth(year, mon),
  });
  const week = (monday: string) => ({ from: monday, to: addDays(monday, 6) });
  switch (text) {
    case "yesterday":
      return { from: addDays(today, -1), to: addDays(today, -1) };
    case "this-week":
      return week(mondayOf(today));
    case "last-week":
      return week(addDays(mondayOf(today), -7));
    case "this-month":
      return month(y, m);
    case "last-month":
      return m === 1 ? month(y - 1, 12) : month(y, m - 1);
    case "this-year":
      return { from: `${pad(y, 4)}-01-01`, to: `${pad(y, 4)}-12-31` };
    case "last-year":
      return { from: `${pad(y - 1, 4)}-01-01`, to: `${pad(y - 1, 4)}-12-31` };
  }
  if (!PERIOD_PATTERN.test(text))
    return `must be a day YYYY-MM-DD, a week YYYY-Www, a month YYYY-MM, a year YYYY or one of ${RELATIVE_PERIODS.join(", ")}`;
  if (DAY_RE.test(text))
    return isCalendarDate(text) ? { from: text, to: text } : `${text} is not a calendar date`;
  const w = WEEK_RE.exec(text);
  if (w) {
    const [year, n] = [Number(w[1]), Number(w[2])];
    const weeks = isoWeeksIn(year);
    if (n < 1 || n > weeks) return `${year} has ISO weeks 01 to ${weeks}`;
    return week(addDays(isoWeekOneMonday(year), (n - 1) * 7));
  }
  const mo = MONTH_RE.exec(text);
  if (mo) {
    const n = Number(mo[2]);
    if (n < 1 || n > 12) return `the month must be 01 to 12 (got ${mo[2]})`;
    return month(Number(mo[1]), n);
  }
  const yr = YEAR_RE.exec(text);
  if (yr) return { from: `${yr[1]}-01-01`, to: `${yr[1]}-12-31` };
  return "is not a period";
}

/**
 * The report's period at `nowMs`. A period may end in the future (this-month: partial) but not start after today;
 * at most MAX_REPORT_DAYS long.
 */
export function resolvePeriod(input: PeriodInput, nowMs: number): PeriodResult {
  const today = localDateOf(nowMs);
  let from: string;
  let to: string;
  let field: "period" | "from" = "period";
  if (input.period !== undefined) {
    const dates = datesOf(input.period, today);
    if (typeof dates === "string") return { ok: false, field: "period", message: dates };
    ({ from, to } = dates);
  } else if (input.from !== undefined && input.to !== undefined) {
    field = "from";
    if (!isCalendarDate(input.from))
      return { ok: false, field: "from", message: `${input.from} is not a calendar date YYYY-MM-DD` };
    if (!isCalendarDate(input.to))
      return { ok: false, field: "to", message: `${input.to} is not a calendar date YYYY-MM-DD` };
    if (input.to < input.from) return { ok: false, field: "to", message: "must not be before from" };
    ({ from, to } = input);
  } else return { ok: false, field: "period", message: "required (or from and to)" };

  if (from > today)
    return { ok: false, field, message: `starts on ${from}, after today (${today}, ${ENERGY_TIME_ZONE})` };
  // Calendar dates: UTC midnights are exactly a day apart.
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days > MAX_REPORT_DAYS)
    return { ok: false, field, message: `covers ${days} days; a report covers at most ${MAX_REPORT_DAYS}` };
  const startMs = dayStart(from);
  const endMs = dayStart(addDays(to, 1));
  return {
    ok: true,
    period: { from, to, days, startMs, endMs, partial: endMs > nowMs, label: periodLabel(from, to) },
  };
}

/** The local days of a period with their bounds, in order. */
export function periodDays(from: string, to: string): { date: string; startMs: number; endMs: number }[] {
  const dates = daysBetween(from, to);
  const starts = [...dates.map(dayStart), dayStart(addDays(to, 1))];
  return dates.map((date, i) => ({ date, startMs: starts[i] as number, endMs: starts[i + 1] as number }));
}
