// Sunset and sunrise at a lamp's own position (issue 4: an astronomical clock per lamp). suncalc's getTimes()
// gives the standard sunrise/sunset (upper limb on the horizon, −0.833° for refraction and the solar
// semi-diameter), the definition NOAA's Solar Calculator uses; tests/unit/schedule/sun.test.ts checks it
// against the NOAA spreadsheet formulas for Casablanca to within two minutes.
//
// suncalc anchors on the solar day (transit) nearest to the date it is given, so asking with UTC noon of a
// calendar date yields that date's events for any longitude within ±180°.
import * as SunCalc from "suncalc";
import { addDays } from "./zone.ts";

export type Site = { lat: number; lon: number };

const DAY_MS = 86_400_000;
/** Standard sunrise/sunset altitude in degrees (suncalc's `sunrise`/`sunset` pair, NOAA's zenith 90.833°). */
export const SUN_HORIZON_DEG = -0.833;

function assertSite(site: Site): void {
  if (!Number.isFinite(site.lat) || site.lat < -90 || site.lat > 90)
    throw new RangeError(`site.lat: must be a latitude in degrees within [-90, 90], got ${site.lat}`);
  if (!Number.isFinite(site.lon) || site.lon < -180 || site.lon > 180)
    throw new RangeError(`site.lon: must be a longitude in degrees within [-180, 180], got ${site.lon}`);
}

type DayEvents = { sunrise: number; sunset: number; solarNoon: number };

/** One calendar date's events; polar day and night fall back to solar noon ± 12 h so a program stays ordered. */
function dayEvents(date: string, site: Site): DayEvents {
  const utcNoon = Date.parse(`${date}T12:00:00Z`);
  const t = SunCalc.getTimes(new Date(utcNoon), site.lat, site.lon);
  const solarNoon = t.solarNoon.getTime();
  if (t.sunrise && t.sunset) return { sunrise: t.sunrise.getTime(), sunset: t.sunset.getTime(), solarNoon };
  // Never sets: a zero-length night at solar midnight. Never rises: dark from solar noon to solar noon.
  if (t.alwaysUp) return { sunrise: solarNoon - DAY_MS / 2, sunset: solarNoon + DAY_MS / 2, solarNoon };
  return { sunrise: solarNoon, sunset: solarNoon, solarNoon };
}

/** Sunset of D and sunrise of D+1 at the site (epoch ms): the astronomical anchors of night D. */
export function sunEvents(night: string, site: Site): { sunset: number; sunrise: number } {
  assertSite(site);
  return { sunset: dayEvents(night, site).sunset, sunrise: dayEvents(addDays(night, 1), site).sunrise };
}

/**
 * True while the sun's upper limb is above the horizon at the site: between the standard sunrise and sunset of
 * the site's solar date, the same events as sunEvents (suncalc's getPosition gives an apparent, refraction-corrected
 * altitude in degrees, which is not the −0.833° geometric definition, so comparing it would shift both ends).
 */
export function isDaylight(tsMs: number, site: Site): boolean {
  assertSite(site);
  const solarDate = new Date(tsMs + (site.lon / 360) * DAY_MS).toISOString().slice(0, 10);
  const { sunrise, sunset } = dayEvents(solarDate, site);
  return tsMs >= sunrise && tsMs < sunset;
}
