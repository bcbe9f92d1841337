// `energy report | rollups | rebuild` (services/cli/commands/energy.ts) through runCli with a fetch that answers
// like the command service: the query each flag makes, the summary an energy manager reads, the CSV on stdout,
// --out's four files from one answer, usage errors (exit 2, no request) and refusals (exit 1).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../services/cli/cli.ts";
import type { EnergyFigures, EnergyReport } from "../../services/contract/energy.ts";
import { energyCsv } from "../../services/energy/csv.ts";

const figures = (over: Partial<EnergyFigures> = {}): EnergyFigures => ({
  burning_h: 654,
  baseline_kwh: 1171.93,
  metered_kwh: 36.94,
  estimated_kwh: 0.06,
  reporting_kwh: 37,
  savings_kwh: 1134.93,
  savings_pct: 96.84,
  retrofit_savings_kwh: 1118.11,
  dimming_savings_kwh: 16.82,
  savings_mad: 1452.71,
  savings_t_co2: 0.7945,
  metered_h: 1307,
  estimated_h: 1,
  missing_h: 792,
  ...over,
});

const REPORT: EnergyReport = {
  scope: { kind: "district", id: "Anfa", name: "Anfa", lamps: 4 },
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
    baseline: "legacy W × burning hours",
    reporting: "metered + estimated",
    savings: "baseline − reporting",
    burning_hours: "sunset to sunrise",
    coverage: { metered: "m", estimated: "e", missing: "x" },
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
  },
  totals: figures(),
  completeness: {
    lamp_h: 2100,
    metered_pct: 62.24,
    estimated_pct: 0.05,
    missing_pct: 37.71,
    lamps_with_estimates: 1,
    lamps_with_missing: 2,
    responsible: [
      {
        id: "sl-a3",
        district: "Anfa",
        estimated_h: 0,
        missing_h: 744,
        missing_days: [],
        why: "744.00 h missing on 31 days: never reported",
      },
      {
        id: "sl-a2",
        district: "Anfa",
        estimated_h: 1,
        missing_h: 48,
        missing_days: ["2026-10-30", "2026-10-31"],
        why: "48.00 h missing on 2 days: silent since 2026-10-30 00:00 (its last reading rolled up)",
      },
    ],
  },
  freshness: { computed_through: "2026-10-10T12:00:00.000Z", pending_lamps: 3 },
  series: [{ date: "2026-10-01", lamps: 3, ...figures() }],
  lamps: [
    {
      id: "sl-a1",
      district: "Anfa",
      legacy_w: 295,
      led_w: 90,
      ...figures(),
      lit_h: 372,
      meter_resets: 0,
      gaps: 0,
    },
  ],
};

type Sent = { method: string; url: URL; body: unknown };

async function run(argv: string[], answer: (s: Sent) => Response = () => Response.json(REPORT), cwd = "/") {
  const out: string[] = [];
  const err: string[] = [];
  const sent: Sent[] = [];
  const code = await runCli(argv, {
    env: { CITY_API_URL: "http://api.test", CITY_API_TOKEN: "t" },
    cwd,
    dataDir: "/nonexistent",
    io: { out: (t) => out.push(t), err: (t) => err.push(t) },
    fetch: async (input, init) => {
      const s = {
        method: init?.method ?? "GET",
        url: new URL(String(input)),
        body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
      };
      sent.push(s);
      return answer(s);
    },
  });
  return { code, out: out.join("\n"), err: err.join("\n"), sent };
}

const query = (s: Sent | undefined) => Object.fromEntries(s?.url.searchParams ?? []);

