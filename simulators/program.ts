// The dimming program a simulated streetlight follows (after TALQ: a calendar picks a program per night; a
// program switches levels at fixed local times and at sunset / sunrise with offsets). The arithmetic is the
// platform's own (services/schedule: nights from local noon to noon in Africa/Casablanca, suncalc at the
// lamp's own latitude and longitude, ramps), so a lamp and the compliance check agree on what "following the
// calendar" means. Until a calendar arrives a lamp follows its built-in FACTORY_CALENDAR: 100 % from sunset,
// 50 % from 00:00 to 05:00 local time, 100 % again until sunrise.
//
// A lamp changes calendar at an instant (when one arrives); readings are generated in time order but a backfill
// may still be producing the past when a calendar arrives, so the lamp keeps its calendars over time and each
// reading uses the one in effect at its timestamp.
import { type CalendarDocument, FACTORY_CALENDAR } from "../services/contract/schedule.ts";
import type { Site } from "../services/schedule/sun.ts";
import { createLampSchedule, type LampSchedule } from "../services/schedule/timeline.ts";

/** What `fleet.setProgram` installs: a calendar document, which each lamp follows at its own position. */
export type DimmingProgram = CalendarDocument;

export type ProgramTimeline = {
  /** The program's level (0–100 %) at `tsMs`, under the calendar in effect then. */
  levelAt(tsMs: number): number;
  /** Follows `doc` from `fromMs` on; calendars that would have started at or after it are dropped. */
  follow(doc: CalendarDocument, fromMs: number): void;
  /** Forgets calendars no reading at or after `tsMs` can need (readings only move forward). */
  forgetBefore(tsMs: number): void;
  /** The calendar in effect at `tsMs`. */
  calendarAt(tsMs: number): CalendarDocument;
};

type Entry = { fromMs: number; doc: CalendarDocument; schedule: LampSchedule };

export function createProgramTimeline(
  site: Site,
  initial: CalendarDocument = FACTORY_CALENDAR,
): ProgramTimeline {
  // Sorted by fromMs; the first entry starts at −∞. Usually one or two entries.
  let entries: Entry[] = [
    { fromMs: Number.NEGATIVE_INFINITY, doc: initial, schedule: createLampSchedule(initial, site) },
  ];
  const entryAt = (ts: number): Entry => {
    for (let i = entries.length - 1; i > 0; i--) {
      const e = entries[i] as Entry;
      if (e.fromMs <= ts) return e;
    }
    return entries[0] as Entry;
  };
  return {
    levelAt: (ts) => entryAt(ts).schedule.levelAt(ts),
    calendarAt: (ts) => entryAt(ts).doc,
    follow(doc, fromMs) {
      const kept = entries.filter((e) => e.fromMs < fromMs);
      const entry = { fromMs, doc, schedule: createLampSchedule(doc, site) };
      entries = kept.length === 0 ? [{ ...entry, fromMs: Number.NEGATIVE_INFINITY }] : [...kept, entry];
    },
    forgetBefore(ts) {
      while (entries.length > 1 && (entries[1] as Entry).fromMs <= ts) entries = entries.slice(1);
    },
  };
}
