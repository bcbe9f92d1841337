// `npm run bench`: how fast the platform stores readings end to end, and what it costs, each figure as a ratio
// against baselines measured in the same run (machines are noisy). Method and figures: docs/benchmarks.md.
//   A  platform, single-reading messages, flood        C  baselines: broker alone, InfluxDB alone, bare pipeline
//   B  platform, 50-reading arrays, flood              D  latency publish → stored at half of A's rate
//   E  InfluxDB stopped ~15 s under load               O  broker overload: vanilla aedes vs ours (bench/broker-overload.ts)
//   S  CONNECTs/s with access control: cold (scrypt) vs warm (verified-secret cache) vs no policy (bench/auth.ts)
//   K  a calendar to N lamps of one district, all applied, vs a bare MQTT publisher (bench/schedule.ts)
//   N  the city-wide monthly energy report over N lamps backfilled a month through the pipeline, vs a bare SQL SUM
//      over the same rollups and a scan of the raw readings (bench/energy.ts; issue 5's "section E": E was taken)
// Options: --seconds N (load per section, default 20), --section A,B,C,D,E,O,S,K,N, --devices N (default 500),
// --auth-devices N (section S, default 2000), --lamps N (sections K and N, default 10000), --lamp-procs N (K, N:
// 2–4), --raw-runs N (N: scans of the raw readings, default 1),
// --window N, --publisher-procs N, --half-rate N, --outage-seconds N, --json out.json, --cpu-prof, --keep,
// --ingest-node-args="<node flags>", --ingest-script <path>: try a Node flag or a changed ingest (a copy of
// services/ elsewhere) against the same load before changing services/ itself.
// Everything runs on loopback: its own influxd (or INFLUX_URL), the command service, broker and ingest as
// child processes on free ports, spools and databases in a temporary folder removed at the end.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type InfluxdHandle, startInfluxd } from "../scripts/influxd/influxd.ts";
import { detectServer } from "../services/lib/influx/index.ts";
import { createLogger } from "../services/lib/log.ts";
import { registerFleet, writeTokenFile } from "./access.ts";
import { runInfluxAlone, runSubscriberBaseline } from "./baselines.ts";
import type { BenchContext, BenchOptions } from "./context.ts";
import type { EnergyResult } from "./energy.ts";
import { runPlatform } from "./platform.ts";
import { loadAverage, machineFacts } from "./procstat.ts";
import { summariseProfiles } from "./profile.ts";
import { deviceIds, districtOf, PROBE_ID } from "./readings.ts";
import { type Results, render, targets } from "./report.ts";
import { startCommand } from "./stack.ts";

const { values: a } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    section: { type: "string", default: "A,B,C,D,E,O,S,K,N" },
    devices: { type: "string", default: "500" },
    "auth-devices": { type: "string", default: "2000" },
    lamps: { type: "string", default: "10000" },
    "lamp-procs": { type: "string", default: "2" },
    "raw-runs": { type: "string", default: "1" },
    window: { type: "string", default: "4" },
    "publisher-procs": { type: "string", default: "1" },
    "half-rate": { type: "string", default: "0" },
    "outage-seconds": { type: "string", default: "15" },
    json: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "ingest-node-args": { type: "string", default: "" },
    "ingest-script": { type: "string", default: "services/ingest/main.ts" },
  },
});

