// The energy report as CSV tables (issue 5; contract/energy.ts ENERGY_CSV_COLUMNS): RFC 4180 through csv-stringify,
// UTF-8 with a byte-order mark (so spreadsheets read "Ben M'Sick" and accents as written), CRLF, comma separator,
// one header row of the contract's column names, numbers with a decimal point, no thousands separator and the
// fixed decimals of ENERGY_DECIMALS, an empty cell for null. `summary` is key,value,unit rows: scope, period,
// method, tariff, factor, totals, completeness and the lamps responsible, so a CSV sent on carries how it was made.
import { stringify } from "csv-stringify/sync";
import {
  type CsvTable,
  ENERGY_CSV_COLUMNS,
  ENERGY_DECIMALS,
  type EnergyFigures,
  type EnergyReport,
} from "../contract/energy.ts";
import { round } from "./figures.ts";
import { periodLabel } from "./period.ts";

type Unit = keyof typeof ENERGY_DECIMALS | "int" | "text";

/** Text cells a spreadsheet would take for a formula (OWASP "CSV injection") get a leading apostrophe. */
const FORMULA_START = /^[=+\-@\t\r]/;

function text(v: string | null | undefined): string {
  if (v === null || v === undefined) return "";
  return FORMULA_START.test(v) ? `'${v}` : v;
}

/** A number with its unit's fixed decimals; "" for null. */
export function formatNumber(v: number | null | undefined, unit: Exclude<Unit, "text">): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "";
  const decimals = unit === "int" ? 0 : ENERGY_DECIMALS[unit];
  const r = round(v, decimals);
  // toFixed never groups thousands and always writes a point; round() has already removed −0.
  return (r === 0 ? 0 : r).toFixed(decimals);
}

/** The unit of a figure column, by the contract's naming (suffix = unit). */
function unitOfColumn(name: string): Unit {
  if (name === "lamp_id" || name === "district" || name === "date") return "text";
  if (name === "lamps" || name === "meter_resets" || name === "gaps") return "int";
  if (name.endsWith("_kwh")) return "kwh";
  if (name.endsWith("_t_co2")) return "t_co2";
  if (name.endsWith("_mad")) return "mad";
  if (name.endsWith("_pct")) return "pct";
  if (name.endsWith("_w")) return "w";
  if (name.endsWith("_h")) return "h";
  throw new Error(`no unit for CSV column ${name}`);
}

function cell(name: string, value: unknown): string {
  const unit = unitOfColumn(name);
  if (unit === "text") return text(value as string | null);
  return formatNumber(value as number | null, unit);
}

function table(columns: readonly { name: string }[], rows: readonly Record<string, unknown>[]): string {
  return stringify(
    rows.map((r) => columns.map((c) => cell(c.name, r[c.name]))),
    {
      bom: true,
      record_delimiter: "windows",
      header: true,
      columns: columns.map((c) => ({ key: c.name, header: c.name })),
    },
  );
}

const FIGURE_UNITS: Record<keyof EnergyFigures, [Exclude<Unit, "text" | "int">, string]> = {
  burning_h: ["h", "h"],
  baseline_kwh: ["kwh", "kWh"],
  metered_kwh: ["kwh", "kWh"],
  estimated_kwh: ["kwh", "kWh"],
  reporting_kwh: ["kwh", "kWh"],
  savings_kwh: ["kwh", "kWh"],
  savings_pct: ["pct", "%"],
  retrofit_savings_kwh: ["kwh", "kWh"],
  dimming_savings_kwh: ["kwh", "kWh"],
  savings_mad: ["mad", "MAD"],
  savings_t_co2: ["t_co2", "t CO2"],
  metered_h: ["h", "h"],
  estimated_h: ["h", "h"],
  missing_h: ["h", "h"],
};

type Row = [key: string, value: string, unit: string];

