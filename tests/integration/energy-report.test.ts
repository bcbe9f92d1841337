// GET /v1/energy/report over a real registry and real rollup rows (issue 5): daily rows written through the rollup
// store for lamps of two districts, a decommissioned lamp, a lamp that never reported and one with a meter restart,
// gaps and a silence; the API's JSON and CSV figures against numbers worked out by hand below; 400s naming the field,
// 404s for unknown scopes, 403 for the operator role.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnergyReport } from "../../services/contract/energy.ts";
import { emptyDay } from "../../services/energy/rollup.ts";
import { type EnergyReportApp, sameDays, startEnergyReportApp } from "./energy-report-app.ts";

// Monday 23 November 2026, 06:00. Casablanca is on UTC+0 for good since 2026-09-20: local days are UTC days here.
const NOW = Date.parse("2026-11-23T06:00:00Z");
const at = (iso: string) => Date.parse(iso);

const lamp = (id: string, district: string, installed: string, legacy: number, led: number) => ({
  id,
  kind: "streetlight",
  district,
  lat: 33.59,
  lon: -7.65,
  installed_at: installed,
  report_interval_s: 600,
  legacy_watts: legacy,
  led_watts: led,
});

// The rows, per lamp and day (October 2026). A night of 12 h is 43,200 dark seconds; a full day 86,400 s.
//   a1 (Anfa, 295 → 90 W): every day 810 Wh metered over the whole day. Per day: baseline 295 × 12 h = 3.54 kWh,
//      full LED 1.08 kWh; over 31 days: burning 372 h, baseline 109.74, metered 25.11, savings 84.63 (77.12 %),
//      retrofit 76.26, dimming 33.48 − 25.11 = 8.37, 108.33 MAD, 0.0592 t.
//   a2 (Anfa, 170 → 60 W, installed 16 Oct): rows 16–29 Oct, 300 Wh each, except the 20th: 240 Wh metered over
//      82,800 s and 60 Wh estimated over 3,600 s (a gap with a meter restart). Silent after 30 Oct 00:00.
//      burning 14 × 12 = 168 h; baseline 170 × 168 = 28.56; LED 10.08; metered 4.14; estimated 0.06; reporting 4.2;
//      savings 24.36 (85.29 %); retrofit 18.48; dimming 5.88; 31.18 MAD; 0.0171 t; metered 335 h, estimated 1 h;
//      in service 16 days = 384 h → missing 48 h (30 and 31 Oct).
//   a3 (Anfa, installed 2026-01-01): never reported: 744 h missing.
//   a4 (Anfa, decommissioned 10 Oct 12:00): 1–9 Oct like a1, 10 Oct 400 Wh over 43,200 s with 6 h of night.
//      burning 114 h; baseline 33.63; LED 10.26; metered 7.69; savings 25.94; retrofit 23.37; dimming 2.57;
//      in service 9.5 days = 228 h, all metered.
//   a5 (Anfa, installed 5 Nov): not in service in October.
//   m1 (Maarif, 295 → 90 W): like a1 with 900 Wh a day. aq1 (an air-quality station in Anfa): a row that must not count.
const A1 = "sl-a1";
const A2 = "sl-a2";
const A3 = "sl-a3";
const A4 = "sl-a4";
const A5 = "sl-a5";
const M1 = "sl-m1";
const AQ = "aq-a1";
const FULL = { darkS: 43_200, meteredWh: 810, meteredS: 86_400, litS: 43_200, readings: 144 };

let api: EnergyReportApp;
const json = async (path: string) => {
  const res = await api.get(path);
  expect(res.status, res.text).toBe(200);
  return res.body as EnergyReport;
};
const lampOf = (r: EnergyReport, id: string) => r.lamps.find((l) => l.id === id);

