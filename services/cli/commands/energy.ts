// `energy report | rollups | rebuild`: the energy manager's commands (issue 5). `energy report` asks the command
// service for the IPMVP savings report of a lamp, group, district or the city over a period and prints a summary,
// one CSV table, the JSON, or (--out) writes the JSON and the three CSV tables of one answer to a folder.
// `energy rollups` shows how far the daily rollups are computed; `energy rebuild` recomputes them from InfluxDB.
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import { CSV_TABLES, type CsvTable, PERIOD_PATTERN, RELATIVE_PERIODS } from "../../contract/energy.ts";
import { energyCsv, energyFileName } from "../../energy/csv.ts";
import type { EnergyRebuild, EnergyReport, EnergyRollups } from "../api-types.ts";
import { flag, num, str, strs } from "../args.ts";
import { type Command, type Context, EXIT, failure, printJson, usage } from "../context.ts";
import { formatEnergyReport, formatRebuild, formatRollups } from "../format/energy.ts";
import { districtName } from "./schedule-flags.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** --last → the contract's relative periods (the last complete one). */
const LAST = { day: "yesterday", week: "last-week", month: "last-month", year: "last-year" } as const;
const BOM = "\uFEFF";

type Query = Record<string, string | number | undefined>;
type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** The scope flags: at most one of --lamp, --group, --district (none: the city). */
function scopeQuery(values: Record<string, unknown>): Parsed<Query> {
  const given = (["lamp", "group", "district"] as const).filter((k) => values[k] !== undefined);
  if (given.length > 1)
    return {
      ok: false,
      message: `give only one of --lamp, --group, --district (got ${given.map((g) => `--${g}`).join(", ")})`,
    };
  const kind = given[0];
  if (kind === undefined) return { ok: true, value: {} };
  const raw = String(values[kind]).trim();
  if (kind !== "district") return { ok: true, value: { [kind]: raw } };
  const name = districtName(raw);
  if (!name)
    return { ok: false, message: `--district must be one of ${DISTRICT_NAMES.join(", ")} (got "${raw}")` };
  return { ok: true, value: { district: name } };
}

/** The period flags: one of --period, --from/--to, --last (none: last month). */
function periodQuery(values: Record<string, unknown>): Parsed<Query> {
  const period = values.period as string | undefined;
  const from = values.from as string | undefined;
  const to = values.to as string | undefined;
  const last = values.last as keyof typeof LAST | undefined;
  const ways = [period, from ?? to, last].filter((w) => w !== undefined).length;
  if (ways > 1) return { ok: false, message: "give one of --period, --from/--to, --last" };
  if ((from === undefined) !== (to === undefined))
    return { ok: false, message: "give --from and --to together" };
  if (from !== undefined && to !== undefined) {
    for (const [name, v] of [
      ["from", from],
      ["to", to],
    ] as const)
      if (!DATE.test(v)) return { ok: false, message: `--${name} must be a date YYYY-MM-DD (got "${v}")` };
    return { ok: true, value: { from, to } };
  }
  if (period !== undefined) {
    if (!PERIOD_PATTERN.test(period) && !(RELATIVE_PERIODS as readonly string[]).includes(period))
      return {
        ok: false,
        message: `--period must be YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or one of ${RELATIVE_PERIODS.join(", ")} (got "${period}")`,
      };
    return { ok: true, value: { period } };
  }
  return { ok: true, value: { period: LAST[last ?? "month"] } };
}

async function fetchReport(ctx: Context, query: Query) {
  return ctx.api.request<EnergyReport>("GET", "/v1/energy/report", { query, timeoutMs: 120_000 });
}

/** `--out DIR`: the JSON and the three tables of ONE answer, so the four files agree to the last digit. */
function writeAll(ctx: Context, dir: string, report: EnergyReport): string[] {
  const folder = resolve(ctx.cwd, dir);
  mkdirSync(folder, { recursive: true });
  const files: [string, string][] = [
    [energyFileName(report, ".json"), `${JSON.stringify(report, null, 2)}\n`],
    ...CSV_TABLES.map((t): [string, string] => [energyFileName(report, `${t}.csv`), energyCsv(report, t)]),
  ];
  return files.map(([name, content]) => {
    const path = resolve(folder, name);
    writeFileSync(path, content);
    return path;
  });
}

