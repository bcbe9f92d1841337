// Sun times at a pole's own position (suncalc), cached per solar day: a streetlight burns from sunset to
// sunrise. suncalc's getTimes() anchors on the solar day around the given instant, which runs from nadir
// (solar midnight) to the next nadir, so "dark" is simply before that day's sunrise or after its sunset.
import * as SunCalc from "suncalc";

const DAY_MS = 86_400_000;

export type Site = { readonly lat: number; readonly lon: number };

export type SunTracker = {
  /** True between sunset and sunrise at the site. */
  isDark(tsMs: number): boolean;
  /** Sun altitude in degrees (for ozone photochemistry). */
  altitude(tsMs: number): number;
  /** Sunrise and sunset (epoch ms) of the solar day containing `tsMs`. */
  times(tsMs: number): { sunrise: number; sunset: number; nadir: number };
};

export function createSunTracker(site: Site): SunTracker {
  let cached: { sunrise: number; sunset: number; nadir: number } | undefined;
  const times = (tsMs: number) => {
    if (cached && tsMs >= cached.nadir && tsMs < cached.nadir + DAY_MS) return cached;
    const t = SunCalc.getTimes(new Date(tsMs), site.lat, site.lon);
    // Casablanca has a sunrise and a sunset every day; the fallbacks only keep the types honest.
    const nadir = t.nadir.getTime();
    cached = {
      nadir,
      sunrise: t.sunrise?.getTime() ?? nadir + DAY_MS / 4,
      sunset: t.sunset?.getTime() ?? nadir + (3 * DAY_MS) / 4,
    };
    return cached;
  };
  return {
    times,
    isDark(tsMs) {
      const t = times(tsMs);
      return tsMs < t.sunrise || tsMs >= t.sunset;
    },
    altitude: (tsMs) => SunCalc.getPosition(new Date(tsMs), site.lat, site.lon).altitude,
  };
}
