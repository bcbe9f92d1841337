// The lamps an auditor asks about (issue 5, "Completeness: … the lamps responsible"): those with estimated or
// missing lamp-hours in the period, worst first, each with the days that lack data and why in words: never
// reported, first reading on …, silent since …, gaps, meter restarts. Only the listed lamps (at most 100) are
// looked at day by day, so a city-wide report stays a couple of small queries.
import type { EnergyReport } from "../../contract/energy.ts";
import { roundTo } from "../../energy/figures.ts";
import type { Day, Interval } from "../../energy/service-window.ts";
import { windowSecondsByDay } from "../../energy/service-window.ts";
import { localDateOf, localHhmm } from "../../schedule/zone.ts";
import type { ReportQueries } from "./report-query.ts";

type Responsible = EnergyReport["completeness"]["responsible"][number];

/** Worst lamps listed (the contract's limit; every lamp is in `lamps` anyway). */
export const MAX_RESPONSIBLE = 100;
/** Days listed per lamp. */
export const MAX_MISSING_DAYS = 31;
/** A day lacks data when at least this much of it is missing: what shows as 0.01 h. */
const MIN_MISSING_S = 18;

export type LampCoverage = {
  id: string;
  district: string;
  /** In-service stretch within the period (up to now); null when none. */
  window: Interval | null;
  estimatedS: number;
  missingS: number;
  gaps: number;
  resets: number;
};

const hours = (s: number) => roundTo.h(s / 3600);
const shown = (s: number) => hours(s).toFixed(2);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const localTime = (ms: number) => `${localDateOf(ms)} ${localHhmm(ms)}`;

/** Lamps with estimated or missing hours (as rounded for output), worst first: missing, then estimated, then id. */
export function worstLamps(lamps: readonly LampCoverage[]): LampCoverage[] {
  return lamps
    .filter((l) => hours(l.missingS) > 0 || hours(l.estimatedS) > 0)
    .sort((a, b) => b.missingS - a.missingS || b.estimatedS - a.estimatedS || (a.id < b.id ? -1 : 1));
}

/** The `why` of one lamp, from its coverage and the bounds of its readings. */
export function whyText(
  l: LampCoverage,
  missingDays: number,
  bounds: { firstTs: number | null; lastTs: number | null } | undefined,
  gapS: number,
): string {
  const what: string[] = [];
  if (hours(l.missingS) > 0) what.push(`${shown(l.missingS)} h missing on ${plural(missingDays, "day")}`);
  if (hours(l.estimatedS) > 0)
    what.push(`${shown(l.estimatedS)} h estimated from the reported power or the calendar's levels`);
  const causes: string[] = [];
  const first = bounds?.firstTs ?? null;
  const last = bounds?.lastTs ?? null;
  const slack = gapS * 1000;
  if (first === null && last === null) causes.push("never reported");
  else {
    if (first !== null && l.window && first > l.window.startMs + slack)
      causes.push(`first reading ${localTime(first)}`);
    if (last !== null && l.window && last < l.window.endMs - slack)
      causes.push(`silent since ${localTime(last)} (its last reading rolled up)`);
  }
  if (l.gaps > 0) causes.push(`${plural(l.gaps, "gap")} between readings longer than ${gapS} s`);
  if (l.resets > 0) causes.push(plural(l.resets, "meter restart"));
  return causes.length > 0 ? `${what.join(", ")}: ${causes.join("; ")}` : what.join(", ");
}

/** The responsible lamps of a report, worst first, at most MAX_RESPONSIBLE. */
export function responsibleLamps(input: {
  lamps: readonly LampCoverage[];
  days: readonly Day[];
  from: string;
  to: string;
  gapS: number;
  queries: Pick<ReportQueries, "coveredByLampDay" | "readingBounds">;
}): Responsible[] {
  const listed = worstLamps(input.lamps).slice(0, MAX_RESPONSIBLE);
  const ids = listed.map((l) => l.id);
  const covered = input.queries.coveredByLampDay(ids, input.from, input.to);
  const bounds = input.queries.readingBounds(ids);
  return listed.map((l) => {
    const byDay = covered.get(l.id);
    const missingDays: string[] = [];
    if (l.window)
      for (const [date, s] of windowSecondsByDay(l.window, input.days))
        if (s - (byDay?.get(date) ?? 0) >= MIN_MISSING_S) missingDays.push(date);
    return {
      id: l.id,
      district: l.district,
      estimated_h: hours(l.estimatedS),
      missing_h: hours(l.missingS),
      missing_days: missingDays.slice(0, MAX_MISSING_DAYS),
      why: whyText(l, missingDays.length, bounds.get(l.id), input.gapS),
    };
  });
}