const report: Command = {
  name: "energy report",
  summary:
    "savings report (IPMVP): baseline vs metered kWh, MAD, CO2, completeness (default: the city, last month)",
  json: true,
  principal: "energy-manager",
  options: {
    lamp: { type: "string", value: "<id>", description: "one streetlight" },
    group: { type: "string", value: "<id>", description: "the streetlights of a group" },
    district: { type: "string", value: "<name>", description: `a district (${DISTRICT_NAMES.join(", ")})` },
    period: {
      type: "string",
      value: "<period>",
      description: `2026-10-05, 2026-W41, 2026-10, 2026 or ${RELATIVE_PERIODS.join(", ")}`,
    },
    from: { type: "string", value: "<YYYY-MM-DD>", description: "first local day, with --to" },
    to: { type: "string", value: "<YYYY-MM-DD>", description: "last local day (included)" },
    last: {
      type: "string",
      value: "<day|week|month|year>",
      choices: Object.keys(LAST),
      description: "the last complete day, week (Monday–Sunday), month or year (default: month)",
    },
    csv: {
      type: "string",
      value: `<${CSV_TABLES.join("|")}>`,
      choices: CSV_TABLES,
      description: "print that CSV table (UTF-8 with BOM, CRLF) instead of the summary",
    },
    out: { type: "string", value: "<dir>", description: "write the JSON and the three CSV tables there" },
    tariff: {
      type: "number",
      value: "<MAD/kWh>",
      description: "tariff for this report (default: the service's)",
    },
    co2: {
      type: "number",
      value: "<kg/kWh>",
      description: "grid CO2 factor for this report (default: the service's)",
    },
    lamps: {
      type: "integer",
      value: "<n>",
      description: "lamps with missing or estimated hours to list (default 10)",
    },
  },
  details: [
    "Figures: baseline = legacy watts × burning hours (sunset to sunrise at each lamp); reporting = metered +",
    "estimated kWh; savings = baseline − reporting = retrofit + dimming. Hours without data are left out of both",
    "and listed under completeness. Days are local days in Africa/Casablanca. Needs a token with reports:read",
    "(role energy_manager or admin): --token, CITY_API_TOKEN, or .data/secrets/energy-manager.token.",
    "Examples:",
    "  energy report --district Anfa --last month",
    "  energy report --district Anfa --period 2026-10 --csv lamps > anfa-lamps.csv",
    "  energy report --group bd-anfa --from 2026-10-01 --to 2026-10-15 --json",
    "  energy report --last year --out reports/          the city: JSON + lamps, days, summary CSV",
  ].join("\n"),
  async run(ctx, { values }) {
    const scope = scopeQuery(values);
    if (!scope.ok) return usage(ctx, scope.message);
    const period = periodQuery(values);
    if (!period.ok) return usage(ctx, period.message);
    const csv = str(values, "csv") as CsvTable | undefined;
    const out = str(values, "out");
    const json = flag(values, "json");
    if ([csv, out, json || undefined].filter((x) => x !== undefined).length > 1)
      return usage(ctx, "give only one of --csv, --json, --out");
    const lamps = num(values, "lamps") ?? 10;
    if (lamps < 0) return usage(ctx, `--lamps must be 0 or more (got ${lamps})`);
    const query: Query = {
      ...scope.value,
      ...period.value,
      tariff_mad_per_kwh: num(values, "tariff"),
      grid_kg_co2_per_kwh: num(values, "co2"),
    };
    if (csv !== undefined) {
      const res = await ctx.api.request<string>("GET", "/v1/energy/report", {
        query: { ...query, format: "csv", table: csv },
        timeoutMs: 120_000,
      });
      if (res.kind !== "ok") return failure(ctx, res);
      // fetch's text() drops the byte-order mark (WHATWG "UTF-8 decode"); put it back for spreadsheets. The
      // last CRLF goes: printing adds the line end.
      const text = String(res.body);
      ctx.io.out(`${text.startsWith(BOM) ? "" : BOM}${text.replace(/\r\n$/, "")}`);
      return EXIT.ok;
    }
    const res = await fetchReport(ctx, query);
    if (res.kind !== "ok") return failure(ctx, res);
    if (out !== undefined) {
      for (const path of writeAll(ctx, out, res.body)) ctx.io.out(path);
      return EXIT.ok;
    }
    if (json) printJson(ctx, res.body);
    else ctx.io.out(formatEnergyReport(res.body, { lamps }));
    return EXIT.ok;
  },
};

const rollups: Command = {
  name: "energy rollups",
  summary: "how far the daily energy rollups are computed (lamps with data, pending, last cycle)",
  json: true,
  principal: "energy-manager",
  async run(ctx, { values }) {
    const res = await ctx.api.request<EnergyRollups>("GET", "/v1/energy/rollups");
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatRollups(res.body));
    return EXIT.ok;
  },
};

const rebuild: Command = {
  name: "energy rebuild",
  summary: "recompute lamps' daily energy rollups from InfluxDB from a date on (after an outage or a repair)",
  json: true,
  principal: "energy-manager",
  options: {
    from: {
      type: "string",
      value: "<YYYY-MM-DD>",
      required: true,
      description: "first local day to recompute",
    },
    district: { type: "string", value: "<name>", description: "only this district's streetlights" },
    lamp: {
      type: "string",
      value: "<id>",
      multiple: true,
      description: "only these lamps (repeat the flag)",
    },
  },
  details: [
    "Without --district or --lamp: every streetlight. Runs in the background on the service; follow it with",
    "`energy rollups`. Needs reports:rebuild (role energy_manager or admin).",
    "Examples:",
    "  energy rebuild --from 2026-10-01 --district Anfa",
    "  energy rebuild --from 2026-11-20 --lamp sl-anfa-0042 --lamp sl-anfa-0043",
  ].join("\n"),
  async run(ctx, { values }) {
    const from = str(values, "from") as string;
    if (!DATE.test(from)) return usage(ctx, `--from must be a date YYYY-MM-DD (got "${from}")`);
    const ids = strs(values, "lamp");
    const raw = str(values, "district");
    const district = raw === undefined ? undefined : districtName(raw);
    if (district === null)
      return usage(ctx, `--district must be one of ${DISTRICT_NAMES.join(", ")} (got "${raw}")`);
    const body = { from, ...(district ? { district } : {}), ...(ids.length > 0 ? { lamps: [...ids] } : {}) };
    const res = await ctx.api.request<EnergyRebuild>("POST", "/v1/energy/rollups/rebuild", { body });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatRebuild(res.body));
    return EXIT.ok;
  },
};

export const energyCommands: readonly Command[] = [report, rollups, rebuild];
