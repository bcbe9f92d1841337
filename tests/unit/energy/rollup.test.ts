// rollLamp over short intervals (dt ≤ gapS): a lamp over one night, meter resets, a short gap, an implausible
// increase, and an interval across local midnight. Every expected number is worked out in the comments; the lamp,
// the fake nights (dark 18:00–07:00) and the 32.5 Wh plausibility bound per 900 s are in rollup-fixtures.ts.
import { describe, expect, it } from "vitest";
import { rollLamp } from "../../../services/energy/rollup.ts";
import {
  expectRows,
  FAKE_DARK,
  LAMP,
  local,
  modelReadings,
  NO_ESTIMATOR,
  OPTIONS,
  reading,
  row,
} from "./rollup-fixtures.ts";

const roll = (
  prev: Parameters<typeof rollLamp>[0]["prev"],
  readings: Parameters<typeof rollLamp>[0]["readings"],
) => rollLamp({ prev, readings, lamp: LAMP, options: OPTIONS, estimator: NO_ESTIMATOR, dark: FAKE_DARK });

describe("rollLamp: a lamp over one night", () => {
  // Readings every 900 s from 2026-01-10 17:00 to 2026-01-11 09:00 local (65 readings, 64 intervals), meter at
  // 1000 Wh at 17:00. The lamp burns at 100 W from 18:00 to 07:00 and draws 1 W standby otherwise.
  // 2026-01-10: intervals starting 17:00 … 23:45 (28; the last ends at midnight): 4 standby (17:00–18:00) = 4 × 0.25
  //   = 1 Wh, 24 lit (18:00–24:00) = 24 × 25 = 600 Wh → 601 Wh over 7 h = 25,200 s; dark 18:00–24:00 = 21,600 s;
  //   lit (the reading opening the interval at 100 %) the same 21,600 s; readings 17:00 … 23:45 = 28.
  // 2026-01-11: intervals starting 00:00 … 08:45 (36): 28 lit (00:00–07:00) = 700 Wh, 8 standby = 2 Wh → 702 Wh
  //   over 9 h = 32,400 s; dark and lit 00:00–07:00 = 25,200 s; readings 00:00 … 09:00 = 37.
  const readings = modelReadings(local("2026-01-10T17:00"), local("2026-01-11T09:00"));

  it("meters every interval and splits the night at local midnight", () => {
    expect(readings).toHaveLength(65);
    const { days, last } = roll(undefined, readings);
    expectRows(days, [
      row("2026-01-10", {
        meteredWh: 601,
        meteredS: 25_200,
        darkS: 21_600,
        litS: 21_600,
        readings: 28,
        firstTs: local("2026-01-10T17:00"),
        lastTs: local("2026-01-10T23:45"),
      }),
      row("2026-01-11", {
        meteredWh: 702,
        meteredS: 32_400,
        darkS: 25_200,
        litS: 25_200,
        readings: 37,
        firstTs: local("2026-01-11T00:00"),
        lastTs: local("2026-01-11T09:00"),
      }),
    ]);
    // 1000 + 601 + 702 = 2303 Wh at 09:00: the cursor for the next pass.
    expect(last).toEqual(reading(local("2026-01-11T09:00"), 2303, 1, 0));
  });

  it("with Casablanca's real sun (the default dark calendar) only the dark seconds change", () => {
    // sunEvents at 33.573 N 7.59 W, printed once: sunset 2026-01-10 18:40:37.757 local, sunrise 2026-01-11
    // 08:35:17.861 local. Dark on the 10th: 24:00 − 18:40:37.757 = 5 h 19 min 22.243 s = 19,162.243 s; on the
    // 11th: 08:35:17.861 − 00:00 = 30,917.861 s (readings end at 09:00, before the next sunset).
    const { days } = rollLamp({
      prev: undefined,
      readings,
      lamp: LAMP,
      options: OPTIONS,
      estimator: NO_ESTIMATOR,
    });
    expect(days.get("2026-01-10")?.darkS).toBeCloseTo(19_162.243, 2);
    expect(days.get("2026-01-11")?.darkS).toBeCloseTo(30_917.861, 2);
    expect(days.get("2026-01-10")?.meteredWh).toBeCloseTo(601, 9);
    expect(days.get("2026-01-11")?.meteredWh).toBeCloseTo(702, 9);
  });

  it("rolls nothing but the reading itself for a lamp's first reading, and nothing at all without readings", () => {
    const first = reading(local("2026-01-10T20:00"), 5000, 100, 100);
    const one = roll(undefined, [first]);
    expectRows(one.days, [row("2026-01-10", { readings: 1, firstTs: first.ts, lastTs: first.ts })]);
    const none = roll(first, []);
    expect(none.days.size).toBe(0);
    expect(none.last).toBe(first);
  });
});

