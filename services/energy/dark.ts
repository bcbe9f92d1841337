// Burning (dark) time at a lamp: the astronomical night, standard sunset → standard sunrise at the lamp's own
// position (IPMVP baseline hours "dusk to dawn at the pole's location", shared/DOMAIN.md). Night D runs from the
// sunset of D to the sunrise of D+1 (services/schedule/sun.ts sunEvents), so within local day D the dark time is
// [start of D, sunrise of night D−1) ∪ [sunset of night D, start of D+1).
//
// The roller asks for the dark seconds of every interval between two readings (millions per cycle), so each
// night's events are computed once per calendar and kept in a map keyed by the night's day number.

import { type Site, sunEvents } from "../schedule/sun.ts";
import { addDays, assertDate, utcOffsetMin } from "../schedule/zone.ts";
import { dayStart } from "./days.ts";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Dark seconds within [fromMs, toMs) at one site (0 when toMs ≤ fromMs). */
export type DarkCalendar = { darkSeconds(fromMs: number, toMs: number): number };

/** Local calendar day number (days since 1970-01-01 in local time) at an instant. */
function localDayNumber(tsMs: number): number {
  return Math.floor((tsMs + utcOffsetMin(tsMs) * MINUTE_MS) / DAY_MS);
}

function dateOfDayNumber(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

function assertSite(site: Site): void {
  // sunEvents checks the range too, but only on first use; a bad site should fail where the calendar is made.
  if (!(Number.isFinite(site.lat) && site.lat >= -90 && site.lat <= 90))
    throw new RangeError(`site.lat: must be a latitude in degrees within [-90, 90], got ${site.lat}`);
  if (!(Number.isFinite(site.lon) && site.lon >= -180 && site.lon <= 180))
    throw new RangeError(`site.lon: must be a longitude in degrees within [-180, 180], got ${site.lon}`);
}

/** A lamp's dark calendar; sun events are cached per night for the calendar's lifetime (about 100 B a night). */
export function createDarkCalendar(site: Site): DarkCalendar {
  assertSite(site);
  const site0: Site = { lat: site.lat, lon: site.lon };
  // Flat cache: sunset at [2k], sunrise at [2k+1] for night number k (local day number of its sunset's date).
  const nights = new Map<number, number>();
  const sunsetOf = (n: number): number => {
    const hit = nights.get(2 * n);
    if (hit !== undefined) return hit;
    const ev = sunEvents(dateOfDayNumber(n), site0);
    nights.set(2 * n, ev.sunset);
    nights.set(2 * n + 1, ev.sunrise);
    return ev.sunset;
  };
  const sunriseOf = (n: number): number => {
    sunsetOf(n);
    return nights.get(2 * n + 1) as number;
  };
  return {
    darkSeconds(fromMs, toMs) {
      if (!(toMs > fromMs)) return 0;
      // Night n−1 of the first day ends at its sunrise inside day n; nights after the last day start after toMs.
      const first = localDayNumber(fromMs) - 1;
      const last = localDayNumber(toMs);
      let ms = 0;
      for (let n = first; n <= last; n++) {
        const a = Math.max(fromMs, sunsetOf(n));
        const b = Math.min(toMs, sunriseOf(n));
        if (b > a) ms += b - a;
      }
      return ms / 1000;
    },
  };
}

/** Dark hours of local day `date` at `site` (for reports and checks; the roller uses a calendar). */
export function darkHoursOfDay(site: Site, date: string): number {
  assertDate(date, "date");
  return createDarkCalendar(site).darkSeconds(dayStart(date), dayStart(addDays(date, 1))) / 3600;
}
