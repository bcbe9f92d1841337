// The platform's services started as real processes on free ports, the way `npm start` runs them, for
// integration tests: broker, command service (registry) and ingest, against the InfluxDB the test gives.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Child, pickPort, startChild, waitForHttp } from "../../../scripts/platform/processes.ts";
import type { DeviceRegistration } from "../../../services/contract/devices.ts";
import { INGEST_NODE_FLAGS } from "../../../services/ingest/runtime.ts";
import { connectInflux, type InfluxClient } from "../../../services/lib/influx/index.ts";
import { silentLogger } from "../../../services/lib/log.ts";

const ROOT = resolve(import.meta.dirname, "../../..");

export type InfluxTarget = { url: string; token: string; org: string; bucket: string };

export type Stack = {
  mqttUrl: string;
  commandUrl: string;
  ingestOps: string;
  brokerOps: string;
  influx: InfluxClient;
  dir: string;
  register(devices: DeviceRegistration[]): Promise<void>;
  /** Stops the ingest (SIGTERM: clean; SIGKILL: a crash) and starts it again on the same spool and client id. */
  restartIngest(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  killIngest(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  startIngest(): Promise<void>;
  metric(service: "ingest" | "broker", name: string, labels?: Record<string, string>): Promise<number>;
  ingestPid(): number | undefined;
  stop(): Promise<void>;
};

export async function startStack(
  influxTarget: InfluxTarget,
  opts: { ingestEnv?: Record<string, string> } = {},
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "stack-"));
  const logDir = join(dir, "logs");
  const ports = {
    mqtt: await pickPort(0),
    ws: await pickPort(0),
    brokerOps: await pickPort(0),
    command: await pickPort(0),
    ingestOps: await pickPort(0),
  };
  const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
  const commandUrl = `http://127.0.0.1:${ports.command}`;
  const ingestOps = `http://127.0.0.1:${ports.ingestOps}`;
  const brokerOps = `http://127.0.0.1:${ports.brokerOps}`;
  const children = new Map<string, Child>();
  let expectExit = false;
  const common = {
    LOG_LEVEL: "info",
    MQTT_URL: mqttUrl,
    REGISTRY_URL: commandUrl,
    INFLUX_URL: influxTarget.url,
    INFLUX_TOKEN: influxTarget.token,
    INFLUX_ORG: influxTarget.org,
    INFLUX_BUCKET: influxTarget.bucket,
  };
  const start = (name: string, script: string, env: Record<string, string>) => {
    const child = startChild({
      name,
      script: join(ROOT, script),
      nodeArgs: name === "ingest" ? INGEST_NODE_FLAGS : [],
      env: { ...common, ...env },
      logDir,
      cwd: ROOT,
      echo: () => undefined,
      onExit: (n, code, signal) => {
        if (!expectExit && children.get(n) === child)
          console.error(`${n} exited (code ${code}, signal ${signal}); log: ${child.logFile}`);
      },
    });
    children.set(name, child);
    return child;
  };
  const ingestEnv = {
    INGEST_OPS_PORT: String(ports.ingestOps),
    INGEST_OPS_HOST: "127.0.0.1",
    INGEST_SPOOL_DIR: join(dir, "spool"),
    INGEST_CLIENT_ID: `ingest-${ports.ingestOps}`,
    ...opts.ingestEnv,
  };
  const startIngest = async () => {
    start("ingest", "services/ingest/main.ts", ingestEnv);
    await waitForHttp(`${ingestOps}/health`, 60_000, () => true);
  };
  const killIngest = async (signal: "SIGTERM" | "SIGKILL") => {
    const child = children.get("ingest");
    if (!child) return;
    expectExit = true;
    if (signal === "SIGKILL") {
      child.proc.kill("SIGKILL");
      await new Promise((r) => child.proc.once("exit", r));
    } else await child.stop(30_000);
    children.delete("ingest");
    expectExit = false;
  };

  start("broker", "services/broker/main.ts", {
    BROKER_HOST: "127.0.0.1",
    BROKER_MQTT_PORT: String(ports.mqtt),
    BROKER_WS_PORT: String(ports.ws),
    BROKER_OPS_PORT: String(ports.brokerOps),
  });
  await waitForHttp(`${brokerOps}/health`, 30_000);
  start("command", "services/command/main.ts", {
    COMMAND_HOST: "127.0.0.1",
    COMMAND_PORT: String(ports.command),
    REGISTRY_DB: join(dir, "registry.sqlite"),
  });
  await waitForHttp(`${commandUrl}/health`, 30_000);
  await startIngest();
  const influx = await connectInflux({ ...influxTarget, timeoutMs: 10_000 }, silentLogger());

  return {
    mqttUrl,
    commandUrl,
    ingestOps,
    brokerOps,
    influx,
    dir,
    async register(devices) {
      const res = await fetch(`${commandUrl}/v1/devices/bulk`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ devices, mode: "upsert" }),
      });
      if (!res.ok) throw new Error(`register: HTTP ${res.status} ${await res.text()}`);
    },
    async restartIngest(signal) {
      await killIngest(signal);
      await startIngest();
    },
    killIngest,
    startIngest,
    async metric(service, name, labels = {}) {
      const text = await (await fetch(`${service === "ingest" ? ingestOps : brokerOps}/metrics`)).text();
      let sum = 0;
      for (const line of text.split("\n")) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
          sum += Number(line.split(" ").at(-1));
      }
      return sum;
    },
    ingestPid: () => children.get("ingest")?.proc.pid,
    async stop() {
      expectExit = true;
      for (const name of ["ingest", "command", "broker"]) await children.get(name)?.stop(20_000);
      await influx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { eventually } from "./wait.ts";

export async function countOf(influx: InfluxClient, measurement: string, where = ""): Promise<number> {
  const series = await influx.query(`SELECT count(seq) FROM ${measurement}${where ? ` WHERE ${where}` : ""}`);
  return Number(series[0]?.values[0]?.[1] ?? 0);
}
