// Section C: baselines measured in the same run, on the same machine, with the same fleet and readings.
//   C1 the broker alone: publishers → platform broker → one mqtt.js QoS 1 subscriber that only counts;
//   C2 InfluxDB alone: the ingest's line protocol for the same points, 5,000 lines a batch, 2 batches in flight;
//   C3 the bare pipeline: mqtt.js subscriber → JSON.parse → influxdb-client WriteApi (default batching).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readingLine, tagSet } from "../services/ingest/line-protocol.ts";
import { type BenchContext, brokerAccess, bucketFor } from "./context.ts";
import { startPublishers } from "./load.ts";
import { cpuMeter, RssSampler } from "./procstat.ts";
import { deviceState, nextReading, readingsPerMessage, type Shape } from "./readings.ts";
import { countStored, influxFor, startBroker } from "./stack.ts";
import type { SubscriberCommand, SubscriberStart, SubscriberStats } from "./subscriber-proc.ts";

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

export type BaselineResult = {
  name: string;
  shape: Shape | "lines";
  loadSeconds: number;
  /** Readings (points) handled end to end. */
  expected: number;
  done: number;
  /** Readings/s end to end (received by the subscriber, or stored in InfluxDB). */
  rate: number;
  messagesPerS?: number;
  stored?: number;
  cpuSeconds: Record<string, number>;
  /** CPU of the process under test (subscriber or bare pipeline) per reading. */
  cpuUsPerReading?: number;
  peakRssMB?: number;
  machineBusyPct: number;
  othersCpuPct: number;
};

