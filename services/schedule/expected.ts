// The level a lamp should have had, from the platform's history (issue 4, compliance): the calendar documents
// it was sent, each counting from its rollout's created_at (FACTORY_CALENDAR, the lamp's built-in, before the
// first), and its overrides, already clipped by the slot rule (overrides.ts). At a calendar change the new
// calendar's level applies at once; an override's ramp starts from the level in effect just before its start
// (the lamp's current level, which may be a previous override's); when it ends the program applies again.
//
// The result is piecewise linear between breakpoints (switches, ramp ends, calendar changes, override bounds),
// so the extremes and the distance to a reported level over a grace window are exact from a few evaluations.
import { type CalendarDocument, FACTORY_CALENDAR } from "../contract/schedule.ts";
import { createLampSchedule, type LampScheduleDetail } from "./lamp.ts";
import type { Site } from "./sun.ts";
import { lastAtOrBefore } from "./track.ts";

export type OverrideSpan = { id: string; fromMs: number; untilMs: number; levelPct: number; rampMs: number };

export type ExpectedSource =
  | { kind: "calendar"; version: number; programId: string }
  | { kind: "override"; id: string };

export type ExpectedTimeline = {
  levelAt(tsMs: number): number;
  /** min and max expected level over [fromMs, toMs] (for the grace window). */
  rangeOver(fromMs: number, toMs: number): { min: number; max: number };
  /**
   * Smallest |level − expected(t)| for t in [fromMs, toMs]: 0 when the expected level passes through `level`
   * in the window. Unlike rangeOver it does not bridge a jump (100 → 50 never passed through 75).
   */
  distanceOver(fromMs: number, toMs: number, levelPct: number): number;
  sourceAt(tsMs: number): ExpectedSource;
};

export type ExpectedTimelineInput = {
  calendars: readonly { fromMs: number; doc: CalendarDocument }[];
  overrides: readonly OverrideSpan[];
  site: Site;
};

function validate(input: ExpectedTimelineInput): OverrideSpan[] {
  for (const [i, c] of input.calendars.entries()) {
    if (!Number.isFinite(c.fromMs)) throw new RangeError(`calendars.${i}.fromMs: must be a finite epoch ms`);
    const prev = input.calendars[i - 1];
    if (prev && c.fromMs < prev.fromMs)
      throw new RangeError(`calendars.${i}.fromMs: calendars must be sorted`);
  }
  const spans = input.overrides
    .map((o, i) => {
      if (!(Number.isFinite(o.fromMs) && Number.isFinite(o.untilMs)))
        throw new RangeError(`overrides.${i}: fromMs and untilMs must be finite epoch ms`);
      if (!(o.levelPct >= 0 && o.levelPct <= 100))
        throw new RangeError(`overrides.${i}.levelPct: must be within [0, 100], got ${o.levelPct}`);
      if (!(o.rampMs >= 0)) throw new RangeError(`overrides.${i}.rampMs: must not be negative`);
      return o;
    })
    .filter((o) => o.untilMs > o.fromMs)
    .sort((a, b) => a.fromMs - b.fromMs);
  for (let i = 1; i < spans.length; i++)
    if ((spans[i] as OverrideSpan).fromMs < (spans[i - 1] as OverrideSpan).untilMs)
      throw new RangeError(
        `overrides: ${(spans[i] as OverrideSpan).id} overlaps ${(spans[i - 1] as OverrideSpan).id}; clip them with clipOverrides first`,
      );
  return spans;
}

