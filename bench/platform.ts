// Sections A, B, D and E: the whole platform — publishers → broker → ingest (spool with fsync) → InfluxDB.
// A fresh broker and ingest per section, each with its own database, so that counts, CPU and memory are the
// section's own. The sustained rate is end to end: readings stored in InfluxDB divided by the time from the
// first publish to the moment the last of them was written (so a backlog left in the spool counts against it).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { INGEST_NODE_FLAGS } from "../services/ingest/runtime.ts";
import { type BenchContext, brokerAccess, bucketFor } from "./context.ts";
import { startPublishers } from "./load.ts";
import { startProbe } from "./probe.ts";
import { cpuMeter, RssSampler } from "./procstat.ts";
import { PROBE_ID, readingsPerMessage, type Shape } from "./readings.ts";
import { countStored, influxFor, logTail, scrape, startBroker, startIngest } from "./stack.ts";

export type PlatformSpec = {
  section: string;
  shape: Shape;
  /** Messages/s over the fleet; 0 = as fast as the platform takes them (windows kept full). */
  ratePerS: number;
  durationMs: number;
  /** Latency probe (section D). */
  probe?: boolean;
  /** Stop InfluxDB at `atMs` into the load for `forMs` (section E). */
  outage?: { atMs: number; forMs: number };
};

export type PlatformResult = {
  section: string;
  shape: Shape;
  targetRatePerS: number;
  loadSeconds: number;
  sent: number;
  acked: number;
  unacked: number;
  publisherDisconnects: number;
  expected: number;
  stored: number;
  missing: number;
  /** Readings/s the platform acknowledged (durable in the spool) while the load ran. */
  ackedRate: number;
  /** Readings/s end to end: stored ÷ (last written − first published). */
  storedRate: number;
  /** Seconds after the load stopped until the last reading was written. */
  tailSeconds: number;
  cpuSeconds: Record<string, number>;
  ingestCpuUsPerReading: number;
  brokerCpuUsPerReading: number;
  machineBusyPct: number;
  othersCpuPct: number;
  peakRssMB: {
    ingest: number;
    broker: number;
    /** Before the load started (connected, registry loaded). */
    ingestIdle: number;
    brokerIdle: number;
    ingestDuringOutage?: number;
    brokerDuringOutage?: number;
  };
  ingest: {
    rejected: number;
    writeBatches: number;
    writeMeanMs: number;
    writeErrors: number;
    spoolPeakLines: number;
    backpressurePausedSeen: boolean;
    /** From the ingest's own gauges (prom-client default metrics), sampled every 0.2–0.5 s. */
    peakHeapUsedMB: number;
    peakHeapTotalMB: number;
    peakExternalMB: number;
  };
  broker: { sessionDropped: number; overloadSeconds: number; publisherPauses: number; shed: number };
  writtenPerSecond: number[];
  latencyMs?: { p50: number; p99: number; max: number; samples: number; lost: number };
  outage?: { stoppedAt: number; restartedAt: number; seconds: number };
  logs: { broker: string; ingest: string };
};

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

