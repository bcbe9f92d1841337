// `npm run truth -- [--file F] [--district N | --lamp ID] (--period P | --from D --to D) [--json] [--lamps]`:
// the simulator's TRUE energy and savings for a scope and period, from a truth file (default the demo history's,
// .data/simulator/history-truth.json, which `npm start` writes on its first start), with the energy report's
// formulas (truth-figures.ts), so an energy manager can set `npm run devices -- energy report …` beside it.
// Exit codes: 0 figures printed, 2 bad arguments or an unreadable truth file.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ENERGY_DECIMALS, ENERGY_TIME_ZONE } from "../services/contract/energy.ts";
import { resolvePeriod } from "../services/energy/period.ts";
import { localIso } from "../services/schedule/zone.ts";
import { round } from "./prng.ts";
import {
  districtNamed,
  type TruthFigures,
  type TruthReport,
  type TruthScope,
  truthFigures,
  truthFileSchema,
} from "./truth-figures.ts";

const DEFAULT_FILE = ".data/simulator/history-truth.json";
const USAGE = `usage: npm run truth -- [--file F] [--district NAME | --lamp ID] (--period P | --from D --to D) [--json] [--lamps]
  --file F        a simulator truth file (SIM_TRUTH_FILE / --truth-file); default ${DEFAULT_FILE}
  --district N    one district (e.g. Anfa, "Ben M'Sick" or ben-msick); --lamp ID one lamp; neither: the city
  --period P      a day 2026-10-05, an ISO week 2026-W41, a month 2026-10, a year 2026 (${ENERGY_TIME_ZONE})
                  or last-month, last-week, yesterday, … as the energy report takes them
  --from D --to D a range of local dates, both included
  --json          the figures as JSON (full precision)
  --lamps         also one line per lamp`;

function exit(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function main(): void {
  let values: ReturnType<typeof parse>;
  try {
    values = parse();
  } catch (err) {
    exit((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.district !== undefined && values.lamp !== undefined)
    exit("--district: give one of --district, --lamp");
  let scope: TruthScope = { kind: "city" };
  if (values.lamp !== undefined) scope = { kind: "lamp", id: values.lamp };
  if (values.district !== undefined) {
    const name = districtNamed(values.district);
    if (!name) exit(`--district: unknown district ${JSON.stringify(values.district)}`);
    scope = { kind: "district", name };
  }
  // The energy report's own periods (services/energy/period.ts), relative ones (last-month) included.
  const resolved = resolvePeriod({ period: values.period, from: values.from, to: values.to }, Date.now());
  if (!resolved.ok) exit(`--${resolved.field}: ${resolved.message}`);
  const { period } = resolved;
  const file = values.file ?? DEFAULT_FILE;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    exit(`--file: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = truthFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    exit(`--file: ${file} is not a truth file: ${issue?.path.join(".")} ${issue?.message}`);
  }
  const report = truthFigures(parsed.data, scope, { from: period.from, to: period.to });
  if (!report.ok) exit(`--${report.field}: ${report.message}`);
  if (values.json) {
    const { ok: _ok, ...figures } = report;
    process.stdout.write(
      `${JSON.stringify({ file, written_at: parsed.data.written_at, ...figures }, null, 2)}\n`,
    );
    return;
  }
  const b = parsed.data.backfill;
  const history = b
    ? `, backfill ${localIso(b.from_ts)} → ${localIso(b.to_ts)} every ${b.interval_s} s${b.completed ? "" : " (interrupted)"}`
    : "";
  process.stdout.write(
    `${text(report, `${file} (seed ${parsed.data.seed}, written ${parsed.data.written_at}${history})`, values.lamps)}\n`,
  );
}

function parse() {
  return parseArgs({
    options: {
      file: { type: "string" },
      district: { type: "string" },
      lamp: { type: "string" },
      period: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean", default: false },
      lamps: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

const kwh = (v: number) => round(v, ENERGY_DECIMALS.kwh).toFixed(ENERGY_DECIMALS.kwh);
const h = (v: number) => round(v, ENERGY_DECIMALS.h).toFixed(ENERGY_DECIMALS.h);
const pct = (v: number | null) =>
  v === null ? "—" : `${round(v, ENERGY_DECIMALS.pct).toFixed(ENERGY_DECIMALS.pct)} %`;

/** The plain-text report: the totals with their formulas, per district, what was not covered. */
export function text(r: TruthReport, source: string, perLamp: boolean): string {
  const scope =
    r.scope.kind === "city"
      ? "the city"
      : r.scope.kind === "district"
        ? `district ${r.scope.name}`
        : `lamp ${r.scope.id}`;
  const t = r.totals;
  const lines = [
    `Simulator truth for ${scope}, ${r.period.from} to ${r.period.to} (${r.period.days} days, ${ENERGY_TIME_ZONE})`,
    `from ${source}`,
    "",
    ...table([
      ["streetlights", String(r.lamps), ""],
      ["burning hours", `${h(t.burning_h)} h`, "sun below −0.833° at each lamp (5-min samples), summed"],
      ["baseline", `${kwh(t.baseline_kwh)} kWh`, "legacy W × burning hours"],
      ["reporting", `${kwh(t.reporting_kwh)} kWh`, "energy the lamps drew (delivered or not)"],
      ["savings", `${kwh(t.savings_kwh)} kWh`, `baseline − reporting, ${pct(t.savings_pct)}`],
      ["  retrofit", `${kwh(t.retrofit_savings_kwh)} kWh`, "(legacy W − LED W) × burning hours"],
      ["  dimming", `${kwh(t.dimming_savings_kwh)} kWh`, "LED W × burning hours − reporting"],
      ["lamps lit", `${h(t.lit_h)} h`, "hours the lamps actually burned"],
      ["covered", `${h(t.covered_h)} h`, `lamp-hours the simulation ran, of ${h(t.lamp_h)} in the period`],
    ]),
  ];
  if (r.districts.length > 1) {
    lines.push("", "district                 lamps   baseline kWh  reporting kWh    savings kWh  savings");
    for (const d of r.districts) lines.push(row(d.district, d.lamps, d));
  }
  if (perLamp) {
    lines.push("", "lamp                     LED W   baseline kWh  reporting kWh    savings kWh  savings");
    for (const l of r.rows) lines.push(row(l.id, l.led_w, l));
  }
  if (r.uncovered.length > 0) {
    lines.push("", `Not covered in full (the simulation did not run then; a report's hours differ there):`);
    for (const u of r.uncovered) lines.push(`  ${u.id} ${u.day}: ${h(u.covered_h)} h`);
  }
  return lines.join("\n");
}

function table(rows: [string, string, string][]): string[] {
  return rows.map(([k, v, why]) => `${k.padEnd(16)}${v.padStart(26)}   ${why}`.trimEnd());
}

function row(name: string, n: number, f: TruthFigures): string {
  return `${name.padEnd(22)}${String(n).padStart(7)}${kwh(f.baseline_kwh).padStart(15)}${kwh(f.reporting_kwh).padStart(15)}${kwh(f.savings_kwh).padStart(15)}${pct(f.savings_pct).padStart(9)}`;
}

if (import.meta.main) main();