beforeAll(async () => {
  api = await startEnergyReportApp({ nowMs: NOW });
  api.register([
    lamp(A1, "Anfa", "2025-03-01", 295, 90),
    lamp(A2, "Anfa", "2026-10-16", 170, 60),
    lamp(A3, "Anfa", "2026-01-01", 295, 90),
    lamp(A4, "Anfa", "2025-01-01", 295, 90),
    lamp(A5, "Anfa", "2026-11-05", 295, 90),
    lamp(M1, "Maarif", "2025-03-01", 295, 90),
    { id: AQ, kind: "airquality", district: "Anfa", lat: 33.59, lon: -7.65, installed_at: "2025-03-01" },
  ]);
  api.group("bd-anfa", "Boulevard d'Anfa – côté mer", [A1, A2, AQ, M1]);
  api.decommission(A4, at("2026-10-10T12:00:00Z"));

  api.rows(A1, 295, 90, sameDays("2026-10-01", "2026-10-31", FULL), NOW - 600_000);
  api.rows(
    A2,
    170,
    60,
    [
      ...sameDays("2026-10-16", "2026-10-19", { ...FULL, meteredWh: 300, litS: 40_000 }),
      {
        ...emptyDay("2026-10-20"),
        darkS: 43_200,
        meteredWh: 240,
        estimatedWh: 60,
        meteredS: 82_800,
        estimatedS: 3_600,
        litS: 40_000,
        resets: 1,
        gaps: 1,
      },
      ...sameDays("2026-10-21", "2026-10-29", { ...FULL, meteredWh: 300, litS: 40_000 }),
    ].map((d, i) => (i === 0 ? { ...d, firstTs: at("2026-10-16T00:10:00Z") } : d)),
    at("2026-10-30T00:00:00Z"),
  );
  api.rows(
    A4,
    295,
    90,
    [
      ...sameDays("2026-10-01", "2026-10-09", FULL),
      { ...emptyDay("2026-10-10"), darkS: 21_600, meteredWh: 400, meteredS: 43_200 },
    ],
    at("2026-10-10T12:00:00Z"),
  );
  api.rows(M1, 295, 90, sameDays("2026-10-01", "2026-10-31", { ...FULL, meteredWh: 900 }), NOW - 300_000);
  api.rows(AQ, 295, 90, [{ ...emptyDay("2026-10-01"), ...FULL, meteredWh: 1000 }], NOW);
  api.pendingLamps = 3;
});

afterAll(async () => {
  await api?.close();
});

