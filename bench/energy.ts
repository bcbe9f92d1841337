// Section N: the energy audit's city-wide monthly report over a backfilled fleet (issue 5: "a city-wide monthly
// report over 10,000 lamps answers in under a second"). Method and how to read it: docs/benchmarks.md, section N.
//   1. seed N streetlights over the 16 districts into a fresh registry (setup shortcut, bench/energy-fleet.ts);
//   2. its own influxd, the real command service (rollups on), broker with access control and ingest;
//   3. the lamps upload the last complete local month (from an hour before its 1st to an hour after its end, one
//      reading per lamp and 3600 s: 31 days) over MQTT through 2–4 processes: broker → ingest → InfluxDB;
//   4. the rollups catch up (bench/energy-rollups.ts: nothing pending, every reading in energy_daily);
//   5. the measured part: GET /v1/energy/report?period=<month> as JSON and as CSV (median of several runs), against
//      a bare SQL SUM over the same energy_daily rows and the same month computed from the raw readings.
//   node bench/energy.ts [--lamps 500] [--procs 2] [--runs 5] [--raw-runs 1]   (or `npm run bench -- --section N`)
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { energyReport } from "../services/contract/energy.ts";
import { addDays, localDateOf, localInstant } from "../services/schedule/zone.ts";
import { seedEnergyFleet, writeEnergyTokens } from "./energy-fleet.ts";
import { type UploadTotals, uploadHistory } from "./energy-lamps.ts";
import {
  type RawScan,
  type ReportTiming,
  rawScan,
  type SqlBaseline,
  sqlBaseline,
  timeReport,
} from "./energy-measure.ts";
import { type CatchUp, catchUp } from "./energy-rollups.ts";
import { type EnergyStack, startEnergyStack } from "./energy-stack.ts";
import { cpuSeconds } from "./procstat.ts";
import { countStored } from "./stack.ts";

export type EnergyOptions = {
  lamps: number;
  procs: number;
  /** Timed runs of each report and SQL baseline (after a warm-up). */
  runs: number;
  /** Runs of the raw-readings scan (each is minutes at 10,000 lamps). */
  rawRuns: number;
  intervalS?: number;
  dir?: string;
  progress?: (line: string) => void;
};

export type EnergyResult = {
  lamps: number;
  month: string;
  days: number;
  intervalS: number;
  seedSeconds: number;
  upload: UploadTotals & { readingsPerS: number };
  /** First CONNECT → every reading in InfluxDB, s. */
  storedSeconds: number;
  rollups: {
    /**
     * Every reading stored → rollups complete, s: the catch-up the report waits for (after a stall: the live path
     * up to the stall plus the rebuild of the incomplete lamps; the minute spent deciding it was one left out).
     */
    afterStoredSeconds: number;
    /** First CONNECT → rollups complete, s. */
    totalSeconds: number;
    rows: number;
    commandCpuS: number;
    stalled: CatchUp["stalled"];
  };
  report: { json: ReportTiming; csv: ReportTiming; reportingKwh: number; baselineKwh: number; lamps: number };
  sql: SqlBaseline;
  raw: RawScan;
  /** Report ÷ baseline, median over median. */
  ratios: { jsonVsSql: number; csvVsSql: number; rawVsJson: number };
};

/** The last complete local month before `nowMs`: its dates and instants. */
export function lastMonth(nowMs: number) {
  const thisMonth = `${localDateOf(nowMs).slice(0, 7)}-01`;
  const from = `${addDays(thisMonth, -1).slice(0, 7)}-01`;
  return {
    month: from.slice(0, 7),
    from,
    to: addDays(thisMonth, -1),
    startMs: localInstant(from, "00:00"),
    endMs: localInstant(thisMonth, "00:00"),
  };
}

/** Readings on the grid phase + k·step in [fromMs, toMs). */
function gridCount(phaseMs: number, stepMs: number, fromMs: number, toMs: number): number {
  const first = phaseMs + Math.ceil((fromMs - phaseMs) / stepMs) * stepMs;
  return first >= toMs ? 0 : Math.floor((toMs - 1 - first) / stepMs) + 1;
}

