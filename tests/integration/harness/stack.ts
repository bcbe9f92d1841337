// The platform's services started as real processes on free ports, the way `npm start` runs them, for
// integration tests: broker, command service (registry) and ingest, against the InfluxDB the test gives.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { type Child, pickPort, startChild, waitForHttp } from "../../../scripts/platform/processes.ts";
import { ensureLocalSecrets, type LocalPrincipal } from "../../../services/command/bootstrap-secrets.ts";
import type { DeviceRegistration } from "../../../services/contract/devices.ts";
import { type DeviceKind, deviceTopic } from "../../../services/contract/topics.ts";
import { INGEST_NODE_FLAGS } from "../../../services/ingest/runtime.ts";
import { connectInflux, type InfluxClient } from "../../../services/lib/influx/index.ts";
import { silentLogger } from "../../../services/lib/log.ts";
import { bearerJson } from "./http.ts";
import { metricValue } from "./metrics.ts";

const ROOT = resolve(import.meta.dirname, "../../..");

export type InfluxTarget = { url: string; token: string; org: string; bucket: string };

export type Stack = {
  mqttUrl: string;
  commandUrl: string;
  ingestOps: string;
  brokerOps: string;
  influx: InfluxClient;
  dir: string;
  /** Registers (upserts) devices as the local engineer; keeps the credentials of the ones it created. */
  register(devices: DeviceRegistration[]): Promise<Map<string, string>>;
  /** The secret the registry gave a device registered through this stack. */
  secretOf(deviceId: string): string;
  /** A connected MQTT client of the device with its own credentials (one per device, closed by stop()). */
  device(deviceId: string, opts?: IClientOptions): Promise<MqttClient>;
  /** Publishes on the device's own topic through its own connection (QoS 1 unless told otherwise). */
  publish(
    kind: DeviceKind,
    deviceId: string,
    payload: string | Buffer,
    opts?: { qos?: 0 | 1 },
  ): Promise<void>;
  /** An HTTP call to the command service with a local principal's token (default: the engineer). */
  api(
    method: string,
    path: string,
    body?: unknown,
    as?: LocalPrincipal,
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field by the tests
  ): Promise<{ status: number; body: any }>;
  token(principal: LocalPrincipal): string;
  /** Stops the ingest (SIGTERM: clean; SIGKILL: a crash) and starts it again on the same spool and client id. */
  restartIngest(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  killIngest(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  startIngest(): Promise<void>;
  /** The sum of a metric's samples with these labels; throws when the service has no such metric. */
  metric(service: "ingest" | "broker", name: string, labels?: Record<string, string>): Promise<number>;
  ingestPid(): number | undefined;
  stop(): Promise<void>;
};

export async function startStack(
  influxTarget: InfluxTarget,
  opts: { ingestEnv?: Record<string, string>; commandEnv?: Record<string, string> } = {},
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
  const secrets = ensureLocalSecrets(join(dir, "secrets"));
  const deviceSecrets = new Map<string, string>();
  const deviceClients = new Map<string, Promise<MqttClient>>();
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
    INGEST_CLIENT_ID: `svc-ingest-${ports.ingestOps}`,
    INGEST_API_TOKEN: secrets.token("svc-ingest"),
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

  start("command", "services/command/main.ts", {
    COMMAND_HOST: "127.0.0.1",
    COMMAND_PORT: String(ports.command),
    REGISTRY_DB: join(dir, "registry.sqlite"),
    COMMAND_TOKEN_FILE: secrets.tokenFile,
    COMMAND_MQTT_USERNAME: "svc-command",
    COMMAND_MQTT_PASSWORD: secrets.token("svc-command"),
    // Tests call the API fast; the limit itself is tested in the command service's own tests.
    COMMAND_RATE_LIMIT_PER_TOKEN: "100000",
    ...opts.commandEnv,
  });
  await waitForHttp(`${commandUrl}/health`, 30_000);
  start("broker", "services/broker/main.ts", {
    BROKER_HOST: "127.0.0.1",
    BROKER_MQTT_PORT: String(ports.mqtt),
    BROKER_WS_PORT: String(ports.ws),
    BROKER_OPS_PORT: String(ports.brokerOps),
    BROKER_API_TOKEN: secrets.token("svc-broker"),
    BROKER_ACCESS_SNAPSHOT: join(dir, "broker-access.json"),
  });
  await waitForHttp(`${brokerOps}/health`, 30_000);
  await startIngest();
  const influx = await connectInflux({ ...influxTarget, timeoutMs: 10_000 }, silentLogger());
  function secretOf(deviceId: string): string {
    const secret = deviceSecrets.get(deviceId);
    if (!secret) throw new Error(`no credentials for ${deviceId}: register it through this stack first`);
    return secret;
  }
  function device(deviceId: string, opts: IClientOptions = {}): Promise<MqttClient> {
    let client = deviceClients.get(deviceId);
    if (!client) {
      client = mqtt.connectAsync(mqttUrl, {
        clientId: deviceId,
        username: deviceId,
        password: secretOf(deviceId),
        reconnectPeriod: 500,
        ...opts,
      });
      deviceClients.set(deviceId, client);
      client.catch(() => deviceClients.delete(deviceId));
    }
    return client;
  }
  const api: Stack["api"] = (method, path, body, as = "engineer") =>
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field by the tests
    bearerJson<any>(commandUrl, secrets.token(as), { lenient: true })(method, path, body);

  return {
    mqttUrl,
    commandUrl,
    ingestOps,
    brokerOps,
    influx,
    dir,
    async register(devices) {
      const res = await api("POST", "/v1/devices/bulk", { devices, mode: "upsert" });
      if (res.status !== 200) throw new Error(`register: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      const created = new Map<string, string>();
      for (const c of res.body.credentials as { id: string; secret: string }[]) {
        deviceSecrets.set(c.id, c.secret);
        created.set(c.id, c.secret);
      }
      return created;
    },
    secretOf,
    device,
    async publish(kind, deviceId, payload, opts = {}) {
      const client = await device(deviceId);
      await client.publishAsync(deviceTopic(kind, deviceId, "telemetry"), payload, { qos: opts.qos ?? 1 });
    },
    api,
    token: (p) => secrets.token(p),
    async restartIngest(signal) {
      await killIngest(signal);
      await startIngest();
    },
    killIngest,
    startIngest,
    async metric(service, name, labels = {}) {
      const text = await (await fetch(`${service === "ingest" ? ingestOps : brokerOps}/metrics`)).text();
      return metricValue(text, name, labels);
    },
    ingestPid: () => children.get("ingest")?.proc.pid,
    async stop() {
      expectExit = true;
      await Promise.all(
        [...deviceClients.values()].map((c) =>
          c.then((client) => client.endAsync(true)).catch(() => undefined),
        ),
      );
      for (const name of ["ingest", "broker", "command"]) await children.get(name)?.stop(20_000);
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
