// The simulator's own count of the astronomical night at a lamp, for the truth file (issue 5). The energy audit's
// baseline is legacy watts × burning hours, dusk to dawn at the pole's position (IPMVP, shared/DOMAIN.md); the
// platform gets its hours from the schedule library's sunset/sunrise (services/schedule/sun.ts, suncalc getTimes).
// To check the platform rather than repeat it, the truth measures the same night another way: the sun's altitude
// from suncalc getPosition, sampled every 5 minutes at the lamp's position, with the crossings of −0.833° (the
// standard sunrise/sunset altitude of the sun's centre, geometric: 34′ of refraction and 16′ of semi-diameter;
// NOAA's zenith 90.833°) interpolated linearly between samples. suncalc 2 gives the APPARENT altitude in degrees
// (its refraction, Meeus 16.4, added to the geometric one, flat below the horizon), so the refraction is taken
// off again before the comparison; comparing the apparent altitude with −0.833° would count the refraction twice
// and end each night minutes late. The two counts agree to within a second a night
// (tests/unit/sim-truth.test.ts).
//
// Sampling cost: the altitude changes by at most 15°/h (the Earth's rotation), 1.25° per 5-minute step, so a
// sample far from the horizon proves that the next ⌊distance / 1.25°⌋ samples lie on the same side: they are
// skipped without changing the result (the same grid, the same interpolation), about 30 samples a day instead of
// 288. That keeps a truth file of thousands of lamp-days cheap to write.
import * as SunCalc from "suncalc";
import type { Site } from "../services/schedule/sun.ts";

/** Sun altitude (degrees) below which it is night: the standard sunrise/sunset altitude. */
export const DARK_BELOW_DEG = -0.833;
/** Sampling step of the altitude, ms; samples sit on the epoch-aligned 5-minute grid. */
export const DARK_SAMPLE_MS = 5 * 60_000;
/** Most the altitude can change over one step, degrees (15°/h, plus a margin). */
const MAX_STEP_DEG = 1.3;
const DEG = 180 / Math.PI;

export type DarknessMeter = {
  /** Seconds of [fromMs, toMs) during which the sun's altitude, interpolated between samples, is below −0.833°. */
  darkSeconds(fromMs: number, toMs: number): number;
};

export type DarknessOptions = {
  /** Skip samples that cannot change the result (default true; false samples every step, for tests). */
  skip?: boolean;
};

export function createDarknessMeter(site: Site, opts: DarknessOptions = {}): DarknessMeter {
  if (!Number.isFinite(site.lat) || Math.abs(site.lat) > 90)
    throw new RangeError(`site.lat: must be a latitude in degrees within [-90, 90], got ${site.lat}`);
  if (!Number.isFinite(site.lon) || Math.abs(site.lon) > 180)
    throw new RangeError(`site.lon: must be a longitude in degrees within [-180, 180], got ${site.lon}`);
  const skip = opts.skip ?? true;
  // Relative altitude (degrees above the dark threshold) per grid index; consecutive days share samples.
  const cache = new Map<number, number>();
  const rel = (k: number): number => {
    let v = cache.get(k);
    if (v === undefined) {
      const apparent = SunCalc.getPosition(new Date(k * DARK_SAMPLE_MS), site.lat, site.lon).altitude;
      v = geometricDeg(apparent) - DARK_BELOW_DEG;
      if (cache.size > 20_000) cache.clear();
      cache.set(k, v);
    }
    return v;
  };
  return {
    darkSeconds(fromMs, toMs) {
      if (!Number.isFinite(fromMs) || !Number.isFinite(toMs))
        throw new RangeError(`fromMs/toMs: must be finite epoch ms, got ${fromMs}, ${toMs}`);
      if (toMs <= fromMs) return 0;
      let darkMs = 0;
      let k = Math.floor(fromMs / DARK_SAMPLE_MS);
      const last = Math.ceil(toMs / DARK_SAMPLE_MS);
      while (k < last) {
        const a = rel(k);
        // Samples k … k+n all lie on a's side (see the header); the stretch between them is all dark or all day.
        const n = skip ? Math.max(1, Math.min(last - k, Math.floor(Math.abs(a) / MAX_STEP_DEG))) : 1;
        if (n > 1) {
          if (a < 0) darkMs += overlap(k * DARK_SAMPLE_MS, (k + n) * DARK_SAMPLE_MS, fromMs, toMs);
          k += n;
          continue;
        }
        darkMs += darkInStep(k, a, rel(k + 1), fromMs, toMs);
        k++;
      }
      return darkMs / 1000;
    },
  };
}

/**
 * The geometric altitude whose apparent one is `apparentDeg`: solves h + R(h) = apparent, R the refraction of
 * Meeus 16.4 (Sæmundsson, 1.02′ / tan(h + 10.3 / (h + 5.11))) at max(h, 0) as suncalc applies it. R changes
 * slowly with h, so a few fixed-point steps converge to far below a second of arc.
 */
export function geometricDeg(apparentDeg: number): number {
  let h = apparentDeg;
  for (let i = 0; i < 6; i++) h = apparentDeg - refractionDeg(h);
  return h;
}

function refractionDeg(hDeg: number): number {
  const h = Math.max(0, hDeg) / DEG;
  return (0.0002967 / Math.tan(h + 0.00312536 / (h + 0.08901179))) * DEG;
}

/** Dark ms of the step [k, k+1) within [fromMs, toMs), the altitude linear between its ends a and b. */
function darkInStep(k: number, a: number, b: number, fromMs: number, toMs: number): number {
  const t0 = k * DARK_SAMPLE_MS;
  const t1 = t0 + DARK_SAMPLE_MS;
  if (a < 0 && b < 0) return overlap(t0, t1, fromMs, toMs);
  if (a >= 0 && b >= 0) return 0;
  // One crossing: at a + (b − a)·x = 0.
  const tc = t0 + (a / (a - b)) * DARK_SAMPLE_MS;
  return a < 0 ? overlap(t0, tc, fromMs, toMs) : overlap(tc, t1, fromMs, toMs);
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}