export async function runEnergy(o: EnergyOptions): Promise<EnergyResult> {
  const progress = o.progress ?? ((l: string) => console.error(l));
  const intervalS = o.intervalS ?? 3600;
  const own = !o.dir;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "bench-n-"));
  mkdirSync(join(dir, "logs"), { recursive: true });
  const dbPath = join(dir, "registry.sqlite");
  const m = lastMonth(Date.now());
  // An hour either side: every lamp has a reading before the 1st and after the last day, so every day is whole.
  const fromMs = m.startMs - 3_600_000;
  const toMs = m.endMs + 3_600_000;
  const days = (toMs - fromMs) / 86_400_000;
  let stack: EnergyStack | undefined;
  let ok = false;
  try {
    const tokens = writeEnergyTokens(dir);
    const s0 = performance.now();
    const lamps = await seedEnergyFleet(dbPath, o.lamps, intervalS);
    const seedSeconds = (performance.now() - s0) / 1000;
    const perLamp = new Map(lamps.map((l) => [l.id, gridCount(l.phaseMs, intervalS * 1000, fromMs, toMs)]));
    const expected = [...perLamp.values()].reduce((a, b) => a + b, 0);
    progress(
      `N: ${o.lamps} lamps seeded in ${seedSeconds.toFixed(1)} s; ${m.month}: ${expected} readings to upload ` +
        `(${days.toFixed(2)} days at ${intervalS} s)`,
    );
    stack = await startEnergyStack(dir, tokens, o.lamps);
    const { url, influx, command } = stack;

    const commandCpu0 = cpuSeconds(command.pid) ?? 0;
    const t0 = Date.now();
    let lastLine = 0;
    const upload = await uploadHistory(
      lamps,
      o.procs,
      {
        port: stack.brokerPort,
        fromMs,
        toMs,
        intervalS,
        seed: "bench-n",
        connectRatePerS: 1000,
        active: 200,
      },
      (acked) => {
        if (Date.now() - lastLine < 10_000) return;
        lastLine = Date.now();
        progress(`N: uploading, ${acked}/${expected} readings acknowledged`);
      },
    );
    if (upload.ackedReadings !== expected)
      throw new Error(
        `upload: ${upload.ackedReadings} of ${expected} readings acknowledged (${upload.refused} lamps refused, ` +
          `${upload.closed} closed)`,
      );
    progress(
      `N: ${expected} readings of ${upload.lamps} lamps acknowledged in ${upload.seconds.toFixed(1)} s`,
    );
    for (;;) {
      const stored = await countStored(influx).catch(() => 0);
      if (stored >= expected) break;
      if (Date.now() - t0 > 30 * 60_000)
        throw new Error(`only ${stored} of ${expected} readings stored after 30 min`);
      await sleep(500);
    }
    const storedAt = Date.now();
    progress(`N: every reading in InfluxDB ${((storedAt - t0) / 1000).toFixed(1)} s after the first CONNECT`);
    const want = { lamps: o.lamps, throughMs: toMs - intervalS * 1000, readings: expected, dbPath };
    const caught = await catchUp(url, tokens.manager, want, perLamp, localDateOf(fromMs), progress);
    // The minute the wait watched a stall to call it one is the bench's, not the rollups' (energy-rollups.ts).
    const rolledAt = Date.now() - (caught.stalled?.idleSeconds ?? 0) * 1000;
    const rollups = {
      afterStoredSeconds: (rolledAt - storedAt) / 1000,
      totalSeconds: (rolledAt - t0) / 1000,
      rows: caught.status.rows,
      commandCpuS: (cpuSeconds(command.pid) ?? 0) - commandCpu0,
      stalled: caught.stalled,
    };
    progress(
      `N: rollups complete ${rollups.afterStoredSeconds.toFixed(1)} s after the last reading was stored ` +
        `(${rollups.rows} rows; command service ${rollups.commandCpuS.toFixed(1)} CPU s)`,
    );

    const json = await timeReport(url, tokens.manager, `period=${m.month}`, o.runs);
    const answer = energyReport.parse(JSON.parse(Buffer.from(json.body).toString("utf8")));
    const csv = await timeReport(url, tokens.manager, `period=${m.month}&format=csv`, o.runs);
    progress(
      `N: report JSON median ${json.timing.medianMs.toFixed(0)} ms (${json.timing.bytes} bytes), ` +
        `CSV ${csv.timing.medianMs.toFixed(0)} ms (${csv.timing.bytes} bytes)`,
    );
    const sql = await sqlBaseline(dbPath, m.from, m.to, o.runs);
    progress(
      `N: SQL SUM over ${sql.rows} rows median ${sql.sum.medianMs.toFixed(1)} ms, per lamp ` +
        `${sql.perLamp.medianMs.toFixed(1)} ms; scanning the raw readings…`,
    );
    const raw = await rawScan(influx, lamps, m, o.rawRuns);
    progress(`N: raw scan of ${raw.readings} readings median ${(raw.timing.medianMs / 1000).toFixed(1)} s`);
    ok = true;
    return {
      lamps: o.lamps,
      month: m.month,
      days,
      intervalS,
      seedSeconds,
      upload: { ...upload, readingsPerS: upload.ackedReadings / upload.seconds },
      storedSeconds: (storedAt - t0) / 1000,
      rollups,
      report: {
        json: json.timing,
        csv: csv.timing,
        reportingKwh: answer.totals.reporting_kwh,
        baselineKwh: answer.totals.baseline_kwh,
        lamps: answer.scope.lamps,
      },
      sql,
      raw,
      ratios: {
        jsonVsSql: json.timing.medianMs / sql.sum.medianMs,
        csvVsSql: csv.timing.medianMs / sql.sum.medianMs,
        rawVsJson: raw.timing.medianMs / json.timing.medianMs,
      },
    };
  } finally {
    await stack?.stop();
    if (own && ok) rmSync(dir, { recursive: true, force: true });
    else if (own) progress(`N: logs and data kept in ${dir}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      lamps: { type: "string", default: "500" },
      procs: { type: "string", default: "2" },
      runs: { type: "string", default: "5" },
      "raw-runs": { type: "string", default: "1" },
    },
  });
  const { renderEnergy } = await import("./energy-report.ts");
  const r = await runEnergy({
    lamps: Number(values.lamps),
    procs: Number(values.procs),
    runs: Number(values.runs),
    rawRuns: Number(values["raw-runs"]),
  });
  console.log(renderEnergy(r).join("\n"));
  process.exit(0);
}