function int(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max} (got ${raw})`);
    process.exit(2);
  }
  return n;
}

const opts: BenchOptions = {
  seconds: int("seconds", a.seconds, 3, 300),
  sections: new Set(
    a.section
      .toUpperCase()
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ),
  devices: int("devices", a.devices, 1, 5000),
  authDevices: int("auth-devices", a["auth-devices"], 10, 50_000),
  window: int("window", a.window, 1, 1000),
  publisherProcs: int("publisher-procs", a["publisher-procs"], 1, 8),
  halfRate: int("half-rate", a["half-rate"], 0, 1_000_000),
  outageSeconds: int("outage-seconds", a["outage-seconds"], 1, 120),
  json: a.json,
  cpuProf: a["cpu-prof"],
  ingestNodeArgs: a["ingest-node-args"].split(" ").filter(Boolean),
  ingestScript: a["ingest-script"],
};
// Section K's fleet (its own command service, broker and lamps; no InfluxDB, no ingest).
const kOpts = {
  lamps: int("lamps", a.lamps, 10, 50_000),
  procs: int("lamp-procs", a["lamp-procs"], 2, 4),
  connectRatePerS: 1000,
};
const rawRuns = int("raw-runs", a["raw-runs"], 1, 10);
for (const s of opts.sections) {
  if (!"ABCDEOSKN".includes(s) || s.length !== 1) {
    console.error(`unknown section ${s} (sections: A,B,C,D,E,O,S,K,N)`);
    process.exit(2);
  }
}

const t0 = Date.now();
const progress = (line: string) =>
  console.error(`[bench ${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s] ${line}`);
const machine = machineFacts();
const runId = Math.random().toString(36).slice(2, 8);
const tmp = mkdtempSync(join(tmpdir(), "city-bench-"));
const logDir = join(tmp, "logs");
mkdirSync(logDir, { recursive: true });
const log = createLogger("bench", "warn");
const notes: string[] = [];
const profiles: string[] = [];
const failures: string[] = [];
const results: Results = {};
let energy: EnergyResult | undefined;
let influxd: InfluxdHandle | undefined;
let command: BenchContext["command"] | undefined;
let failed = false;
let influxVersion = "not started (no section A–E)";

// Sections A–E share an InfluxDB, the command service and a registered fleet; O, S and K bring their own.
async function sharedStack(): Promise<BenchContext> {
  let influx: BenchContext["influx"];
  const envUrl = process.env.INFLUX_URL;
  if (envUrl) {
    const token = process.env.INFLUX_TOKEN ?? "";
    const det = await detectServer(envUrl, token, 10_000);
    if (!det.ok) throw new Error(`INFLUX_URL ${envUrl}: ${det.message}`);
    influx = {
      url: envUrl,
      token,
      org: process.env.INFLUX_ORG ?? "city",
      major: det.server.major,
      version: det.server.version,
    };
    notes.push(`InfluxDB from INFLUX_URL (${envUrl}); its databases bench_${runId}_* are left in place`);
  } else {
    progress("starting a throwaway influxd");
    influxd = await startInfluxd({ dataDir: join(tmp, "influxdb"), log });
    influx = { url: influxd.url, token: "", org: "city", major: 1, version: influxd.version };
  }
  const tokens = writeTokenFile(tmp);
  command = await startCommand({ logDir, dataDir: tmp, tokenFile: tokens.file });
  const devices = deviceIds(opts.devices);
  const secrets = await registerFleet(command.url, devices, tokens.admin);
  const districts: Record<string, string> = {};
  [...devices, PROBE_ID].forEach((id, i) => {
    districts[id] = districtOf(i);
  });
  const ctx: BenchContext = {
    opts,
    runId,
    tmp,
    logDir,
    influx,
    influxd,
    command,
    access: { tokens, secrets },
    devices,
    districts,
    progress,
  };
  influxVersion = influx.version;
  progress(
    `InfluxDB ${influx.version} at ${influx.url}; ${devices.length} devices registered; logs in ${logDir}`,
  );
  return ctx;
}

try {
  const ms = opts.seconds * 1000;
  const want = (s: string) => opts.sections.has(s);
  // A section that fails is reported and the others still run (its processes were stopped by it).
  const run = async <K extends keyof Results>(key: K, fn: () => Promise<Results[K]>): Promise<void> => {
    try {
      results[key] = await fn();
    } catch (err) {
      failures.push(`${key}: ${(err as Error).message}`);
      progress(`section ${key} failed: ${(err as Error).stack ?? err}`);
    }
  };
  const ctx = [..."ABCDE"].some(want) ? await sharedStack() : undefined;
  if (ctx) {
    // Each platform figure next to the baselines it is compared with: the machine's noise drifts over minutes.
    if (want("A"))
      await run("A", () => runPlatform(ctx, { section: "a", shape: "single", ratePerS: 0, durationMs: ms }));
    if (want("C")) {
      await run("C1single", () => runSubscriberBaseline(ctx, "count", "single"));
      await run("C3single", () => runSubscriberBaseline(ctx, "influx", "single"));
    }
    if (want("B"))
      await run("B", () => runPlatform(ctx, { section: "b", shape: "batch50", ratePerS: 0, durationMs: ms }));
    if (want("C")) {
      await run("C2", () => runInfluxAlone(ctx));
      await run("C3batch", () => runSubscriberBaseline(ctx, "influx", "batch50"));
      await run("C1batch", () => runSubscriberBaseline(ctx, "count", "batch50"));
    }
    const half = opts.halfRate || Math.round((results.A?.storedRate ?? 20_000) / 2);
    if (!opts.halfRate && !results.A)
      notes.push("D/E background load: no section A figure, so 10,000 readings/s was taken as half rate");
    if (want("D"))
      await run("D", () =>
        runPlatform(ctx, {
          section: "d",
          shape: "single",
          ratePerS: half,
          durationMs: Math.max(ms, 20_000),
          probe: true,
        }),
      );
    if (want("E")) {
      if (!influxd)
        notes.push("section E skipped: InfluxDB comes from INFLUX_URL, the benchmark cannot stop it");
      else {
        const outMs = opts.outageSeconds * 1000;
        await run("E", () =>
          runPlatform(ctx, {
            section: "e",
            shape: "single",
            ratePerS: half,
            durationMs: 5000 + outMs + 10_000,
            outage: { atMs: 5000, forMs: outMs },
          }),
        );
      }
    }
  }
  if (want("O")) {
    // The broker helper's overload benchmark (vanilla aedes vs the platform broker), when present.
    const mod = await import("./broker-overload.ts").catch(() => undefined);
    if (mod?.benchBrokerOverload) {
      await run("O", () =>
        mod.benchBrokerOverload({ durationMs: Math.min(ms, 15_000), print: (l: string) => progress(l) }),
      );
    } else notes.push("section O skipped: bench/broker-overload.ts has no benchBrokerOverload");
  }
  if (want("S")) {
    const { benchAuth } = await import("./auth.ts");
    await run("S", () => benchAuth({ devices: opts.authDevices, print: (l: string) => progress(l) }));
  }
  if (want("N")) {
    // Its own InfluxDB, command service (rollups on), broker and ingest: the shared ones of A–E are stopped first.
    await command?.svc.stop();
    command = undefined;
    await influxd?.stop();
    influxd = undefined;
    const { runEnergy } = await import("./energy.ts");
    try {
      energy = await runEnergy({
        lamps: kOpts.lamps,
        procs: kOpts.procs,
        runs: 5,
        rawRuns,
        dir: join(tmp, "n"),
        progress,
      });
    } catch (err) {
      failures.push(`N: ${(err as Error).message}`);
      progress(`section N failed: ${(err as Error).stack ?? err}`);
    }
  }
  if (want("K")) {
    // Its own command service and broker: the shared ones of A–E would only take memory and wake-ups.
    await command?.svc.stop();
    command = undefined;
    await influxd?.stop();
    influxd = undefined;
    const { runSchedule } = await import("./schedule.ts");
    await run("K", () => runSchedule({ ...kOpts, dir: join(tmp, "k"), progress }));
    const others = results.K?.platform.othersCpuPct ?? 0;
    if (others >= 10)
      notes.push(
        `section K: ${Math.round(others)} % of the machine's CPU went to processes outside the benchmark during the rollout`,
      );
  }
  for (const [k, r] of Object.entries(results) as [string, { othersCpuPct?: number } | undefined][]) {
    if ((r?.othersCpuPct ?? 0) >= 10)
      notes.push(
        `section ${k}: ${r?.othersCpuPct} % of the machine's CPU went to processes outside the benchmark (the machine was busy)`,
      );
  }
  notes.push(
    "all processes (publishers, broker, ingest, InfluxDB, baselines) share the same cores: rates are for this machine as a whole",
  );
  if (opts.cpuProf) profiles.push(...summariseProfiles(join(tmp, "profiles")));
  if (failures.length > 0) failed = true;
  for (const f of failures)
    notes.push(`section ${f.split(":")[0]} FAILED (${f.slice(f.indexOf(":") + 2)}); see the logs`);
} catch (err) {
  failed = true;
  console.error(`benchmark failed: ${(err as Error).stack ?? err}`);
} finally {
  await command?.svc.stop();
  await influxd?.stop();
}

const facts = { ...machine, influx: influxVersion, loadAvgAtEnd: loadAverage() };
console.log(render(results, facts, notes));
if (energy) console.log(["", ...(await import("./energy-report.ts")).renderEnergy(energy)].join("\n"));
if (profiles.length > 0) console.log(["", "== CPU profiles (--cpu-prof) ==", ...profiles].join("\n"));
if (opts.json) {
  writeFileSync(
    opts.json,
    `${JSON.stringify({ machine: facts, options: { ...opts, sections: [...opts.sections], k: kOpts, rawRuns }, results, energy, targets: targets(results), notes, profiles, failures }, null, 2)}\n`,
  );
  console.log(`\nJSON written to ${opts.json}`);
}
if (a.keep || failed) console.log(`\nlogs and data kept in ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
