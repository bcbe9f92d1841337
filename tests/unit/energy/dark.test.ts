// Burning (dark) hours at a lamp: sunset → sunrise at its position, cut into local days. Checked against an
// independent reckoning that shares neither sunEvents (suncalc getTimes) nor zone.ts: the day's bounds from luxon
// directly, and the sun's altitude from suncalc's getPosition sampled every minute; a minute is dark when the
// altitude at its middle is below the standard sunrise/sunset altitude, −0.833° geometric (NOAA's zenith 90.833°).
// suncalc 2 reports the APPARENT altitude in degrees: the geometric one plus Meeus's refraction (16.4), which it
// holds at its horizon value below 0°, R0 = 1.02′ / tan(10.26 / 5.10 °) = 29.04′ = 0.484°. Geometric −0.833° is
// therefore apparent −0.833° + R0 = −0.349° (comparing the apparent altitude with −0.833° would count the refraction
// twice and put each crossing about 110 s off). Each of the day's two crossings can be off by half a minute of
// sampling, so the two agree within 2 minutes, on ordinary days and on the 25-h and 23-h days of 2026.
import { DateTime } from "luxon";
import * as SunCalc from "suncalc";
import { describe, expect, it } from "vitest";
import { createDarkCalendar, darkHoursOfDay } from "../../../services/energy/dark.ts";
import { dayStart } from "../../../services/energy/days.ts";

const CASABLANCA = { lat: 33.573, lon: -7.59 };
const MINUTE_MS = 60_000;
const R0_DEG = 1.02 / 60 / Math.tan(((10.26 / 5.1) * Math.PI) / 180);
const DARK_BELOW_APPARENT_DEG = -0.833 + R0_DEG;

/** Dark minutes of a local day by sampling the sun's altitude, day bounds from luxon. */
function sampledDarkMinutes(date: string, site: { lat: number; lon: number }): number {
  const start = DateTime.fromISO(date, { zone: "Africa/Casablanca" }).startOf("day");
  const from = start.toMillis();
  const to = start.plus({ days: 1 }).toMillis();
  let dark = 0;
  for (let t = from; t < to; t += MINUTE_MS)
    if (
      SunCalc.getPosition(new Date(t + MINUTE_MS / 2), site.lat, site.lon).altitude < DARK_BELOW_APPARENT_DEG
    )
      dark++;
  return dark;
}

describe("darkHoursOfDay at Casablanca", () => {
  it.each([
    "2026-01-10", // winter, UTC+1
    "2026-02-15", // 25 h: clocks back at 03:00
    "2026-03-22", // 23 h: clocks on at 02:00
    "2026-06-21", // shortest night
    "2026-09-20", // 25 h, UTC+0 for good after it
    "2026-12-21", // longest night
  ])("%s agrees with minute-sampled sun altitude within 2 minutes", (date) => {
    const minutes = darkHoursOfDay(CASABLANCA, date) * 60;
    expect(Math.abs(minutes - sampledDarkMinutes(date, CASABLANCA))).toBeLessThanOrEqual(2);
  });

  it("adds the morning of night D−1 and the evening of night D (2026-01-10, times printed once from sunEvents)", () => {
    // Sunrise 2026-01-10 08:35:22.919 local, sunset 18:40:37.757 local:
    // 8 h 35 min 22.919 s + (24:00 − 18:40:37.757 = 5 h 19 min 22.243 s) = 13 h 54 min 45.162 s = 50,085.162 s.
    expect(darkHoursOfDay(CASABLANCA, "2026-01-10") * 3600).toBeCloseTo(50_085.162, 2);
  });

  it("differs between the east and the west of the city by the sun's minutes", () => {
    // 0.3° of longitude further west: the sun rises and sets 1.2 min later; the day's dark time barely changes,
    // but an evening stretch does: 17:00–20:00 local holds 1.2 min less darkness in the west.
    const east = createDarkCalendar(CASABLANCA);
    const west = createDarkCalendar({ lat: CASABLANCA.lat, lon: CASABLANCA.lon - 0.3 });
    const from = dayStart("2026-01-10") + 17 * 3_600_000;
    const to = from + 3 * 3_600_000;
    expect(east.darkSeconds(from, to) - west.darkSeconds(from, to)).toBeCloseTo(72, -1);
  });
});

describe("createDarkCalendar", () => {
  const cal = createDarkCalendar(CASABLANCA);

  it("is additive over any cut and zero over an empty or daylight interval", () => {
    const from = dayStart("2026-01-08") + 5 * 3_600_000;
    const to = dayStart("2026-01-12") + 20 * 3_600_000;
    const whole = cal.darkSeconds(from, to);
    for (const cut of [from + 1, from + 7_777_777, dayStart("2026-01-10"), to - 1])
      expect(cal.darkSeconds(from, cut) + cal.darkSeconds(cut, to)).toBeCloseTo(whole, 6);
    expect(cal.darkSeconds(to, to)).toBe(0);
    expect(cal.darkSeconds(to, from)).toBe(0);
    const noon = dayStart("2026-01-10") + 12 * 3_600_000;
    expect(cal.darkSeconds(noon, noon + 3_600_000)).toBe(0);
  });

  it("sums whole days to the days' dark hours", () => {
    const days = ["2026-01-10", "2026-01-11", "2026-01-12"];
    const sum = days.reduce((s, d) => s + darkHoursOfDay(CASABLANCA, d), 0);
    expect(cal.darkSeconds(dayStart("2026-01-10"), dayStart("2026-01-13")) / 3600).toBeCloseTo(sum, 9);
  });

  it("refuses a site off the globe and a bad date, naming the field", () => {
    expect(() => createDarkCalendar({ lat: 33.5, lon: 200 })).toThrow(/site\.lon/);
    expect(() => createDarkCalendar({ lat: Number.NaN, lon: 0 })).toThrow(/site\.lat/);
    expect(() => darkHoursOfDay(CASABLANCA, "10/01/2026")).toThrow(/date: must be a date YYYY-MM-DD/);
  });
});
