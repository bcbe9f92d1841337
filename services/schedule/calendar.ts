// Which program a calendar names for one night (TALQ calendar: ordered rules, first match wins, else the default
// program). Rules are matched against the operating day D of the night [noon D, noon D+1), so "the night of
// Saturday 28 November" is the one that starts that evening (contract/schedule.ts).
import type { CalendarDocument, CalendarRule } from "../contract/schedule.ts";
import { assertDate, weekdayOf } from "./zone.ts";

export type RuleMatch = { programId: string; ruleIndex: number | null; ruleName: string | null };

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** True when the nth (n = −1: last) given weekday of D's month is D. */
function isNthWeekday(night: string, rule: NonNullable<CalendarRule["nth_weekday"]>): boolean {
  const year = Number(night.slice(0, 4));
  const month = Number(night.slice(5, 7));
  const day = Number(night.slice(8, 10));
  if (rule.months && !rule.months.includes(month)) return false;
  if (weekdayOf(night) !== rule.weekday) return false;
  if (rule.n === -1) return day + 7 > daysInMonth(year, month);
  return Math.ceil(day / 7) === rule.n;
}

/** Every condition a rule gives must hold for night D (contract: at least one is given). */
export function ruleMatches(rule: CalendarRule, night: string): boolean {
  // Dates compare as strings: both are zero-padded ISO dates.
  if (rule.from !== undefined && night < rule.from) return false;
  if (rule.to !== undefined && night > rule.to) return false;
  if (rule.weekdays && !rule.weekdays.includes(weekdayOf(night))) return false;
  if (rule.nth_weekday && !isNthWeekday(night, rule.nth_weekday)) return false;
  if (rule.dates && !rule.dates.includes(night)) return false;
  return true;
}

/** The program for night D: the first rule that matches, else the default program. */
export function matchNight(
  cal: Pick<CalendarDocument, "rules" | "default_program">,
  night: string,
): RuleMatch {
  // The string comparisons below rely on a well-formed date.
  assertDate(night, "night");
  for (const [i, rule] of cal.rules.entries())
    if (ruleMatches(rule, night))
      return { programId: rule.program, ruleIndex: i, ruleName: rule.name ?? null };
  return { programId: cal.default_program, ruleIndex: null, ruleName: null };
}