/** The summary's key,value,unit rows. */
export function summaryRows(r: EnergyReport): Row[] {
  const t = (key: string, value: string | null): Row => [key, text(value), ""];
  const n = (key: string, value: number | null, unit: Exclude<Unit, "text">, shown: string): Row => [
    key,
    formatNumber(value, unit),
    shown,
  ];
  const m = r.method;
  const c = r.completeness;
  return [
    t("scope.kind", r.scope.kind),
    t("scope.id", r.scope.id),
    t("scope.name", r.scope.name),
    n("scope.lamps", r.scope.lamps, "int", "lamps"),
    t("period.from", r.period.from),
    t("period.to", r.period.to),
    n("period.days", r.period.days, "int", "days"),
    t("period.time_zone", r.period.time_zone),
    t("period.start", r.period.start),
    t("period.end", r.period.end),
    t("period.partial", String(r.period.partial)),
    t("generated_at", r.generated_at),
    t("method.protocol", m.protocol),
    t("method.baseline", m.baseline),
    t("method.reporting", m.reporting),
    t("method.savings", m.savings),
    t("method.burning_hours", m.burning_hours),
    ...Object.entries(m.coverage).map(([k, v]) => t(`method.coverage.${k}`, v)),
    n("method.tariff_mad_per_kwh", m.tariff_mad_per_kwh, "mad", "MAD/kWh"),
    t("method.tariff_source", m.tariff_source),
    // A grid factor may need more places than a tariff (0.7 vs 0.6847): print it as given.
    [`method.grid_kg_co2_per_kwh`, String(m.grid_kg_co2_per_kwh), "kg CO2/kWh"],
    t("method.grid_factor_source", m.grid_factor_source),
    n("method.gap_s", m.gap_s, "int", "s"),
    [`method.estimate_max_h`, String(m.estimate_max_h), "h"],
    ...m.wattages.flatMap((w, i): Row[] => [
      n(`method.wattages.${i + 1}.legacy_w`, w.legacy_w, "w", "W"),
      n(`method.wattages.${i + 1}.led_w`, w.led_w, "w", "W"),
      n(`method.wattages.${i + 1}.lamps`, w.lamps, "int", "lamps"),
    ]),
    ...(Object.keys(FIGURE_UNITS) as (keyof EnergyFigures)[]).map((k) => {
      const [unit, shown] = FIGURE_UNITS[k];
      return n(`totals.${k}`, r.totals[k], unit, shown);
    }),
    n("completeness.lamp_h", c.lamp_h, "h", "h"),
    n("completeness.metered_pct", c.metered_pct, "pct", "%"),
    n("completeness.estimated_pct", c.estimated_pct, "pct", "%"),
    n("completeness.missing_pct", c.missing_pct, "pct", "%"),
    n("completeness.lamps_with_estimates", c.lamps_with_estimates, "int", "lamps"),
    n("completeness.lamps_with_missing", c.lamps_with_missing, "int", "lamps"),
    ...c.responsible.flatMap((l): Row[] => {
      const k = `completeness.responsible.${l.id}`;
      return [
        t(`${k}.district`, l.district),
        n(`${k}.estimated_h`, l.estimated_h, "h", "h"),
        n(`${k}.missing_h`, l.missing_h, "h", "h"),
        t(`${k}.missing_days`, l.missing_days.join(" ")),
        t(`${k}.why`, l.why),
      ];
    }),
    t("freshness.computed_through", r.freshness.computed_through),
    n("freshness.pending_lamps", r.freshness.pending_lamps, "int", "lamps"),
  ];
}

/** One table of the report as CSV text (starting with the BOM, lines ending in CRLF). */
export function energyCsv(report: EnergyReport, which: CsvTable): string {
  switch (which) {
    case "lamps":
      return table(
        ENERGY_CSV_COLUMNS.lamps,
        report.lamps.map((l) => ({ ...l, lamp_id: l.id })),
      );
    case "days":
      return table(ENERGY_CSV_COLUMNS.days, report.series);
    case "summary":
      return stringify(summaryRows(report), {
        bom: true,
        record_delimiter: "windows",
        header: true,
        columns: ENERGY_CSV_COLUMNS.summary.map((c) => ({ key: c.name, header: c.name })),
      });
  }
}

/** "Ben M'Sick" → "ben-m-sick", "Boulevard d'Anfa – côté mer" → "boulevard-d-anfa-cote-mer". */
export function slug(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return s || "scope";
}

/**
 * A file name from the report's scope and period, for downloads and `energy report --out`:
 * energy-anfa-2026-10-lamps.csv, energy-city-2026-summary.csv; a suffix starting with "." is appended as is
 * (energy-sl-0042-2026-W41.json).
 */
export function energyFileName(
  report: {
    scope: Pick<EnergyReport["scope"], "kind" | "id" | "name">;
    period: { from: string; to: string };
  },
  suffix: string,
): string {
  const scope = report.scope.kind === "city" ? "city" : slug(report.scope.id ?? report.scope.name);
  const base = `energy-${scope}-${periodLabel(report.period.from, report.period.to)}`;
  return suffix.startsWith(".") ? `${base}${suffix}` : `${base}-${suffix}`;
}
