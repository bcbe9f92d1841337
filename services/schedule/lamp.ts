// A lamp's schedule from its calendar document: the level in effect at any instant, the switches between two
// instants, and why (which night, which rule, which program). Used by the simulated lamps per reading, by the
// preview and device-schedule endpoints, and by compliance (through expected.ts).
//
// Each night D is resolved once and cached: its own switches (NightData), and a Track over the switches of
// D−1, D and D+1 merged in time order (a night's first points continue the previous night's last level, and a
// point with a large offset may fall outside its own night's noon-to-noon window). The chain of ramps starts
// from the final level of D−2; ramps last at most an hour, so any two overlapping tracks agree.
import type { CalendarDocument } from "../contract/schedule.ts";
import { matchNight, type RuleMatch } from "./calendar.ts";
import { nightSwitches, type Switch } from "./program.ts";
import type { Site } from "./sun.ts";
import { buildTrack, type Track, trackBreakpoints, trackFinal, trackLevel } from "./track.ts";
import { addDays, nightBounds, nightOf } from "./zone.ts";

export type LampSwitch = Switch & { night: string; programId: string };

export type LampSchedule = {
  /** Program level at `tsMs`, ramps included. */
  levelAt(tsMs: number): number;
  /** Switches with fromMs ≤ at < toMs, in time order. */
  switchesBetween(fromMs: number, toMs: number): LampSwitch[];
  /** The night `tsMs` belongs to and the calendar's choice for it. */
  explain(tsMs: number): { night: string } & RuleMatch;
};

/** What expected.ts needs beyond the public API: left limits and the instants where the level bends. */
export type LampScheduleDetail = LampSchedule & {
  /** Level just before `tsMs` (before a switch at exactly tsMs takes effect). */
  levelBefore(tsMs: number): number;
  /** Appends switch instants and ramp ends in (fromMs, toMs] to `into`. */
  breakpoints(fromMs: number, toMs: number, into: number[]): void;
};

type NightData = { night: string; match: RuleMatch; switches: LampSwitch[] };
type NightTrack = { night: string; startMs: number; endMs: number; track: Track };

/** More nights than any preview or compliance window asks for at once (a guard against runaway loops). */
export const MAX_NIGHTS_PER_QUERY = 400;
const NIGHT_CACHE = 12;
const TRACK_CACHE = 6;

function remember<V>(cache: Map<string, V>, key: string, value: V, max: number): V {
  if (cache.size >= max) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, value);
  return value;
}

function nightsSpanned(fromMs: number, toMs: number): string[] {
  const nights: string[] = [];
  const last = nightOf(toMs);
  for (let n = nightOf(fromMs); n <= last; n = addDays(n, 1)) {
    nights.push(n);
    if (nights.length > MAX_NIGHTS_PER_QUERY)
      throw new RangeError(`toMs: the window spans more than ${MAX_NIGHTS_PER_QUERY} nights`);
  }
  return nights;
}

/** Throws naming the missing program: a document that passed the contract schema never does. */
function assertPrograms(doc: CalendarDocument): void {
  const named = [doc.default_program, ...doc.rules.map((r) => r.program)];
  for (const id of named) {
    const p = doc.programs[id];
    if (!p || p.switch_points.length === 0)
      throw new Error(`programs.${id}: is named by the calendar but missing or without switch points`);
  }
}

export function createLampSchedule(doc: CalendarDocument, site: Site): LampScheduleDetail {
  assertPrograms(doc);
  const nights = new Map<string, NightData>();
  const tracks = new Map<string, NightTrack>();
  let current: NightTrack | undefined;

  const nightData = (night: string): NightData => {
    const hit = nights.get(night);
    if (hit) return hit;
    const match = matchNight(doc, night);
    const program = doc.programs[match.programId];
    if (!program) throw new Error(`programs.${match.programId}: is named by the calendar but missing`);
    const switches = nightSwitches(program.switch_points, night, site).map((s) => ({
      ...s,
      night,
      programId: match.programId,
    }));
    return remember(nights, night, { night, match, switches }, NIGHT_CACHE);
  };

  const trackOf = (night: string): NightTrack => {
    const hit = tracks.get(night);
    if (hit) return hit;
    const prev = nightData(addDays(night, -1)).switches;
    const own = nightData(night).switches;
    const next = nightData(addDays(night, 1)).switches;
    // Concatenated night by night, a stable sort by instant keeps "later night, then later point" on ties.
    const merged = [...prev, ...own, ...next].sort((a, b) => a.at - b.at);
    const before = nightData(addDays(night, -2)).switches;
    const base = trackFinal(buildTrack(before, 0));
    const { startMs, endMs } = nightBounds(night);
    return remember(tracks, night, { night, startMs, endMs, track: buildTrack(merged, base) }, TRACK_CACHE);
  };

  const trackAt = (tsMs: number): NightTrack => {
    if (current && tsMs >= current.startMs && tsMs < current.endMs) return current;
    current = trackOf(nightOf(tsMs));
    return current;
  };

  return {
    levelAt: (tsMs) => trackLevel(trackAt(tsMs).track, tsMs),
    levelBefore: (tsMs) => trackLevel(trackAt(tsMs).track, tsMs, true),
    breakpoints(fromMs, toMs, into) {
      if (!(toMs >= fromMs)) throw new RangeError("toMs: must not be before fromMs");
      // Night by night from the one holding fromMs (usually the cached current one: a grace window is minutes).
      let nt = trackAt(fromMs);
      for (let n = 0; ; n++) {
        trackBreakpoints(nt.track, fromMs, toMs, into);
        if (toMs < nt.endMs) return;
        if (n >= MAX_NIGHTS_PER_QUERY)
          throw new RangeError(`toMs: the window spans more than ${MAX_NIGHTS_PER_QUERY} nights`);
        nt = trackOf(addDays(nt.night, 1));
      }
    },
    switchesBetween(fromMs, toMs) {
      if (!(toMs >= fromMs)) throw new RangeError(`toMs: must not be before fromMs`);
      const spanned = nightsSpanned(fromMs, toMs);
      const out: LampSwitch[] = [];
      // One night either side: a point with a large offset can fall outside its own night's window.
      for (const night of [
        addDays(spanned[0] as string, -1),
        ...spanned,
        addDays(spanned.at(-1) as string, 1),
      ])
        for (const s of nightData(night).switches) if (s.at >= fromMs && s.at < toMs) out.push(s);
      return out.sort((a, b) => a.at - b.at);
    },
    explain(tsMs) {
      const night = trackAt(tsMs).night;
      return { night, ...nightData(night).match };
    },
  };
}
