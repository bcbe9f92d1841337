// The report's CSV bytes (services/energy/csv.ts): UTF-8 BOM, CRLF, the contract's header, fixed decimals with a
// point and no grouping, empty cells for null, quoting (RFC 4180) and the formula guard, the summary's
// key,value,unit rows, and file names from scope and period.
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import {
  ENERGY_CSV_COLUMNS,
  type EnergyFigures,
  type EnergyReport,
} from "../../../services/contract/energy.ts";
import { energyCsv, energyFileName, formatNumber, slug, summaryRows } from "../../../services/energy/csv.ts";

const figures = (over: Partial<EnergyFigures> = {}): EnergyFigures => ({
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
  ...over,
});

function report(): EnergyReport {
  return {
    scope: { kind: "district", id: "Ben M'Sick", name: "Ben M'Sick", lamps: 2 },
    period: {
      from: "2026-10-01",
      to: "2026-10-31",
      days: 31,
      time_zone: "Africa/Casablanca",
      start: "2026-10-01T00:00:00.000Z",
      end: "2026-11-01T00:00:00.000Z",
      partial: false,
    },
    generated_at: "2026-11-23T06:00:00.000Z",
    method: {
      protocol: "IPMVP Option B",
      baseline: 'legacy W × burning hours, "as registered"',
      reporting: "metered + estimated",
      savings: "baseline − reporting",
      burning_hours: "sunset → sunrise",
      coverage: { metered: "meter", estimated: "estimate", missing: "none" },
      tariff_mad_per_kwh: 1.28,
      tariff_source: "config",
      grid_kg_co2_per_kwh: 0.7,
      grid_factor_source: "query",
      gap_s: 3600,
      estimate_max_h: 72,
      wattages: [{ legacy_w: 295, led_w: 90, lamps: 2 }],
    },
    totals: figures({ baseline_kwh: 1234567.891, savings_kwh: 1234.5 }),
    completeness: {
      lamp_h: 1488,
      metered_pct: 98.39,
      estimated_pct: 0,
      missing_pct: 1.61,
      lamps_with_estimates: 0,
      lamps_with_missing: 1,
      responsible: [
        {
          id: "sl-bms-2",
          district: "Ben M'Sick",
          estimated_h: 0,
          missing_h: 24,
          missing_days: ["2026-10-30", "2026-10-31"],
          why: "24.00 h missing on 2 days: silent since 2026-10-30 00:00 (its last reading rolled up)",
        },
      ],
    },
    freshness: { computed_through: "2026-10-30T00:00:00.000Z", pending_lamps: 0 },
    series: [
      { date: "2026-10-01", lamps: 2, ...figures() },
      { date: "2026-10-02", lamps: 2, ...figures({ savings_pct: null, savings_kwh: -0.0004 }) },
    ],
    lamps: [
      {
        id: "sl-bms-1",
        district: "Ben M'Sick",
        legacy_w: 295,
        led_w: 90,
        ...figures(),
        lit_h: 11.5,
        meter_resets: 1,
        gaps: 0,
      },
      {
        id: '=HYPERLINK("x")',
        district: "Ben M'Sick",
        legacy_w: null,
        led_w: null,
        ...figures({ savings_pct: null }),
        lit_h: 0,
        meter_resets: 0,
        gaps: 3,
      },
    ],
  };
}

const BOM = "\uFEFF";