export function expectedTimeline(input: ExpectedTimelineInput): ExpectedTimeline {
  const spans = validate(input);
  const { site } = input;
  const calFrom = new Float64Array(input.calendars.map((c) => c.fromMs));
  const docs = [FACTORY_CALENDAR, ...input.calendars.map((c) => c.doc)];
  const schedules: (LampScheduleDetail | undefined)[] = [];
  const scheduleOf = (k: number): LampScheduleDetail => {
    const hit = schedules[k];
    if (hit) return hit;
    const made = createLampSchedule(docs[k] as CalendarDocument, site);
    schedules[k] = made;
    return made;
  };
  // Index into docs of the calendar in force at t (0 = factory); strict: the one in force just before t.
  const calendarAt = (t: number, strict: boolean) => lastAtOrBefore(calFrom, t, strict) + 1;
  const programLevel = (t: number, strict: boolean): number => {
    const s = scheduleOf(calendarAt(t, strict));
    return strict ? s.levelBefore(t) : s.levelAt(t);
  };

  const ovFrom = new Float64Array(spans.map((o) => o.fromMs));
  // The span in force at t (strict: just before t), or −1.
  const spanAt = (t: number, strict: boolean): number => {
    const i = lastAtOrBefore(ovFrom, t, strict);
    if (i < 0) return -1;
    const until = (spans[i] as OverrideSpan).untilMs;
    return (strict ? t <= until : t < until) ? i : -1;
  };
  const startLevel = new Float64Array(spans.length);
  const level = (t: number, strict: boolean): number => {
    const i = spanAt(t, strict);
    if (i < 0) return programLevel(t, strict);
    const o = spans[i] as OverrideSpan;
    const elapsed = t - o.fromMs;
    if (o.rampMs <= 0 || elapsed >= o.rampMs) return o.levelPct;
    const from = startLevel[i] as number;
    return from + ((o.levelPct - from) * elapsed) / o.rampMs;
  };
  // In start order, each ramp's starting level may be the previous override's (back-to-back replacement).
  for (const [i, o] of spans.entries()) startLevel[i] = level(o.fromMs, true);

  /** [from, breakpoints in (from, to] …] sorted and unique. */
  const cuts = (fromMs: number, toMs: number): number[] => {
    const into: number[] = [];
    const first = calendarAt(fromMs, false);
    const last = calendarAt(toMs, false);
    for (let k = first; k <= last; k++) scheduleOf(k).breakpoints(fromMs, toMs, into);
    for (let k = first; k < last; k++) into.push(calFrom[k] as number);
    // Spans do not overlap: those before the one in force at fromMs ended before it.
    for (let i = Math.max(0, lastAtOrBefore(ovFrom, fromMs, false)); i < spans.length; i++) {
      const o = spans[i] as OverrideSpan;
      if (o.fromMs > toMs) break;
      for (const b of [o.fromMs, o.untilMs, o.fromMs + o.rampMs]) if (b > fromMs && b <= toMs) into.push(b);
    }
    into.sort((a, b) => a - b);
    const out = [fromMs];
    for (const b of into) if (b !== out[out.length - 1]) out.push(b);
    return out;
  };

  /** Calls `piece(a, b)` with the values at both ends of each linear piece of [fromMs, toMs]. */
  const pieces = (fromMs: number, toMs: number, piece: (a: number, b: number) => boolean): void => {
    if (!(toMs >= fromMs)) throw new RangeError("toMs: must not be before fromMs");
    const c = cuts(fromMs, toMs);
    for (let k = 0; k < c.length; k++) {
      const start = c[k] as number;
      const next = c[k + 1];
      const end = next === undefined ? level(toMs, false) : level(next, true);
      if (!piece(level(start, false), end)) return;
    }
  };

  return {
    levelAt: (tsMs) => level(tsMs, false),
    rangeOver(fromMs, toMs) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      pieces(fromMs, toMs, (a, b) => {
        min = Math.min(min, a, b);
        max = Math.max(max, a, b);
        return true;
      });
      return { min, max };
    },
    distanceOver(fromMs, toMs, levelPct) {
      let best = Number.POSITIVE_INFINITY;
      pieces(fromMs, toMs, (a, b) => {
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        best = Math.min(best, levelPct < lo ? lo - levelPct : levelPct > hi ? levelPct - hi : 0);
        return best > 0;
      });
      return best;
    },
    sourceAt(tsMs) {
      const i = spanAt(tsMs, false);
      if (i >= 0) return { kind: "override", id: (spans[i] as OverrideSpan).id };
      const k = calendarAt(tsMs, false);
      const doc = docs[k] as CalendarDocument;
      return { kind: "calendar", version: doc.version, programId: scheduleOf(k).explain(tsMs).programId };
    },
  };
}