export async function runPlatform(ctx: BenchContext, spec: PlatformSpec): Promise<PlatformResult> {
  const { section, shape } = spec;
  const per = readingsPerMessage(shape);
  const bucket = bucketFor(ctx, section);
  const influx = await influxFor(ctx.influx, bucket);
  const profile = (who: string) =>
    ctx.opts.cpuProf
      ? [
          "--cpu-prof",
          `--cpu-prof-dir=${join(ctx.tmp, "profiles")}`,
          `--cpu-prof-name=${who}-${section}.cpuprofile`,
        ]
      : [];
  const broker = await startBroker(ctx.logDir, brokerAccess(ctx), `broker-${section}`, profile("broker"));
  // Whatever happens, the section's processes end with it (they would steal the next section's CPU).
  const cleanup: (() => Promise<void> | void)[] = [() => broker.svc.stop(), () => influx.close()];
  try {
    return await measure();
  } finally {
    for (const step of cleanup.reverse()) await step();
  }

  async function measure(): Promise<PlatformResult> {
    const spoolDir = join(ctx.tmp, `spool-${section}`);
    mkdirSync(spoolDir, { recursive: true });
    const ingest = await startIngest({
      logDir: ctx.logDir,
      name: `ingest-${section}`,
      influx: ctx.influx,
      bucket,
      mqttPort: broker.port,
      registryUrl: ctx.command.url,
      token: ctx.access.tokens.ingest,
      spoolDir,
      devices: ctx.devices.length + 1,
      nodeArgs: [...INGEST_NODE_FLAGS, ...ctx.opts.ingestNodeArgs, ...profile("ingest")],
      script: ctx.opts.ingestScript,
    });
    cleanup.push(() => ingest.svc.stop());
    const pubs = await startPublishers({
      port: broker.port,
      devices: ctx.devices,
      procs: ctx.opts.publisherProcs,
      shape,
      window: ctx.opts.window,
      ratePerS: spec.ratePerS,
      durationMs: spec.durationMs,
      settleMs: 20_000,
      secrets: ctx.access.secrets,
    });
    cleanup.push(() => pubs.close());
    if (pubs.connected < ctx.devices.length)
      throw new Error(`only ${pubs.connected} of ${ctx.devices.length} devices connected`);
    const pids = () => ({
      ingest: ingest.svc.pid,
      broker: broker.svc.pid,
      influxd: ctx.influxd?.pid,
      ...Object.fromEntries(pubs.pids().map((p, i) => [`publishers${i}`, p])),
      bench: process.pid,
    });
    const rss = new RssSampler(() => ({ ingest: ingest.svc.pid, broker: broker.svc.pid }));
    cleanup.push(() => rss.stop());
    const before = await scrape(ingest.opsUrl);
    const cpu = cpuMeter(pids);
    const probe = spec.probe ? await startProbe(ctx, broker.port, influx) : undefined;
    if (probe) cleanup.push(() => probe.abort());

    // Progress of the writes, and the spool's depth, from the ingest's own metrics.
    const writtenAt: { t: number; n: number }[] = [];
    let spoolPeak = 0;
    const heapPeak = { used: 0, total: 0, external: 0 };
    let paused = false;
    let watching = true;
    let pollMs = 500;
    cleanup.push(() => {
      watching = false;
    });
    const watch = (async () => {
      while (watching) {
        const m = await scrape(ingest.opsUrl);
        if (m.size > 0) {
          writtenAt.push({
            t: Date.now(),
            n: (m.get("ingest_points_written_total") ?? 0) - (before.get("ingest_points_written_total") ?? 0),
          });
          spoolPeak = Math.max(spoolPeak, m.get("ingest_spool_depth_lines") ?? 0);
          heapPeak.used = Math.max(heapPeak.used, m.get("ingest_nodejs_heap_size_used_bytes") ?? 0);
          heapPeak.total = Math.max(heapPeak.total, m.get("ingest_nodejs_heap_size_total_bytes") ?? 0);
          heapPeak.external = Math.max(heapPeak.external, m.get("ingest_nodejs_external_memory_bytes") ?? 0);
          paused ||= (m.get("ingest_backpressure_paused") ?? 0) > 0;
        }
        await sleep(pollMs);
      }
    })();

    let outage: PlatformResult["outage"];
    const outageRun = spec.outage && ctx.influxd ? runOutage(ctx, spec.outage) : undefined;
    ctx.progress(
      `${section}: ${ctx.devices.length} devices, ${shape}, ${spec.ratePerS ? `${spec.ratePerS} msg/s` : "flood"}, ${spec.durationMs / 1000} s`,
    );
    const done = await pubs.run();
    if (outageRun !== undefined) outage = await outageRun;
    probe?.stopPublishing();

    // Wait until everything acknowledged is written: no progress for 30 s (45 s after an outage) ends it.
    pollMs = 200;
    const expected = done.acked * per;
    // The ingest's counter also counts the probe's readings (section D); the stored count below does not.
    const target = expected + (probe?.published() ?? 0);
    const stallMs = spec.outage ? 45_000 : 30_000;
    let last = { t: Date.now(), n: -1 };
    for (;;) {
      const cur = writtenAt.at(-1);
      if (cur && cur.n >= target) break;
      if (cur && cur.n !== last.n) last = { t: Date.now(), n: cur.n };
      if (Date.now() - last.t > stallMs) {
        ctx.progress(`${section}: writes stalled at ${cur?.n ?? 0} of ${expected}; giving up waiting`);
        break;
      }
      await sleep(100);
    }
    const lastWrite = writtenAt.find((w) => w.n >= target) ?? writtenAt.at(-1) ?? { t: Date.now(), n: 0 };
    const latency = probe ? await probe.finish() : undefined;
    const usage = cpu.take();
    watching = false;
    await watch;
    rss.stop();
    const after = await scrape(ingest.opsUrl);
    const brokerAfter = await scrape(broker.opsUrl);
    await pubs.close();
    await ingest.svc.stop();
    await broker.svc.stop();
    const stored = await countStored(influx, `device_id != '${PROBE_ID}'`);
    await influx.close();

    const d = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    const loadS = (done.stoppedAt - done.startedAt) / 1000;
    const spanS = Math.max(0.001, (lastWrite.t - done.startedAt) / 1000);
    // Written per second of the run: the counter's last value in each second, differenced.
    const cumulative: number[] = [];
    for (const w of writtenAt) {
      const s = Math.floor((w.t - done.startedAt) / 1000);
      if (s >= 0 && s < 3600) cumulative[s] = w.n;
    }
    const writtenPerSecond: number[] = [];
    let prev = 0;
    for (let i = 0; i < cumulative.length; i++) {
      const c = cumulative[i] ?? prev;
      writtenPerSecond.push(c - prev);
      prev = c;
    }
    // influxd's pid changes when section E restarts it: its CPU figure would mix two processes.
    if (spec.outage) delete usage.procs.influxd;
    const ingestCpu = usage.procs.ingest ?? 0;
    const result: PlatformResult = {
      section,
      shape,
      targetRatePerS: spec.ratePerS * per,
      loadSeconds: round(loadS, 1),
      sent: done.sent,
      acked: done.acked,
      unacked: done.unacked,
      publisherDisconnects: done.disconnects,
      expected,
      stored,
      missing: Math.max(0, expected - stored),
      ackedRate: round(expected / loadS),
      storedRate: round(Math.min(stored, expected) / spanS),
      tailSeconds: round((lastWrite.t - done.stoppedAt) / 1000, 1),
      cpuSeconds: Object.fromEntries(Object.entries(usage.procs).map(([k, v]) => [k, round(v, 2)])),
      ingestCpuUsPerReading: round((ingestCpu / Math.max(1, stored)) * 1e6, 2),
      brokerCpuUsPerReading: round(((usage.procs.broker ?? 0) / Math.max(1, stored)) * 1e6, 2),
      machineBusyPct: round((usage.machineBusy / Math.max(0.001, usage.machineTotal)) * 100),
      othersCpuPct: round((usage.others / Math.max(0.001, usage.machineTotal)) * 100),
      peakRssMB: {
        ingest: round(rss.peak("ingest") / 1e6),
        broker: round(rss.peak("broker") / 1e6),
        ingestIdle: round(rss.first("ingest") / 1e6),
        brokerIdle: round(rss.first("broker") / 1e6),
        ...(outage
          ? {
              ingestDuringOutage: round(rss.peak("ingest", outage.stoppedAt, outage.restartedAt) / 1e6),
              brokerDuringOutage: round(rss.peak("broker", outage.stoppedAt, outage.restartedAt) / 1e6),
            }
          : {}),
      },
      ingest: {
        rejected: d("ingest_readings_rejected_total"),
        writeBatches: d("ingest_write_latency_seconds_count"),
        writeMeanMs: round(
          (d("ingest_write_latency_seconds_sum") / Math.max(1, d("ingest_write_latency_seconds_count"))) *
            1000,
          1,
        ),
        writeErrors: d("ingest_write_batches_total") - d("ingest_write_latency_seconds_count"),
        spoolPeakLines: spoolPeak,
        backpressurePausedSeen: paused,
        peakHeapUsedMB: round(heapPeak.used / 1e6),
        peakHeapTotalMB: round(heapPeak.total / 1e6),
        peakExternalMB: round(heapPeak.external / 1e6),
      },
      broker: {
        sessionDropped: brokerAfter.get("broker_session_messages_dropped_total") ?? 0,
        overloadSeconds: round(brokerAfter.get("broker_overload_seconds_total") ?? 0, 1),
        publisherPauses: brokerAfter.get("broker_publishers_paused_total") ?? 0,
        shed: brokerAfter.get("broker_messages_shed_total") ?? 0,
      },
      writtenPerSecond,
      ...(latency ? { latencyMs: latency } : {}),
      ...(outage ? { outage } : {}),
      logs: { broker: broker.svc.logFile, ingest: ingest.svc.logFile },
    };
    if (result.missing > 0)
      ctx.progress(
        `${section}: ${result.missing} readings missing; ingest log tail:\n${logTail(ingest.svc.logFile)}`,
      );
    return result;
  }
}

async function runOutage(
  ctx: BenchContext,
  o: { atMs: number; forMs: number },
): Promise<NonNullable<PlatformResult["outage"]>> {
  const influxd = ctx.influxd;
  if (!influxd) throw new Error("outage needs the benchmark's own influxd");
  await sleep(o.atMs);
  const stoppedAt = Date.now();
  ctx.progress(`E: stopping InfluxDB for ${o.forMs / 1000} s`);
  await influxd.stop();
  await sleep(Math.max(0, stoppedAt + o.forMs - Date.now()));
  await influxd.start();
  const restartedAt = Date.now();
  ctx.progress(`E: InfluxDB answering again after ${round((restartedAt - stoppedAt) / 1000, 1)} s`);
  return { stoppedAt, restartedAt, seconds: round((restartedAt - stoppedAt) / 1000, 1) };
}