describe("energyCsv", () => {
  it("lamps: BOM, CRLF, the contract's header, fixed decimals, empty cells for null", () => {
    const csv = energyCsv(report(), "lamps");
    expect(csv.startsWith(BOM)).toBe(true);
    expect(Buffer.from(csv, "utf8").subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = csv.slice(1).split("\r\n");
    expect(lines.at(-1)).toBe("");
    expect(csv.slice(1).replace(/\r\n/g, "")).not.toContain("\n");
    expect(lines[0]).toBe(ENERGY_CSV_COLUMNS.lamps.map((c) => c.name).join(","));
    // legacy_w, led_w (1 place), 14 figures (kWh 3, h 2, % 2, MAD 2, t 4), lit_h, resets, gaps.
    expect(lines[1]).toBe(
      "sl-bms-1,Ben M'Sick,295.0,90.0,12.00,3.540,0.810,0.000,0.810,2.730,77.12,2.460,0.270,3.49,0.0019,24.00,0.00,0.00,11.50,1,0",
    );
    // A formula-like id is defused and quoted (it holds quotes); null wattages and percentage are empty cells.
    expect(lines[2]).toBe(
      '"\'=HYPERLINK(""x"")",Ben M\'Sick,,,12.00,3.540,0.810,0.000,0.810,2.730,,2.460,0.270,3.49,0.0019,24.00,0.00,0.00,0.00,0,3',
    );
  });

  it("days: negative values keep their sign, −0 does not", () => {
    const rows = parse(energyCsv(report(), "days"), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.date, r.lamps, r.savings_kwh, r.savings_pct])).toEqual([
      ["2026-10-01", "2", "2.730", "77.12"],
      ["2026-10-02", "2", "0.000", ""],
    ]);
    expect(Object.keys(rows[0] as object)).toEqual(ENERGY_CSV_COLUMNS.days.map((c) => c.name));
  });

  it("summary: key,value,unit rows with the method, prices, totals, completeness and responsible lamps", () => {
    const csv = energyCsv(report(), "summary");
    const rows = parse(csv, { bom: true }) as string[][];
    expect(rows[0]).toEqual(["key", "value", "unit"]);
    expect(rows.every((r) => r.length === 3)).toBe(true);
    const byKey = new Map(rows.slice(1).map((r) => [r[0], [r[1], r[2]]]));
    expect(byKey.get("scope.name")).toEqual(["Ben M'Sick", ""]);
    expect(byKey.get("method.baseline")).toEqual(['legacy W × burning hours, "as registered"', ""]);
    expect(byKey.get("method.coverage.missing")).toEqual(["none", ""]);
    expect(byKey.get("method.tariff_mad_per_kwh")).toEqual(["1.28", "MAD/kWh"]);
    expect(byKey.get("method.grid_kg_co2_per_kwh")).toEqual(["0.7", "kg CO2/kWh"]);
    expect(byKey.get("method.grid_factor_source")).toEqual(["query", ""]);
    expect(byKey.get("method.wattages.1.legacy_w")).toEqual(["295.0", "W"]);
    expect(byKey.get("method.wattages.1.lamps")).toEqual(["2", "lamps"]);
    // No thousands separator, a decimal point.
    expect(byKey.get("totals.baseline_kwh")).toEqual(["1234567.891", "kWh"]);
    expect(byKey.get("totals.savings_t_co2")).toEqual(["0.0019", "t CO2"]);
    expect(byKey.get("totals.savings_pct")).toEqual(["77.12", "%"]);
    expect(byKey.get("completeness.missing_pct")).toEqual(["1.61", "%"]);
    expect(byKey.get("completeness.responsible.sl-bms-2.missing_days")).toEqual([
      "2026-10-30 2026-10-31",
      "",
    ]);
    expect(byKey.get("completeness.responsible.sl-bms-2.why")?.[0]).toMatch(
      /^24\.00 h missing on 2 days: silent since/,
    );
    expect(byKey.get("freshness.pending_lamps")).toEqual(["0", "lamps"]);
    expect(byKey.get("period.partial")).toEqual(["false", ""]);
  });

  it("summary rows follow the report's keys, one each", () => {
    const keys = summaryRows(report()).map((r) => r[0]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.filter((k) => k.startsWith("totals."))).toHaveLength(14);
  });
});

describe("formatting and names", () => {
  it("formatNumber: fixed decimals, no grouping, '' for null", () => {
    expect(formatNumber(1234567.8915, "kwh")).toBe("1234567.892");
    expect(formatNumber(-0.001, "h")).toBe("0.00");
    expect(formatNumber(null, "pct")).toBe("");
    expect(formatNumber(7, "int")).toBe("7");
  });

  it("file names from scope and period", () => {
    const r = report();
    expect(energyFileName(r, "lamps.csv")).toBe("energy-ben-m-sick-2026-10-lamps.csv");
    expect(
      energyFileName({ ...r, scope: { ...r.scope, kind: "city", id: null, name: "Casablanca" } }, ".json"),
    ).toBe("energy-city-2026-10.json");
    expect(slug("Boulevard d'Anfa – côté mer")).toBe("boulevard-d-anfa-cote-mer");
    expect(slug("«»")).toBe("scope");
  });
});
