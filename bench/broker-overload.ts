// Broker overload benchmark: the same flood against vanilla aedes 1.2 and against the platform's broker
// (services/broker), in one run, each broker in a child process of its own, loopback only, bounded time.
//   node bench/broker-overload.ts [--duration 15] [--publishers 150] [--window 1000] [--subscriber-delay 0]
// Flood: N raw QoS 1 publishers, each keeping `window` PUBLISHes unacknowledged, as fast as the broker
// takes them; one ingest-like subscriber (mqtt.js, clean session 0, QoS 1) on city/v1/+/+/telemetry.
// Measured: delivered messages/s over time; latency publish → deliver (which includes the time a message
// waits in its publisher's window: with W × N messages in flight it is at least W × N / rate, whatever the
// broker does) and PUBACK → deliver (the time inside the broker); peak broker RSS; losses.
import { fork } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type LoadOptions, type LoadResult, runLoad } from "./broker-overload-load.ts";
import type { ServerReport } from "./broker-overload-server.ts";

export type BrokerMode = "vanilla" | "ours";

export type BenchBrokerOverloadOptions = Partial<Omit<LoadOptions, "port">> & {
  durationMs?: number;
  /** Longest wait for the backlog to reach the subscriber after the flood stops. */
  drainLimitMs?: number;
  modes?: BrokerMode[];
  print?: (line: string) => void;
};

export type ModeResult = {
  mode: BrokerMode;
  /** Median delivered messages/s over the flood (first second excluded). */
  deliveredPerSec: number;
  /** Mean delivered messages/s over the flood's last 5 s: did it recover? */
  lastSecondsPerSec: number;
  latencyMs: LoadResult["latencyMs"];
  brokerLatencyMs: LoadResult["brokerLatencyMs"];
  peakRssMB: number;
  load: LoadResult;
  overload?: unknown;
  /** Why the broker process died, if it did (vanilla aedes overflows its stack when a backlog loses its
   * subscriber, see services/broker/router.ts). */
  crash?: string;
};

export type BenchBrokerOverloadResult = {
  options: Required<Omit<BenchBrokerOverloadOptions, "print" | "modes">>;
  results: ModeResult[];
  /** ours / vanilla: > 1 is better for the rate, < 1 is better for latency and memory. */
  ratios?: { deliveredPerSec: number; p50: number; p99: number; brokerP99: number; peakRss: number };
};

const SERVER = resolve(import.meta.dirname, "broker-overload-server.ts");

