// Section N's lines in the benchmark's output (bench/main.ts prints them after the other sections' report).
import type { EnergyResult } from "./energy.ts";

const fmt = (x: number | undefined, d = 0): string =>
  x === undefined || !Number.isFinite(x)
    ? "—"
    : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "),
  );
}

/** The target: a city-wide monthly report over 10,000 lamps in under a second. */
export const REPORT_TARGET_MS = 1000;

export function renderEnergy(n: EnergyResult): string[] {
  const ms = (t: { medianMs: number }) => fmt(t.medianMs, t.medianMs < 10 ? 2 : 0);
  const range = (t: { minMs: number; maxMs: number }) => `${fmt(t.minMs, 1)}–${fmt(t.maxMs, 1)}`;
  const out = [
    `== N: the city-wide energy report for ${n.month} over ${fmt(n.lamps)} backfilled lamps (${fmt(n.days, 2)} days at ${n.intervalS} s) ==`,
    `upload: ${fmt(n.upload.ackedReadings)} readings in ${fmt(n.upload.messages)} messages acknowledged in ${fmt(n.upload.seconds, 1)} s ` +
      `(${fmt(n.upload.readingsPerS)} readings/s; lamp processes ${fmt(n.upload.cpuS, 1)} CPU s), all stored in InfluxDB after ${fmt(n.storedSeconds, 1)} s`,
    `rollups complete: ${fmt(n.rollups.afterStoredSeconds, 1)} s after the last reading was stored (${fmt(n.rollups.totalSeconds, 1)} s ` +
      `from the first CONNECT), ${fmt(n.rollups.rows)} energy_daily rows, command service ${fmt(n.rollups.commandCpuS, 1)} CPU s`,
    ...(n.rollups.stalled
      ? [
          `rollups STALLED at ${fmt(n.rollups.stalled.readings)} of ${fmt(n.upload.ackedReadings)} readings with nothing ` +
            `pending: ${fmt(n.rollups.stalled.lamps)} lamps incomplete (${n.rollups.stalled.examples.join(", ")}…), ` +
            `rebuilt through POST /v1/energy/rollups/rebuild in ${fmt(n.rollups.stalled.rebuildSeconds, 1)} s ` +
            `(included above; the ${fmt(n.rollups.stalled.idleSeconds)} s the bench watched the stall are not; why: ` +
            "bench/energy-rollups.ts)",
        ]
      : []),
    "",
    ...table([
      ["", "median ms", "min–max ms", "runs", "bytes", "× bare SQL SUM"],
      [
        "report JSON (GET /v1/energy/report)",
        ms(n.report.json),
        range(n.report.json),
        String(n.report.json.runs),
        fmt(n.report.json.bytes),
        fmt(n.ratios.jsonVsSql, 1),
      ],
      [
        "report CSV (lamps table)",
        ms(n.report.csv),
        range(n.report.csv),
        String(n.report.csv.runs),
        fmt(n.report.csv.bytes),
        fmt(n.ratios.csvVsSql, 1),
      ],
      [
        "baseline: bare SQL SUM over the rows",
        ms(n.sql.sum),
        range(n.sql.sum),
        String(n.sql.sum.runs),
        "",
        "1.0",
      ],
      [
        "baseline: SQL SUM grouped per lamp",
        ms(n.sql.perLamp),
        range(n.sql.perLamp),
        String(n.sql.perLamp.runs),
        "",
        fmt(n.sql.perLamp.medianMs / n.sql.sum.medianMs, 1),
      ],
      [
        "baseline: scan of the raw readings",
        ms(n.raw.timing),
        range(n.raw.timing),
        String(n.raw.timing.runs),
        "",
        fmt(n.raw.timing.medianMs / n.sql.sum.medianMs, 0),
      ],
    ]),
    "",
    `raw scan ÷ report JSON: × ${fmt(n.ratios.rawVsJson, 0)} (${fmt(n.raw.readings)} readings read back and rolled up per request)`,
    `same figures three ways: reporting ${fmt(n.report.reportingKwh, 1)} kWh (report) · ${fmt(n.sql.reportingKwh, 1)} (SQL) · ${fmt(n.raw.reportingKwh, 1)} (raw scan); ` +
      `baseline ${fmt(n.report.baselineKwh, 1)} · ${fmt(n.sql.baselineKwh, 1)} · ${fmt(n.raw.baselineKwh, 1)} kWh`,
    `target: city-wide monthly report over 10,000 lamps < ${REPORT_TARGET_MS} ms: ` +
      (n.lamps < 10_000
        ? `not judged (${fmt(n.lamps)} lamps)`
        : n.report.json.medianMs < REPORT_TARGET_MS && n.report.csv.medianMs < REPORT_TARGET_MS
          ? `PASS (JSON ${ms(n.report.json)} ms, CSV ${ms(n.report.csv)} ms)`
          : `FAIL (JSON ${ms(n.report.json)} ms, CSV ${ms(n.report.csv)} ms)`),
  ];
  return out;
}