describe("JSON", () => {
  it("a district: totals, completeness and the lamps responsible, by hand", async () => {
    const r = await json("/v1/energy/report?district=Anfa&period=2026-10");
    expect(r.scope).toEqual({ kind: "district", id: "Anfa", name: "Anfa", lamps: 4 });
    expect(r.lamps.map((l) => l.id)).toEqual([A1, A2, A3, A4]);
    expect(r.period).toEqual({
      from: "2026-10-01",
      to: "2026-10-31",
      days: 31,
      time_zone: "Africa/Casablanca",
      start: "2026-10-01T00:00:00.000Z",
      end: "2026-11-01T00:00:00.000Z",
      partial: false,
    });
    // Σ: burning 372 + 168 + 114 = 654 h; baseline 109.74 + 28.56 + 33.63 = 171.93; metered 25.11 + 4.14 + 7.69
    // = 36.94; reporting 37; savings 134.93 (78.48 %) = retrofit 76.26 + 18.48 + 23.37 = 118.11 + dimming
    // (33.48 + 10.08 + 10.26) − 37 = 16.82; 134.93 × 1.28 = 172.7104 MAD; × 0.7 / 1000 = 0.094451 t.
    expect(r.totals).toEqual({
      burning_h: 654,
      baseline_kwh: 171.93,
      metered_kwh: 36.94,
      estimated_kwh: 0.06,
      reporting_kwh: 37,
      savings_kwh: 134.93,
      savings_pct: 78.48,
      retrofit_savings_kwh: 118.11,
      dimming_savings_kwh: 16.82,
      savings_mad: 172.71,
      savings_t_co2: 0.0945,
      metered_h: 1307,
      estimated_h: 1,
      missing_h: 792,
    });
    // In service: 744 + 384 + 744 + 228 = 2,100 lamp-hours: 1,307 metered (62.24 %), 1 estimated (0.05 %),
    // 792 missing (37.71 %).
    expect(r.completeness).toMatchObject({
      lamp_h: 2100,
      metered_pct: 62.24,
      estimated_pct: 0.05,
      missing_pct: 37.71,
      lamps_with_estimates: 1,
      lamps_with_missing: 2,
    });
    const [first, second, ...rest] = r.completeness.responsible;
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      id: A3,
      missing_h: 744,
      estimated_h: 0,
      why: "744.00 h missing on 31 days: never reported",
    });
    expect(first?.missing_days).toHaveLength(31);
    expect(second).toEqual({
      id: A2,
      district: "Anfa",
      estimated_h: 1,
      missing_h: 48,
      missing_days: ["2026-10-30", "2026-10-31"],
      why:
        "48.00 h missing on 2 days, 1.00 h estimated from the reported power or the calendar's levels: silent " +
        "since 2026-10-30 00:00 (its last reading rolled up); 1 gap between readings longer than 3600 s; " +
        "1 meter restart",
    });
    // The oldest cursor of the district: the decommissioned lamp's.
    expect(r.freshness).toEqual({ computed_through: "2026-10-10T12:00:00.000Z", pending_lamps: 3 });
  });

  it("per lamp: weighted wattages, figures, lit hours, restarts and gaps", async () => {
    const r = await json("/v1/energy/report?district=Anfa&period=2026-10");
    expect(lampOf(r, A2)).toEqual({
      id: A2,
      district: "Anfa",
      legacy_w: 170,
      led_w: 60,
      burning_h: 168,
      baseline_kwh: 28.56,
      metered_kwh: 4.14,
      estimated_kwh: 0.06,
      reporting_kwh: 4.2,
      savings_kwh: 24.36,
      savings_pct: 85.29,
      retrofit_savings_kwh: 18.48,
      dimming_savings_kwh: 5.88,
      savings_mad: 31.18,
      savings_t_co2: 0.0171,
      metered_h: 335,
      estimated_h: 1,
      missing_h: 48,
      // 14 × 40,000 s = 155.56 h.
      lit_h: 155.56,
      meter_resets: 1,
      gaps: 1,
    });
    expect(lampOf(r, A4)).toMatchObject({
      baseline_kwh: 33.63,
      savings_kwh: 25.94,
      retrofit_savings_kwh: 23.37,
      dimming_savings_kwh: 2.57,
      metered_h: 228,
      missing_h: 0,
    });
    // Never reported: the registry's wattages, no figures, all its hours missing.
    expect(lampOf(r, A3)).toMatchObject({
      legacy_w: 295,
      led_w: 90,
      baseline_kwh: 0,
      savings_pct: null,
      missing_h: 744,
    });
  });

  it("the series: lamps in service and figures per local day", async () => {
    const r = await json("/v1/energy/report?district=Anfa&period=2026-10");
    expect(r.series).toHaveLength(31);
    const day = (d: string) => r.series.find((s) => s.date === d);
    // 10 Oct: a1 whole, a3 whole (no data), a4 until noon (6 h of night, 400 Wh): 216,000 s in service, 129,600
    // covered. Burning 18 h; baseline 3.54 + 1.77 = 5.31; metered 1.21; savings 4.1 = retrofit 2.46 + 1.23 +
    // dimming 1.62 − 1.21 = 0.41.
    expect(day("2026-10-10")).toMatchObject({
      lamps: 3,
      burning_h: 18,
      baseline_kwh: 5.31,
      metered_kwh: 1.21,
      savings_kwh: 4.1,
      retrofit_savings_kwh: 3.69,
      dimming_savings_kwh: 0.41,
      metered_h: 36,
      missing_h: 24,
    });
    // 20 Oct: a1 and a2 (restart: 1 h estimated); baseline 3.54 + 2.04 = 5.58; reporting 0.81 + 0.24 + 0.06.
    expect(day("2026-10-20")).toMatchObject({
      lamps: 3,
      baseline_kwh: 5.58,
      metered_kwh: 1.05,
      estimated_kwh: 0.06,
      savings_kwh: 4.47,
      retrofit_savings_kwh: 3.78,
      dimming_savings_kwh: 0.69,
      metered_h: 47,
      estimated_h: 1,
      missing_h: 24,
    });
    expect(day("2026-10-12")).toMatchObject({ lamps: 2, missing_h: 24 });
    expect(day("2026-10-31")).toMatchObject({ lamps: 3, metered_h: 24, missing_h: 48 });
    const sum = (k: "missing_h" | "baseline_kwh") => r.series.reduce((s, d) => s + d[k], 0);
    expect(sum("missing_h")).toBeCloseTo(792, 6);
    expect(sum("baseline_kwh")).toBeCloseTo(171.93, 6);
  });

  it("the method states wattage classes, tariff, factor and the limits used", async () => {
    const r = await json("/v1/energy/report?district=Anfa&period=2026-10");
    expect(r.method).toMatchObject({
      tariff_mad_per_kwh: 1.28,
      tariff_source: "config",
      grid_kg_co2_per_kwh: 0.7,
      grid_factor_source: "config",
      gap_s: 3600,
      estimate_max_h: 72,
      wattages: [
        { legacy_w: 295, led_w: 90, lamps: 3 },
        { legacy_w: 170, led_w: 60, lamps: 1 },
      ],
    });
    expect(Object.keys(r.method.coverage).sort()).toEqual(["estimated", "metered", "missing"]);
    expect(r.method.burning_hours).toMatch(/sunset to sunrise.*Africa\/Casablanca/);
    expect(r.method.savings).toMatch(
      /1\.28 MAD\/kWh.*ENERGY_TARIFF_MAD_PER_KWH.*0\.7 kg CO2\/kWh.*placeholder/,
    );
    expect(r.method.reporting).toMatch(/gap_s = 3600 s.*estimate_max_h = 72 h/);
  });

  it("the city, a group and one lamp; other kinds never count", async () => {
    const city = await json("/v1/energy/report?period=2026-10");
    expect(city.scope).toEqual({ kind: "city", id: null, name: "Casablanca", lamps: 5 });
    // Anfa + m1 (baseline 109.74, 900 Wh × 31 = 27.9 kWh); the air-quality station's row is left out.
    expect([city.totals.baseline_kwh, city.totals.metered_kwh]).toEqual([281.67, 64.84]);
    const group = await json("/v1/energy/report?group=bd-anfa&period=2026-10");
    expect(group.scope).toEqual({
      kind: "group",
      id: "bd-anfa",
      name: "Boulevard d'Anfa – côté mer",
      lamps: 3,
    });
    expect(group.totals.baseline_kwh).toBe(248.04);
    const one = await json(`/v1/energy/report?lamp=${A2}&from=2026-10-01&to=2026-10-31`);
    expect(one.scope.lamps).toBe(1);
    expect(one.totals).toMatchObject({ baseline_kwh: 28.56, savings_kwh: 24.36, missing_h: 48 });
    expect(one.freshness.computed_through).toBe("2026-10-30T00:00:00.000Z");
  });

  it("tariff and grid factor given with the request", async () => {
    const r = await json(
      `/v1/energy/report?lamp=${A1}&period=2026-10&tariff_mad_per_kwh=2&grid_kg_co2_per_kwh=0.5`,
    );
    // 84.63 × 2 = 169.26 MAD; 84.63 × 0.5 / 1000 = 0.042315 t.
    expect([r.totals.savings_mad, r.totals.savings_t_co2]).toEqual([169.26, 0.0423]);
    expect([r.method.tariff_source, r.method.grid_factor_source]).toEqual(["query", "query"]);
  });

  it("a period reaching past now is partial and counts in-service hours up to now", async () => {
    const r = await json("/v1/energy/report?district=Anfa&period=this-month");
    expect(r.period).toMatchObject({ from: "2026-11-01", to: "2026-11-30", days: 30, partial: true });
    // The days begun: 1–23 November. a1, a2, a3 in service 22 days + 6 h = 534 h each; a5 from 5 Nov: 18 days + 6 h.
    expect(r.series).toHaveLength(23);
    expect(r.completeness.lamp_h).toBe(3 * 534 + 438);
    expect(r.scope.lamps).toBe(4);
  });
});

