// The sun's altitude at a station's own position (suncalc), for the air-quality model's ozone photochemistry.
// Sunrise and sunset for the streetlights' calendars are the schedule library's (services/schedule/sun.ts).
import * as SunCalc from "suncalc";
import type { Site } from "../services/schedule/sun.ts";

export type SunTracker = {
  /** Apparent sun altitude in degrees (suncalc 2: refraction-corrected). */
  altitude(tsMs: number): number;
};

export function createSunTracker(site: Site): SunTracker {
  return { altitude: (tsMs) => SunCalc.getPosition(new Date(tsMs), site.lat, site.lon).altitude };
}
