// The simulator's true savings figures (simulators/truth-figures.ts) over a hand-made truth: the report's
// formulas worked out by hand, scopes, periods and the errors that name their field.
import { describe, expect, it } from "vitest";
import { districtNamed, type TruthFile, truthFigures } from "../../simulators/truth-figures.ts";
import { text } from "../../simulators/truth-report.ts";

const day = (energy_wh: number, dark_h: number, covered_h = 24, burn_h = dark_h) => ({
  energy_wh,
  dark_h,
  covered_h,
  burn_h,
});

// Two lamps in Anfa, one in Maarif. 2026-10-31 and 2026-11-01 are 24 h days (UTC+0 since 2026-09-20).
const TRUTH: TruthFile = {
  seed: "t",
  written_at: "2026-11-02T00:00:00.000Z",
  devices: [
    {
      id: "sl-anfa-0001",
      kind: "streetlight",
      district: "Anfa",
      led_watts: 100,
      legacy_watts: 295,
      days: { "2026-10-31": day(900, 12), "2026-11-01": day(1000, 12.5) },
    },
    {
      id: "sl-anfa-0002",
      kind: "streetlight",
      district: "Anfa",
      led_watts: 60,
      legacy_watts: 180,
      // Covered from 06:00 only on the 31st (the simulation started then).
      days: { "2026-10-31": day(400, 6, 18) },
    },
    {
      id: "sl-maarif-0001",
      kind: "streetlight",
      district: "Maarif",
      led_watts: 150,
      legacy_watts: 460,
      days: { "2026-10-31": day(1500, 12) },
    },
    { id: "aq-anfa-0001", kind: "airquality", district: "Anfa" },
  ],
};

describe("true figures", () => {
  it("applies the report's formulas to a district over a day", () => {
    const r = truthFigures(
      TRUTH,
      { kind: "district", name: "Anfa" },
      { from: "2026-10-31", to: "2026-10-31" },
    );
    if (!r.ok) throw new Error(r.message);
    // burning: 12 + 6 = 18 h. baseline: 295·12 + 180·6 = 3540 + 1080 = 4620 Wh. reporting: 900 + 400 = 1300 Wh.
    // savings 3320 Wh = 71.86 %. retrofit: (295−100)·12 + (180−60)·6 = 2340 + 720 = 3060 Wh.
    // dimming: 100·12 + 60·6 − 1300 = 1560 − 1300 = 260 Wh (retrofit + dimming = savings).
    expect(r.lamps).toBe(2);
    expect(r.totals.burning_h).toBeCloseTo(18, 9);
    expect(r.totals.baseline_kwh).toBeCloseTo(4.62, 9);
    expect(r.totals.reporting_kwh).toBeCloseTo(1.3, 9);
    expect(r.totals.savings_kwh).toBeCloseTo(3.32, 9);
    expect(r.totals.savings_pct).toBeCloseTo((100 * 3320) / 4620, 9);
    expect(r.totals.retrofit_savings_kwh).toBeCloseTo(3.06, 9);
    expect(r.totals.dimming_savings_kwh).toBeCloseTo(0.26, 9);
    expect(r.totals.covered_h).toBe(42);
    expect(r.totals.lamp_h).toBe(48);
    expect(r.uncovered).toEqual([{ id: "sl-anfa-0002", day: "2026-10-31", covered_h: 18 }]);
  });

  it("sums the city per district, and says which lamp-days the simulation did not cover", () => {
    const r = truthFigures(TRUTH, { kind: "city" }, { from: "2026-10-31", to: "2026-11-01" });
    if (!r.ok) throw new Error(r.message);
    expect(r.lamps).toBe(3);
    expect(r.districts.map((d) => [d.district, d.lamps])).toEqual([
      ["Anfa", 2],
      ["Maarif", 1],
    ]);
    // Maarif: 460·12 = 5520 Wh baseline, 1500 drawn. Anfa adds lamp 1's November day: 295·12.5 = 3687.5, 1000.
    expect(r.totals.baseline_kwh).toBeCloseTo(4.62 + 3.6875 + 5.52, 9);
    expect(r.totals.reporting_kwh).toBeCloseTo(1.3 + 1 + 1.5, 9);
    expect(r.uncovered.map((u) => `${u.id} ${u.day}`)).toEqual([
      "sl-anfa-0002 2026-10-31",
      "sl-anfa-0002 2026-11-01",
      "sl-maarif-0001 2026-11-01",
    ]);
    const out = text(r, "test", true);
    expect(out).toContain("Simulator truth for the city, 2026-10-31 to 2026-11-01 (2 days");
    expect(out).toMatch(/baseline\s+13\.828 kWh/);
    expect(out).toContain("sl-anfa-0002 2026-11-01: 0.00 h");
  });

  it("refuses a lamp it does not know and a scope without streetlights", () => {
    const period = { from: "2026-10-31", to: "2026-10-31" };
    expect(truthFigures(TRUTH, { kind: "lamp", id: "sl-x" }, period)).toMatchObject({
      ok: false,
      field: "lamp",
      reason: "unknown",
    });
    expect(truthFigures(TRUTH, { kind: "district", name: "Anfa " }, period)).toMatchObject({
      ok: false,
      field: "district",
      reason: "empty",
    });
  });

  it("finds a district by any spelling", () => {
    expect(districtNamed("ben-msick")).toBe("Ben M'Sick");
    expect(districtNamed("SIDI MAAROUF")).toBe("Sidi Maarouf");
    expect(districtNamed("Atlantis")).toBeUndefined();
  });
});