describe("CSV", () => {
  it("lamps: BOM, CRLF, header, a file name from scope and period, the figures as in JSON", async () => {
    const res = await api.get("/v1/energy/report?district=Anfa&period=2026-10&format=csv&table=lamps");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain('filename="energy-anfa-2026-10-lamps.csv"');
    expect(res.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(res.text.split("\r\n")[0]).toBe(
      "\uFEFFlamp_id,district,legacy_w,led_w,burning_h,baseline_kwh,metered_kwh,estimated_kwh,reporting_kwh," +
        "savings_kwh,savings_pct,retrofit_savings_kwh,dimming_savings_kwh,savings_mad,savings_t_co2,metered_h," +
        "estimated_h,missing_h,lit_h,meter_resets,gaps",
    );
    const rows = parse(res.text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.lamp_id)).toEqual([A1, A2, A3, A4]);
    expect(rows[1]).toEqual({
      lamp_id: A2,
      district: "Anfa",
      legacy_w: "170.0",
      led_w: "60.0",
      burning_h: "168.00",
      baseline_kwh: "28.560",
      metered_kwh: "4.140",
      estimated_kwh: "0.060",
      reporting_kwh: "4.200",
      savings_kwh: "24.360",
      savings_pct: "85.29",
      retrofit_savings_kwh: "18.480",
      dimming_savings_kwh: "5.880",
      savings_mad: "31.18",
      savings_t_co2: "0.0171",
      metered_h: "335.00",
      estimated_h: "1.00",
      missing_h: "48.00",
      lit_h: "155.56",
      meter_resets: "1",
      gaps: "1",
    });
    expect(rows[2]?.savings_pct).toBe("");
  });

  it("days and summary", async () => {
    const days = await api.get("/v1/energy/report?district=Anfa&period=2026-10&format=csv&table=days");
    const dayRows = parse(days.text, { bom: true, columns: true }) as Record<string, string>[];
    expect(dayRows).toHaveLength(31);
    expect(dayRows[9]).toMatchObject({
      date: "2026-10-10",
      lamps: "3",
      baseline_kwh: "5.310",
      missing_h: "24.00",
    });
    const summary = await api.get("/v1/energy/report?district=Anfa&period=2026-10&format=csv&table=summary");
    expect(summary.headers.get("content-disposition")).toContain("energy-anfa-2026-10-summary.csv");
    const kv = new Map(
      (parse(summary.text, { bom: true, from_line: 2 }) as string[][]).map((r) => [r[0], r.slice(1)]),
    );
    expect(kv.get("totals.savings_kwh")).toEqual(["134.930", "kWh"]);
    expect(kv.get("totals.savings_mad")).toEqual(["172.71", "MAD"]);
    expect(kv.get("completeness.missing_pct")).toEqual(["37.71", "%"]);
    expect(kv.get(`completeness.responsible.${A3}.why`)).toEqual([
      "744.00 h missing on 31 days: never reported",
      "",
    ]);
    expect(kv.get("method.tariff_mad_per_kwh")).toEqual(["1.28", "MAD/kWh"]);
  });
});