function subscriberProc(): ChildProcess {
  return spawn(process.execPath, [join(import.meta.dirname, "subscriber-proc.ts")], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

function ask<T>(child: ChildProcess, cmd: SubscriberCommand, reply: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.off("message", on);
      reject(new Error(`subscriber: no "${reply}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: unknown) => {
      if ((m as { type?: string }).type !== reply) return;
      clearTimeout(t);
      child.off("message", on);
      resolve(m as T);
    };
    child.on("message", on);
    child.send(cmd);
  });
}

/** C1 (mode "count") and C3 (mode "influx"): publishers → fresh broker → subscriber child process. */
export async function runSubscriberBaseline(
  ctx: BenchContext,
  mode: "count" | "influx",
  shape: Shape,
): Promise<BaselineResult> {
  const name = mode === "count" ? `C1-broker-alone-${shape}` : `C3-bare-pipeline-${shape}`;
  const per = readingsPerMessage(shape);
  const broker = await startBroker(ctx.logDir, brokerAccess(ctx), `broker-${name}`);
  const bucket = bucketFor(ctx, `c3_${shape}`);
  const influx = mode === "influx" ? await influxFor(ctx.influx, bucket) : undefined;
  const sub = subscriberProc();
  try {
    const start: SubscriberStart = {
      type: "start",
      port: broker.port,
      clientId: `svc-ingest-baseline-${mode}`,
      username: "svc-ingest",
      password: ctx.access.tokens.ingest,
      mode,
      districts: ctx.districts,
      ...(mode === "influx" ? { influx: { ...ctx.influx, bucket } } : {}),
    };
    await ask(sub, start, "ready");
    const pubs = await startPublishers({
      port: broker.port,
      devices: ctx.devices,
      procs: ctx.opts.publisherProcs,
      shape,
      window: ctx.opts.window,
      ratePerS: 0,
      durationMs: ctx.opts.seconds * 1000,
      settleMs: 20_000,
      secrets: ctx.access.secrets,
    });
    const pids = () => ({
      subscriber: sub.pid,
      broker: broker.svc.pid,
      influxd: ctx.influxd?.pid,
      ...Object.fromEntries(pubs.pids().map((p, i) => [`publishers${i}`, p])),
      bench: process.pid,
    });
    const rss = new RssSampler(() => ({ subscriber: sub.pid }));
    const cpu = cpuMeter(pids);
    ctx.progress(`${name}: ${ctx.devices.length} devices, ${shape}, flood, ${ctx.opts.seconds} s`);
    const done = await pubs.run();
    const expected = done.acked * per;
    // Wait until the subscriber has everything (and, for C3, InfluxDB accepted it): 30 s without progress ends it.
    let stats = await ask<SubscriberStats>(sub, { type: "stats" }, "stats");
    let last = { t: Date.now(), n: -1 };
    let flushed = false;
    for (;;) {
      const n = mode === "count" ? stats.readings : stats.written;
      if (n >= expected) break;
      if (mode === "influx" && !flushed && stats.readings >= expected) {
        // Default batching holds a partial batch for up to 60 s (flushInterval): push it out now.
        await ask(sub, { type: "flush" }, "flushed", 60_000);
        flushed = true;
      }
      if (n !== last.n) last = { t: Date.now(), n };
      if (Date.now() - last.t > 30_000) {
        ctx.progress(`${name}: stalled at ${n} of ${expected}`);
        break;
      }
      await sleep(100);
      stats = await ask<SubscriberStats>(sub, { type: "stats" }, "stats");
    }
    const usage = cpu.take();
    rss.stop();
    await pubs.close();
    const endAt = mode === "count" ? stats.lastAt : stats.lastWrittenAt;
    const doneCount = mode === "count" ? stats.readings : stats.written;
    const spanS = Math.max(0.001, (endAt - done.startedAt) / 1000);
    const stored = influx ? await countStored(influx) : undefined;
    await influx?.close();
    const subCpu = usage.procs.subscriber ?? 0;
    return {
      name,
      shape,
      loadSeconds: round((done.stoppedAt - done.startedAt) / 1000, 1),
      expected,
      done: doneCount,
      rate: round(Math.min(doneCount, expected) / spanS),
      messagesPerS: round(Math.min(stats.messages, done.acked) / spanS),
      ...(stored === undefined ? {} : { stored }),
      cpuSeconds: Object.fromEntries(Object.entries(usage.procs).map(([k, v]) => [k, round(v, 2)])),
      cpuUsPerReading: round((subCpu / Math.max(1, doneCount)) * 1e6, 2),
      peakRssMB: round(rss.peak("subscriber") / 1e6),
      machineBusyPct: round((usage.machineBusy / Math.max(0.001, usage.machineTotal)) * 100),
      othersCpuPct: round((usage.others / Math.max(0.001, usage.machineTotal)) * 100),
    };
  } finally {
    if (sub.connected) sub.send({ type: "exit" } satisfies SubscriberCommand);
    await Promise.race([new Promise((r) => sub.once("exit", r)), sleep(10_000)]);
    if (sub.exitCode === null) sub.kill("SIGKILL");
    await broker.svc.stop();
  }
}

const LINES_PER_BATCH = 5000;
const IN_FLIGHT = 2;

/** C2: InfluxDB's own batched write rate for the ingest's line protocol of the same kind of points. */
export async function runInfluxAlone(ctx: BenchContext): Promise<BaselineResult> {
  const influx = await influxFor(ctx.influx, bucketFor(ctx, "c2"));
  const states = ctx.devices.map(deviceState);
  const tags = ctx.devices.map((id) => tagSet({ device_id: id, district: ctx.districts[id] ?? "unknown" }));
  let cursor = 0;
  // Built as the ingest builds them (services/ingest/line-protocol.ts), in this process, as the ingest must.
  const batch = (): string[] => {
    const now = Date.now();
    const lines = new Array<string>(LINES_PER_BATCH);
    for (let i = 0; i < LINES_PER_BATCH; i++) {
      const k = cursor++ % states.length;
      const r = nextReading(states[k] as ReturnType<typeof deviceState>, now);
      const line = readingLine("streetlight", tags[k] as string, r, now);
      lines[i] = line.slice(0, -1);
    }
    return lines;
  };
  const cpu = cpuMeter(() => ({ influxd: ctx.influxd?.pid, bench: process.pid }));
  ctx.progress(
    `C2-influx-alone: ${LINES_PER_BATCH} lines a batch, ${IN_FLIGHT} in flight, ${ctx.opts.seconds} s`,
  );
  const t0 = Date.now();
  const until = t0 + ctx.opts.seconds * 1000;
  let written = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < until) {
        const lines = batch();
        try {
          await influx.writeLines(lines, "ns");
          written += lines.length;
        } catch {
          errors++;
          await sleep(200);
        }
      }
    }),
  );
  const elapsed = (Date.now() - t0) / 1000;
  const usage = cpu.take();
  const stored = await countStored(influx);
  await influx.close();
  if (errors > 0) ctx.progress(`C2: ${errors} write errors`);
  return {
    name: "C2-influx-alone",
    shape: "lines",
    loadSeconds: round(elapsed, 1),
    expected: written,
    done: written,
    rate: round(written / elapsed),
    stored,
    cpuSeconds: Object.fromEntries(Object.entries(usage.procs).map(([k, v]) => [k, round(v, 2)])),
    machineBusyPct: round((usage.machineBusy / Math.max(0.001, usage.machineTotal)) * 100),
    othersCpuPct: round((usage.others / Math.max(0.001, usage.machineTotal)) * 100),
  };
}
