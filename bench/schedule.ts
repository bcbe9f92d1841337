// Section K: a calendar to N simulated lamps (default 10,000) in one district, all acked — the target is
// under 30 s on this machine. Method and how to read it: docs/benchmarks.md, section K.
//   1. seed the fleet into a fresh registry database (setup shortcut, bench/schedule-fleet.ts);
//   2. the real command service (no InfluxDB needed) and the real broker with access control;
//   3. the lamps connect through 2–4 processes at a bounded rate (connect time reported apart);
//   4. baseline: a bare mqtt.js publisher sends the same-size document retained, QoS 1, to every lamp topic, and
//      a bare subscriber counts the acks (the command service is not on MQTT meanwhile);
//   5. the command service restarts with its MQTT account; programs and the calendar are created; then the
//      measured part: PUT /v1/assignments on the district → GET /v1/rollouts/{id} every 200 ms until every lamp
//      has applied it. Cross-checked against the acks the lamps say they sent.
//   node bench/schedule.ts [--lamps 1000] [--procs 2]     (or `npm run bench -- --section K --lamps N`)
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { cpuSeconds } from "./procstat.ts";
import type { BaselineCommand, BaselineDone, BaselineMessage } from "./schedule-baseline-proc.ts";
import { baselineDocument, lampIds, seedFleet, writeKTokens } from "./schedule-fleet.ts";
import { type LampFleet, startLampFleet } from "./schedule-lamps.ts";
import { measureRollout, type OverloadCounts, overloadSince, type PlatformRun } from "./schedule-measure.ts";
import { type Broker, type Service, startBroker, startCommand } from "./stack.ts";

export type ScheduleOptions = {
  lamps: number;
  /** Lamp processes (2–4). */
  procs: number;
  /** Lamp CONNECTs per second, all processes together (bounded, before the clock starts). */
  connectRatePerS: number;
  /** Folder for the section's registry database and logs (a temporary one when absent). */
  dir?: string;
  progress?: (line: string) => void;
};

export type ScheduleResult = {
  lamps: number;
  procs: number;
  seedSeconds: number;
  connect: { seconds: number; subscribed: number; refused: number; closed: number; ratePerS: number };
  baseline: {
    /** First publish → every lamp's applied ack counted, s (undefined: not all acked). */
    seconds: number | undefined;
    publishSeconds: number;
    lampsAcked: number;
    otherAcks: number;
    docBytes: number;
    cpuS: number;
    brokerCpuS: number;
    brokerOverload: OverloadCounts;
    ackedPerSecond: number[];
  };
  platform: PlatformRun;
  /** platform seconds ÷ baseline seconds. */
  ratio: number | undefined;
};

const BASELINE_PROC = resolve(import.meta.dirname, "schedule-baseline-proc.ts");