describe("refusals", () => {
  const refused = async (path: string, status: number, field?: string) => {
    const res = await api.get(path);
    expect(res.status, res.text).toBe(status);
    const body = res.body as { error: string; message: string; issues: { field: string; message: string }[] };
    if (field) expect(body.issues.map((i) => i.field)).toContain(field);
    return body;
  };

  it("400s name the field", async () => {
    // The contract names the second of the scope fields given (lamp, group, district order).
    await refused("/v1/energy/report?district=Anfa&group=bd-anfa&period=2026-10", 400, "query.district");
    await refused("/v1/energy/report?district=Anfa", 400, "query.period");
    await refused("/v1/energy/report?from=2026-10-01", 400, "query.to");
    await refused("/v1/energy/report?period=2026-10&from=2026-10-01&to=2026-10-02", 400, "query.period");
    await refused("/v1/energy/report?period=october", 400, "query.period");
    const month = await refused("/v1/energy/report?period=2026-13", 400, "query.period");
    expect(month.issues[0]?.message).toBe("the month must be 01 to 12 (got 13)");
    const future = await refused("/v1/energy/report?period=2026-12", 400, "query.period");
    expect(future.issues[0]?.message).toMatch(/after today/);
    await refused("/v1/energy/report?from=2026-10-31&to=2026-10-01", 400, "query.to");
    await refused("/v1/energy/report?period=2026-10&tariff_mad_per_kwh=-1", 400, "query.tariff_mad_per_kwh");
    await refused("/v1/energy/report?period=2026-10&format=xml", 400, "query.format");
    await refused("/v1/energy/report?period=2026-10&format=csv&table=nope", 400, "query.table");
    await refused(`/v1/energy/report?period=2026-10&lamp=${AQ}`, 400, "query.lamp");
  });

  it("404 for an unknown lamp, group or district", async () => {
    expect((await refused("/v1/energy/report?period=2026-10&lamp=sl-nope", 404)).message).toBe(
      "lamp sl-nope not found",
    );
    expect((await refused("/v1/energy/report?period=2026-10&group=nope", 404)).message).toBe(
      "group nope not found",
    );
    const d = await refused("/v1/energy/report?period=2026-10&district=Gotham", 404, "query.district");
    expect(d.message).toBe("district Gotham not found");
  });

  it("403 for the operator role, before any 400; the admin may read", async () => {
    const res = await api.get("/v1/energy/report?district=Anfa&period=2026-10", "operator");
    expect(res.status).toBe(403);
    expect((await api.get("/v1/energy/report?period=2026-13", "operator")).status).toBe(403);
    expect((await api.get("/v1/energy/report?district=Anfa&period=2026-10", "admin")).status).toBe(200);
  });
});

it("the OpenAPI document shows the query, the report and the CSV answer", async () => {
  const res = await fetch(`${api.url}/openapi.json`);
  const doc = (await res.json()) as {
    paths: Record<
      string,
      { get: { parameters: { name: string }[]; responses: Record<string, { content: object }> } }
    >;
  };
  const op = doc.paths["/v1/energy/report"]?.get;
  expect(op?.parameters.map((p) => p.name)).toEqual(
    expect.arrayContaining([
      "lamp",
      "group",
      "district",
      "period",
      "from",
      "to",
      "format",
      "table",
      "tariff_mad_per_kwh",
    ]),
  );
  expect(Object.keys(op?.responses["200"]?.content ?? {})).toEqual(["application/json", "text/csv"]);
});