async function runMode(
  mode: BrokerMode,
  load: Omit<LoadOptions, "port">,
  durationMs: number,
  drainLimitMs: number,
) {
  const child = fork(SERVER, [mode], {
    execPath: process.execPath,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let latest: ServerReport = { mode, peakRssBytes: Number.NaN, final: false };
  let crashed = false; // exited on its own, unsuccessfully
  child.on("message", (m: ServerReport | { port: number }) => {
    if ("peakRssBytes" in m) latest = m;
  });
  child.once("exit", (code) => {
    crashed = code !== 0;
  });
  try {
    const port = await new Promise<number>((ok, fail) => {
      child.once("message", (m: { port: number }) => ok(m.port));
      child.once("exit", (code) => fail(new Error(`${mode} broker exited (${code}) before listening`)));
    });
    const result = await runLoad({ ...load, port }, durationMs, drainLimitMs);
    const report = await new Promise<ServerReport>((ok) => {
      if (child.exitCode !== null && child.stderr?.readableEnded !== false) return ok(latest);
      child.on("message", (m: ServerReport) => m.final && ok(m));
      child.once("close", () => ok(latest)); // after stderr is read
      child.send({ cmd: "stop" });
    });
    // The first line naming an error, e.g. "RangeError: Maximum call stack size exceeded".
    const crash = crashed ? (/^\w*Error: .*$/m.exec(stderr)?.[0] ?? "exited with an error") : undefined;
    return { result, report, crash };
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

function summarize(
  mode: BrokerMode,
  load: LoadResult,
  report: ServerReport,
  crash: string | undefined,
  durationMs: number,
): ModeResult {
  const flood = load.perSecond.filter((s) => s.t >= 1 && s.t < Math.floor(durationMs / 1000));
  const counts = flood.map((s) => s.delivered).sort((a, b) => a - b);
  const last = flood.slice(-5);
  return {
    mode,
    deliveredPerSec: counts[Math.floor(counts.length / 2)] ?? 0,
    lastSecondsPerSec: Math.round(last.reduce((n, s) => n + s.delivered, 0) / Math.max(1, last.length)),
    latencyMs: load.latencyMs,
    brokerLatencyMs: load.brokerLatencyMs,
    peakRssMB: Math.round(report.peakRssBytes / 1e6),
    load,
    overload: report.overload,
    crash,
  };
}

export async function benchBrokerOverload(
  opts: BenchBrokerOverloadOptions = {},
): Promise<BenchBrokerOverloadResult> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const options = {
    durationMs: opts.durationMs ?? 15_000,
    drainLimitMs: opts.drainLimitMs ?? 60_000,
    publishers: opts.publishers ?? 150,
    window: opts.window ?? 1000,
    payloadBytes: opts.payloadBytes ?? 150,
    subscriberDelayMs: opts.subscriberDelayMs ?? 0,
  };
  const { durationMs, drainLimitMs, ...load } = options;
  const results: ModeResult[] = [];
  for (const mode of opts.modes ?? ["vanilla", "ours"]) {
    print(
      `broker-overload: ${mode}: ${load.publishers} publishers × window ${load.window}, ${durationMs / 1000} s`,
    );
    const { result, report, crash } = await runMode(mode, load, durationMs, drainLimitMs);
    const r = summarize(mode, result, report, crash, durationMs);
    results.push(r);
    print(`  delivered/s over time: ${result.perSecond.map((s) => s.delivered).join(" ")}`);
    print(
      `  p99 latency publish→deliver (ms) over time: ${result.perSecond.map((s) => Math.round(s.p99)).join(" ")}`,
    );
    print(
      `  p99 latency PUBACK→deliver (ms) over time: ${result.perSecond.map((s) => Math.round(s.brokerP99)).join(" ")}`,
    );
    const ms = (x: number) => Math.round(x);
    print(
      `  ${mode}: ${r.deliveredPerSec} msg/s (last 5 s ${r.lastSecondsPerSec}); latency publish→deliver p50 ` +
        `${ms(r.latencyMs.p50)} p99 ${ms(r.latencyMs.p99)} ms, PUBACK→deliver p50 ${ms(r.brokerLatencyMs.p50)} ` +
        `p99 ${ms(r.brokerLatencyMs.p99)} ms; peak RSS ${r.peakRssMB} MB; acked ${result.acked}, delivered ` +
        `${result.delivered}, lost ${result.lost}, duplicates ${result.duplicates}; backlog drained in ${ms(result.drainMs)} ms` +
        (crash ? `; the broker process died when the load ended: ${crash}` : ""),
    );
  }
  const vanilla = results.find((r) => r.mode === "vanilla");
  const ours = results.find((r) => r.mode === "ours");
  const ratio = (a: number, b: number) => Math.round((a / Math.max(b, 1e-9)) * 100) / 100;
  const ratios =
    vanilla && ours
      ? {
          deliveredPerSec: ratio(ours.deliveredPerSec, vanilla.deliveredPerSec),
          p50: ratio(ours.latencyMs.p50, vanilla.latencyMs.p50),
          p99: ratio(ours.latencyMs.p99, vanilla.latencyMs.p99),
          brokerP99: ratio(ours.brokerLatencyMs.p99, vanilla.brokerLatencyMs.p99),
          peakRss: ratio(ours.peakRssMB, vanilla.peakRssMB),
        }
      : undefined;
  if (ratios) print(`broker-overload: ours / vanilla: ${JSON.stringify(ratios)}`);
  return { options, results, ratios };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "15" },
      publishers: { type: "string", default: "150" },
      window: { type: "string", default: "1000" },
      "subscriber-delay": { type: "string", default: "0" },
      modes: { type: "string", default: "vanilla,ours" },
    },
  });
  await benchBrokerOverload({
    durationMs: Number(values.duration) * 1000,
    publishers: Number(values.publishers),
    window: Number(values.window),
    subscriberDelayMs: Number(values["subscriber-delay"]),
    modes: values.modes.split(",") as BrokerMode[],
  });
  process.exit(0);
}