describe("energy report", () => {
  it("--district anfa --last month: the query, and a summary with units, split, money, CO2, completeness", async () => {
    const r = await run(["energy", "report", "--district", "anfa", "--last", "month"]);
    expect(r.code).toBe(0);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]?.url.pathname).toBe("/v1/energy/report");
    expect(query(r.sent[0])).toEqual({ district: "Anfa", period: "last-month" });
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("Energy and savings of district Anfa: 4 streetlights");
    for (const text of [
      "2026-10-01 to 2026-10-31 (31 days, local days Africa/Casablanca)",
      "1,171.930 kWh  (legacy watts × 654.00 h of burning)",
      "37.000 kWh  (metered 36.940 kWh + estimated 0.060 kWh)",
      "1,134.930 kWh  (96.84 % of the baseline)",
      "retrofit   1,118.110 kWh",
      "dimming    16.820 kWh",
      "1,452.71 MAD  at 1.28 MAD/kWh (config)",
      "0.7945 t  at 0.7 kg CO2/kWh (config)",
      "Completeness, of 2,100.00 lamp-hours in service:",
      "792.00 h  (37.71 %), 2 lamps; left out of the figures",
      "295 W → 90 W ×3, 170 W → 60 W ×1",
      "gaps over 3600 s bridged by the meter, else estimated up to 72 h",
      "Freshness: rollups computed through 2026-10-10 12:00 (local; the oldest lamp's); 3 lamps waiting to be rolled up.",
    ])
      expect(r.out).toContain(text);
    // The worst lamps, in the API's order, with why.
    expect(r.out).toMatch(
      /sl-a3\s+Anfa\s+744\.00 h\s+0\.00 h\s+744\.00 h missing on 31 days: never reported/,
    );
    expect(r.out.indexOf("sl-a3")).toBeLessThan(r.out.indexOf("sl-a2"));
  });

  it("the city by default, last month; --period, --from/--to, --tariff and --co2 go into the query", async () => {
    expect(query((await run(["energy", "report"])).sent[0])).toEqual({ period: "last-month" });
    expect(
      query((await run(["energy", "report", "--group", "bd-anfa", "--period", "2026-W41"])).sent[0]),
    ).toEqual({
      group: "bd-anfa",
      period: "2026-W41",
    });
    const r = await run([
      "energy",
      "report",
      "--lamp",
      "sl-1",
      "--from",
      "2026-10-01",
      "--to",
      "2026-10-15",
      "--tariff",
      "2",
      "--co2",
      "0.5",
    ]);
    expect(query(r.sent[0])).toEqual({
      lamp: "sl-1",
      from: "2026-10-01",
      to: "2026-10-15",
      tariff_mad_per_kwh: "2",
      grid_kg_co2_per_kwh: "0.5",
    });
    expect(query((await run(["energy", "report", "--last", "day"])).sent[0])).toEqual({
      period: "yesterday",
    });
  });

  it("--csv lamps prints the API's CSV with its byte-order mark", async () => {
    const csv = energyCsv(REPORT, "lamps");
    const r = await run(["energy", "report", "--district", "Anfa", "--csv", "lamps"], () => {
      // fetch's text() drops the BOM, as it would from a real answer.
      return new Response(csv, { headers: { "content-type": "text/csv; charset=utf-8" } });
    });
    expect(r.code).toBe(0);
    expect(query(r.sent[0])).toEqual({
      district: "Anfa",
      period: "last-month",
      format: "csv",
      table: "lamps",
    });
    expect(`${r.out}\r\n`).toBe(csv);
  });

  it("--json prints the report", async () => {
    const r = await run(["energy", "report", "--json"]);
    expect(JSON.parse(r.out)).toEqual(REPORT);
  });

  it("--out DIR writes the JSON and the three tables of one answer, named from scope and period", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-energy-"));
    try {
      const r = await run(["energy", "report", "--district", "Anfa", "--out", "reports"], undefined, dir);
      expect(r.code).toBe(0);
      expect(r.sent).toHaveLength(1);
      const folder = join(dir, "reports");
      const names = [
        "energy-anfa-2026-10-days.csv",
        "energy-anfa-2026-10-lamps.csv",
        "energy-anfa-2026-10-summary.csv",
        "energy-anfa-2026-10.json",
      ];
      expect(readdirSync(folder).sort()).toEqual(names);
      expect(r.out.split("\n").sort()).toEqual(names.map((n) => join(folder, n)));
      expect(readFileSync(join(folder, "energy-anfa-2026-10-lamps.csv"), "utf8")).toBe(
        energyCsv(REPORT, "lamps"),
      );
      expect(readFileSync(join(folder, "energy-anfa-2026-10-summary.csv"), "utf8")).toBe(
        energyCsv(REPORT, "summary"),
      );
      expect(JSON.parse(readFileSync(join(folder, "energy-anfa-2026-10.json"), "utf8"))).toEqual(REPORT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      ["--lamp", "sl-1", "--district", "Anfa"],
      "give only one of --lamp, --group, --district (got --lamp, --district)",
    ],
    [["--district", "Gotham"], "--district must be one of Anfa, "],
    [["--period", "2026-10", "--last", "month"], "give one of --period, --from/--to, --last"],
    [["--from", "2026-10-01"], "give --from and --to together"],
    [["--from", "1 Oct", "--to", "2026-10-31"], '--from must be a date YYYY-MM-DD (got "1 Oct")'],
    [["--period", "october"], "--period must be YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or one of"],
    [["--last", "decade"], "--last must be one of day, week, month, year"],
    [["--csv", "lamps", "--json"], "give only one of --csv, --json, --out"],
    [["--csv", "all"], "--csv must be one of lamps, days, summary"],
    [["--tariff", "cheap"], '--tariff must be a number (got "cheap")'],
  ])("usage error %j: exit 2, no request", async (flags, message) => {
    const r = await run(["energy", "report", ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.sent).toHaveLength(0);
  });

  it("a refusal of the API: exit 1 with its message and the field", async () => {
    const r = await run(["energy", "report", "--period", "2026-12"], () =>
      Response.json(
        {
          error: "validation_failed",
          message: "the period is invalid",
          issues: [
            {
              field: "query.period",
              message: "starts on 2026-12-01, after today (2026-11-23, Africa/Casablanca)",
            },
          ],
        },
        { status: 400 },
      ),
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain("query.period");
    expect(r.err).toContain("after today");
  });
});

