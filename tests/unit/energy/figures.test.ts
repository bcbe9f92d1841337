// The report's arithmetic (services/energy/figures.ts) on sums worked out by hand: IPMVP savings = baseline −
// reporting = retrofit + dimming, cost and CO2, hours, rounding at output only.
import { describe, expect, it } from "vitest";
import {
  addSums,
  energyFigures,
  percentOf,
  rawFigures,
  round,
  ZERO_SUMS,
} from "../../../services/energy/figures.ts";

const PRICES = { tariffMadPerKwh: 1.28, gridKgCo2PerKwh: 0.7 };

// Lamp A over one local day: a 295 W legacy lamp replaced by a 90 W LED, 12 h of night (43,200 s), metered the
// whole day (86,400 s), 810 Wh drawn (the calendar dimmed it).
const A = {
  ...ZERO_SUMS,
  darkS: 43_200,
  legacyDarkWs: 295 * 43_200, // 12,744,000 W·s = 3.54 kWh
  ledDarkWs: 90 * 43_200, // 3,888,000 W·s = 1.08 kWh
  meteredWh: 810,
  meteredS: 86_400,
};
// Lamp B the same day: 170 W legacy, 60 W LED; only 6 h of its night have data (21,600 s); 100 Wh metered over
// 30,000 s, 150 Wh estimated over 13,200 s; in service 86,400 s, so 86,400 − 30,000 − 13,200 = 43,200 s missing.
const B = {
  darkS: 21_600,
  legacyDarkWs: 170 * 21_600, // 3,672,000 W·s = 1.02 kWh
  ledDarkWs: 60 * 21_600, // 1,296,000 W·s = 0.36 kWh
  meteredWh: 100,
  estimatedWh: 150,
  meteredS: 30_000,
  estimatedS: 13_200,
};

describe("energyFigures", () => {
  it("one lamp over one night", () => {
    // baseline 3.54; reporting 0.81; savings 2.73 = retrofit (295 − 90) × 12 h = 2.46 + dimming 1.08 − 0.81 = 0.27;
    // 2.73 / 3.54 = 77.1186 %; 2.73 × 1.28 = 3.4944 MAD; 2.73 × 0.7 / 1000 = 0.001911 t.
    expect(energyFigures(A, 0, PRICES)).toEqual({
      burning_h: 12,
      baseline_kwh: 3.54,
      metered_kwh: 0.81,
      estimated_kwh: 0,
      reporting_kwh: 0.81,
      savings_kwh: 2.73,
      savings_pct: 77.12,
      retrofit_savings_kwh: 2.46,
      dimming_savings_kwh: 0.27,
      savings_mad: 3.49,
      savings_t_co2: 0.0019,
      metered_h: 24,
      estimated_h: 0,
      missing_h: 0,
    });
  });

  it("two lamps summed, with estimated and missing hours", () => {
    // burning 64,800 s = 18 h; baseline 3.54 + 1.02 = 4.56; LED 1.08 + 0.36 = 1.44; reporting 0.91 + 0.15 = 1.06;
    // savings 3.5 = retrofit 3.12 + dimming 0.38; 3.5 / 4.56 = 76.7544 %; 4.48 MAD; 3.5 × 0.7 / 1000 = 0.00245 t
    // → 0.0025 (half away from zero, though 3.5 × 0.7 is 2.4499999999999997 in binary);
    // metered 116,400 s = 32.333 h, estimated 13,200 s = 3.667 h, missing 43,200 s = 12 h.
    const sums = addSums(A, B);
    expect(energyFigures(sums, 43_200, PRICES)).toEqual({
      burning_h: 18,
      baseline_kwh: 4.56,
      metered_kwh: 0.91,
      estimated_kwh: 0.15,
      reporting_kwh: 1.06,
      savings_kwh: 3.5,
      savings_pct: 76.75,
      retrofit_savings_kwh: 3.12,
      dimming_savings_kwh: 0.38,
      savings_mad: 4.48,
      savings_t_co2: 0.0025,
      metered_h: 32.33,
      estimated_h: 3.67,
      missing_h: 12,
    });
  });

  it("retrofit + dimming = savings = baseline − reporting before rounding", () => {
    const f = rawFigures(addSums(A, B), 0, PRICES);
    expect(f.retrofit_savings_kwh + f.dimming_savings_kwh).toBeCloseTo(f.savings_kwh, 12);
    expect(f.baseline_kwh - f.reporting_kwh).toBeCloseTo(f.savings_kwh, 12);
  });

  it("a lamp that drew more than its baseline has negative savings and dimming", () => {
    // 60 W legacy, 90 W LED at full power for 1 h of night: baseline 0.06, reporting 0.09, savings −0.03 (−50 %),
    // retrofit (60 − 90) × 1 h = −0.03, dimming 0.09 − 0.09 = 0.
    const f = energyFigures(
      {
        ...ZERO_SUMS,
        darkS: 3600,
        legacyDarkWs: 60 * 3600,
        ledDarkWs: 90 * 3600,
        meteredWh: 90,
        meteredS: 3600,
      },
      0,
      PRICES,
    );
    expect(f).toMatchObject({
      savings_kwh: -0.03,
      savings_pct: -50,
      retrofit_savings_kwh: -0.03,
      dimming_savings_kwh: 0,
      savings_mad: -0.04,
    });
  });

  it("no baseline: savings_pct is null; missing hours never go below 0", () => {
    const f = energyFigures({ ...ZERO_SUMS, meteredWh: 5, meteredS: 600 }, -10, PRICES);
    expect(f.savings_pct).toBeNull();
    expect(f.savings_kwh).toBe(-0.005);
    expect(f.missing_h).toBe(0);
  });

  it("cost and CO2 follow the prices given", () => {
    const f = energyFigures(A, 0, { tariffMadPerKwh: 2, gridKgCo2PerKwh: 0.5 });
    // 2.73 × 2 = 5.46 MAD; 2.73 × 0.5 / 1000 = 0.001365 t → 0.0014.
    expect([f.savings_mad, f.savings_t_co2]).toEqual([5.46, 0.0014]);
  });
});

describe("round", () => {
  it("halves away from zero, without binary artefacts or −0", () => {
    expect(round(1.005, 2)).toBe(1.01);
    expect(round(-1.005, 2)).toBe(-1.01);
    expect(round(2.675, 2)).toBe(2.68);
    expect(round(0.12345, 4)).toBe(0.1235);
    expect(round(1234567.8915, 3)).toBe(1234567.892);
    expect(Object.is(round(-0.0001, 2), 0)).toBe(true);
    expect(round(2.4449, 2)).toBe(2.44);
  });

  it("percentOf is null without a whole", () => {
    expect(percentOf(1, 3)).toBe(33.33);
    expect(percentOf(2, 3)).toBe(66.67);
    expect(percentOf(1, 0)).toBeNull();
  });
});