describe("rollLamp: meter resets", () => {
  const prev = reading(local("2026-01-10T20:00"), 5000, 100, 100);

  it("counts a flagged reset and an unflagged decrease, metering the energy since the restart", () => {
    // 20:00 → 20:15: 5025 − 5000 = 25 Wh.
    // 20:15 → 20:30: meter_reset, 20 Wh since the restart → 20 Wh metered, resets 1.
    // 20:30 → 20:45: 45 − 20 = 25 Wh.
    // 20:45 → 21:00: 3 < 45 without a flag: the meter restarted → 3 Wh, resets 2.
    // 21:00 → 21:15: 28 − 3 = 25 Wh.
    // Total 25 + 20 + 25 + 3 + 25 = 98 Wh over 5 × 900 = 4,500 s, all dark and lit.
    const readings = [
      reading(local("2026-01-10T20:15"), 5025, 100, 100),
      reading(local("2026-01-10T20:30"), 20, 100, 100, true),
      reading(local("2026-01-10T20:45"), 45, 100, 100),
      reading(local("2026-01-10T21:00"), 3, 100, 100),
      reading(local("2026-01-10T21:15"), 28, 100, 100),
    ];
    const { days, last } = roll(prev, readings);
    expectRows(days, [
      row("2026-01-10", {
        meteredWh: 98,
        meteredS: 4500,
        darkS: 4500,
        litS: 4500,
        readings: 5,
        resets: 2,
        firstTs: local("2026-01-10T20:15"),
        lastTs: local("2026-01-10T21:15"),
      }),
    ]);
    expect(last?.energyWh).toBe(28);
  });

  it("estimates from power when a restarted meter claims more than the lamp could draw", () => {
    // Flagged reset reading 500 Wh after 900 s > 32.5 Wh: not energy since the restart (a swapped meter with its
    // own count). Estimated from the power held: 100 W × 0.25 h = 25 Wh; still a reset.
    const { days } = roll(prev, [reading(local("2026-01-10T20:15"), 500, 100, 100, true)]);
    expectRows(days, [
      row("2026-01-10", {
        estimatedWh: 25,
        estimatedS: 900,
        darkS: 900,
        litS: 900,
        readings: 1,
        resets: 1,
        firstTs: local("2026-01-10T20:15"),
        lastTs: local("2026-01-10T20:15"),
      }),
    ]);
  });
});

describe("rollLamp: a short gap and an implausible increase", () => {
  it("meters a short gap (two readings lost, then exactly gapS) as one interval each, without counting a gap", () => {
    // 20:00 → 20:45 (2,700 s ≤ 3,600): 5075 − 5000 = 75 Wh ≤ 130 × 0.75 = 97.5 → metered.
    // 20:45 → 21:45 (3,600 s = gapS, still short): 100 Wh ≤ 130 → metered. 175 Wh over 6,300 s.
    const prev = reading(local("2026-01-10T20:00"), 5000, 100, 100);
    const { days } = roll(prev, [
      reading(local("2026-01-10T20:45"), 5075, 100, 100),
      reading(local("2026-01-10T21:45"), 5175, 100, 100),
    ]);
    expectRows(days, [
      row("2026-01-10", {
        meteredWh: 175,
        meteredS: 6300,
        darkS: 6300,
        litS: 6300,
        readings: 2,
        firstTs: local("2026-01-10T20:45"),
        lastTs: local("2026-01-10T21:45"),
      }),
    ]);
  });

  it("estimates an implausible increase from the power reported at its start; the bound itself is plausible", () => {
    // 20:00 → 20:15: +100 Wh > 32.5 → estimated: 80 W × 0.25 h = 20 Wh.
    // 20:15 → 20:30: +32.5 Wh = the bound → metered 32.5 Wh. Both lit (80 % and 100 %) and dark.
    const prev = reading(local("2026-01-10T20:00"), 5000, 80, 80);
    const { days } = roll(prev, [
      reading(local("2026-01-10T20:15"), 5100, 100, 100),
      reading(local("2026-01-10T20:30"), 5132.5, 100, 100),
    ]);
    expectRows(days, [
      row("2026-01-10", {
        meteredWh: 32.5,
        meteredS: 900,
        estimatedWh: 20,
        estimatedS: 900,
        darkS: 1800,
        litS: 1800,
        readings: 2,
        firstTs: local("2026-01-10T20:15"),
        lastTs: local("2026-01-10T20:30"),
      }),
    ]);
  });
});

describe("rollLamp: an interval across local midnight", () => {
  it("splits energy and seconds in proportion to time on either side of 00:00 local (23:00 UTC)", () => {
    // 23:50 → 00:05 (900 s), +24 Wh: 600 s before midnight → 24 × 600/900 = 16 Wh, 300 s after → 8 Wh.
    // The 00:05 reading belongs to the 11th; the 10th gets energy and seconds but no reading.
    const prev = reading(local("2026-01-10T23:50"), 5000, 96, 100);
    const b = reading(local("2026-01-11T00:05"), 5024, 96, 100);
    expect(b.ts).toBe(Date.parse("2026-01-10T23:05:00Z"));
    const { days } = roll(prev, [b]);
    expectRows(days, [
      row("2026-01-10", { meteredWh: 16, meteredS: 600, darkS: 600, litS: 600 }),
      row("2026-01-11", {
        meteredWh: 8,
        meteredS: 300,
        darkS: 300,
        litS: 300,
        readings: 1,
        firstTs: b.ts,
        lastTs: b.ts,
      }),
    ]);
  });
});