it("without --token or CITY_API_TOKEN, the local energy manager's token (.data/secrets/energy-manager.token)", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "cli-energy-data-"));
  try {
    mkdirSync(join(dataDir, "secrets"));
    writeFileSync(join(dataDir, "secrets", "energy-manager.token"), "cst_energy\n");
    writeFileSync(join(dataDir, "secrets", "engineer.token"), "cst_engineer\n");
    const auth: (string | null)[] = [];
    const code = await runCli(["energy", "report"], {
      env: { CITY_API_URL: "http://api.test" },
      cwd: "/",
      dataDir,
      io: { out: () => undefined, err: () => undefined },
      fetch: async (_input, init) => {
        auth.push(new Headers(init?.headers).get("authorization"));
        return Response.json(REPORT);
      },
    });
    expect(code).toBe(0);
    expect(auth).toEqual(["Bearer cst_energy"]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe("energy rollups and rebuild", () => {
  it("rollups prints the state", async () => {
    const status = {
      lamps_with_data: 9876,
      pending_lamps: 2,
      computed_through: "2026-11-23T05:59:00.000Z",
      last_cycle_at: "2026-11-23T05:59:30.000Z",
      last_reconcile_at: null,
      recomputed_lamp_days: 14,
      rows: 306_156,
      lamps_without_wattages: 3,
    };
    const r = await run(["energy", "rollups"], () => Response.json(status));
    expect(r.sent.map((s) => `${s.method} ${s.url.pathname}`)).toEqual(["GET /v1/energy/rollups"]);
    for (const text of [
      "9,876",
      "2026-11-23 05:59:00 (local)",
      "never",
      "14 lamp-days",
      "306,156",
      "3 streetlights without",
    ])
      expect(r.out).toContain(text);
  });

  it("rebuild posts the date, the district and the lamps", async () => {
    const r = await run(
      ["energy", "rebuild", "--from", "2026-10-01", "--district", "anfa", "--lamp", "sl-1", "--lamp", "sl-2"],
      () => Response.json({ from: "2026-10-01", lamps: 2, lamps_without_wattages: 0 }, { status: 202 }),
    );
    expect(r.code).toBe(0);
    expect(r.sent[0]?.method).toBe("POST");
    expect(r.sent[0]?.url.pathname).toBe("/v1/energy/rollups/rebuild");
    expect(r.sent[0]?.body).toEqual({ from: "2026-10-01", district: "Anfa", lamps: ["sl-1", "sl-2"] });
    expect(r.out).toBe(
      "Rebuilding the rollups of 2 streetlights from 2026-10-01 from InfluxDB. Follow it with: energy rollups",
    );
  });

  it.each([
    [[], "missing required flag --from"],
    [["--from", "yesterday"], '--from must be a date YYYY-MM-DD (got "yesterday")'],
    [["--from", "2026-10-01", "--district", "Gotham"], "--district must be one of"],
  ])("rebuild usage error %j", async (flags, message) => {
    const r = await run(["energy", "rebuild", ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.sent).toHaveLength(0);
  });

  it("help lists the energy commands", async () => {
    const tool = await run(["--help"]);
    expect(tool.out).toMatch(/Energy and savings:\n\s+energy report\s+savings report/);
    const group = await run(["energy", "--help"]);
    expect(group.code).toBe(0);
    expect(group.out).toContain("energy rebuild");
    const one = await run(["energy", "report", "--help"]);
    expect(one.out).toContain("--last <day|week|month|year>");
  });
});