async function runBaseline(
  broker: Broker,
  fleet: LampFleet,
  ids: string[],
  password: string,
  progress: (l: string) => void,
): Promise<ScheduleResult["baseline"]> {
  const child = fork(BASELINE_PROC, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = <T extends BaselineMessage["type"]>(type: T) =>
    new Promise<Extract<BaselineMessage, { type: T }>>((ok, fail) => {
      const on = (m: BaselineMessage) => {
        if (m.type !== type) return;
        child.off("message", on);
        ok(m as Extract<BaselineMessage, { type: T }>);
      };
      child.on("message", on);
      child.once("exit", (code) => fail(new Error(`baseline process exited (${code}) waiting for ${type}`)));
    });
  const ask = (c: BaselineCommand) => child.send(c);
  try {
    const ready = next("ready");
    ask({ type: "start", port: broker.port, username: "svc-command", password, lampIds: ids });
    await ready;
    // Version 1 000 000: far above anything the platform's documents reach in this run (lamps are reset anyway).
    const payload = JSON.stringify(baselineDocument(1_000_000));
    const broker0 = cpuSeconds(broker.svc.pid) ?? 0;
    const overload = await overloadSince(broker.opsUrl);
    const done = next("done");
    ask({ type: "go", payload, version: 1_000_000 });
    const d: BaselineDone = await done;
    const brokerCpuS = (cpuSeconds(broker.svc.pid) ?? 0) - broker0;
    const brokerOverload = await overload();
    const lamps = await fleet.stats();
    const seconds = d.allAckedAt ? (d.allAckedAt - d.startedAt) / 1000 : undefined;
    progress(
      `K baseline: ${d.lampsAcked}/${ids.length} lamps acked in ${seconds?.toFixed(2) ?? "—"} s (all published in ${((d.publishedAt - d.startedAt) / 1000).toFixed(2)} s; lamps sent ${lamps.acksSent} acks, ${lamps.applied} applied, document ${lamps.docBytes} bytes)`,
    );
    const cleared = next("cleared");
    ask({ type: "clear" });
    await cleared;
    return {
      seconds,
      publishSeconds: (d.publishedAt - d.startedAt) / 1000,
      lampsAcked: d.lampsAcked,
      otherAcks: d.otherAcks,
      docBytes: lamps.docBytes,
      cpuS: d.cpuMs / 1000,
      brokerCpuS,
      brokerOverload,
      ackedPerSecond: d.ackedPerSecond,
    };
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    ask({ type: "exit" });
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

export async function runSchedule(o: ScheduleOptions): Promise<ScheduleResult> {
  const progress = o.progress ?? ((l: string) => console.error(l));
  const own = !o.dir;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "bench-k-"));
  mkdirSync(join(dir, "logs"), { recursive: true });
  let command: Service | undefined;
  let broker: Broker | undefined;
  let fleet: LampFleet | undefined;
  let ok = false;
  try {
    const tokens = writeKTokens(dir);
    const s0 = performance.now();
    const lamps = await seedFleet(join(dir, "registry.sqlite"), o.lamps);
    const seedSeconds = (performance.now() - s0) / 1000;
    progress(`K: ${o.lamps} lamps seeded in ${seedSeconds.toFixed(1)} s (registry stores, scrypt ln=4)`);
    // No InfluxDB in this section: nothing listens at INFLUX_URL, and delivery must not need it (compliance does).
    const commandOpts = {
      logDir: join(dir, "logs"),
      dataDir: dir,
      tokenFile: tokens.file,
      env: { COMMAND_RATE_LIMIT_PER_TOKEN: "100000", INFLUX_URL: "http://127.0.0.1:9" },
      timeoutMs: 60_000,
    };
    const setup = await startCommand({ ...commandOpts, name: "command-k-setup" });
    command = setup.svc;
    const { port, url } = setup;
    broker = await startBroker(join(dir, "logs"), { registryUrl: url, token: tokens.broker }, "broker-k");

    fleet = startLampFleet(lamps, o.procs);
    const c = await fleet.connect(broker.port, { ratePerS: o.connectRatePerS, inFlight: 200 });
    const connect = { ...c, ratePerS: c.subscribed / Math.max(c.seconds, 1e-3) };
    progress(
      `K: ${c.subscribed}/${o.lamps} lamps connected and subscribed in ${c.seconds.toFixed(1)} s (${Math.round(connect.ratePerS)}/s; ${c.refused} refused, ${c.closed} closed) over ${o.procs} processes`,
    );
    if (c.subscribed !== o.lamps) throw new Error(`only ${c.subscribed} of ${o.lamps} lamps connected`);

    const baseline = await runBaseline(broker, fleet, lampIds(o.lamps), tokens.command, progress);
    await fleet.reset();

    // The platform: the command service again, now on MQTT with its own account.
    await command.stop();
    command = (
      await startCommand({
        ...commandOpts,
        name: "command-k",
        port,
        mqtt: { url: `mqtt://127.0.0.1:${broker.port}`, password: tokens.command },
      })
    ).svc;
    const platform = await measureRollout({
      url,
      token: tokens.engineer,
      command,
      broker,
      fleet,
      lamps: o.lamps,
      progress,
    });
    const ratio =
      platform.seconds !== undefined && baseline.seconds !== undefined
        ? platform.seconds / baseline.seconds
        : undefined;
    progress(
      `K: platform ${platform.seconds?.toFixed(2) ?? "—"} s vs baseline ${baseline.seconds?.toFixed(2) ?? "—"} s (×${ratio?.toFixed(2) ?? "—"})`,
    );
    ok = true;
    return { lamps: o.lamps, procs: o.procs, seedSeconds, connect, baseline, platform, ratio };
  } finally {
    await fleet?.stop();
    await command?.stop();
    await broker?.svc.stop();
    if (own && ok) rmSync(dir, { recursive: true, force: true });
    else if (own) progress(`K: logs and registry kept in ${dir}`);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      lamps: { type: "string", default: "1000" },
      procs: { type: "string", default: "2" },
      "connect-rate": { type: "string", default: "1000" },
    },
  });
  const r = await runSchedule({
    lamps: Number(values.lamps),
    procs: Number(values.procs),
    connectRatePerS: Number(values["connect-rate"]),
  });
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
