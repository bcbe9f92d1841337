// The platform the benchmark measures, started the way a user starts it: each service its own Node process
// (services/*/main.ts) on free loopback ports, configured through its environment variables, its log in the
// run's temporary folder. A section starts a fresh broker and ingest so that its CPU and memory figures are
// its own; the command service (the registry) and InfluxDB live for the whole run.
// With access control on (issue 3), the command service gets the run's token file (bench/access.ts), the broker
// follows its access feed, and the ingest uses its service account.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../scripts/influxd/influxd.ts";
import { waitForHttp } from "../scripts/platform/processes.ts";
import { connectInflux, type InfluxClient, influxConfigSchema } from "../services/lib/influx/index.ts";
import { silentLogger } from "../services/lib/log.ts";

export const ROOT = resolve(import.meta.dirname, "..");

export type Service = {
  readonly name: string;
  readonly pid: number | undefined;
  readonly logFile: string;
  exited(): boolean;
  /** SIGTERM (the service flushes and exits), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
};

export type InfluxTarget = { url: string; token: string; org: string };

export function startService(opts: {
  name: string;
  script: string;
  env: Record<string, string>;
  logDir: string;
  nodeArgs?: string[];
}): Service {
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(logFile, "a");
  const proc: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), resolve(ROOT, opts.script)], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  let done = false;
  const exited = new Promise<void>((r) =>
    proc.once("exit", () => {
      done = true;
      r();
    }),
  );
  // Never leave a service running behind a crashed benchmark.
  const killOnExit = () => proc.kill("SIGKILL");
  process.on("exit", killOnExit);
  return {
    name: opts.name,
    get pid() {
      return done ? undefined : proc.pid;
    },
    logFile,
    exited: () => done,
    async stop(timeoutMs = 20_000) {
      if (!done) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
        await exited;
        clearTimeout(t);
      }
      process.off("exit", killOnExit);
    },
  };
}

export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitUp(
  svc: Service,
  url: string,
  timeoutMs: number,
  isUp?: (r: Response) => boolean,
): Promise<void> {
  try {
    await waitForHttp(url, timeoutMs, isUp);
  } catch (err) {
    throw new Error(`${svc.name} did not come up: ${(err as Error).message}\n${logTail(svc.logFile)}`);
  }
}

/**
 * The command service on `port` (a free one if not given), its registry in `dataDir`, tokens from `tokenFile`;
 * on MQTT with the svc-command account when `mqtt` is given (a section starts it once without, so the broker can
 * read its access feed, then again with). `env` adds what a section needs (InfluxDB, rate limits).
 */
export async function startCommand(opts: {
  logDir: string;
  dataDir: string;
  tokenFile: string;
  name?: string;
  port?: number;
  mqtt?: { url: string; password: string };
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<{ svc: Service; url: string; port: number }> {
  const port = opts.port ?? (await freePort());
  const svc = startService({
    name: opts.name ?? "command",
    script: "services/command/main.ts",
    logDir: opts.logDir,
    env: {
      COMMAND_HOST: "127.0.0.1",
      COMMAND_PORT: String(port),
      REGISTRY_DB: join(opts.dataDir, "registry.sqlite"),
      COMMAND_TOKEN_FILE: opts.tokenFile,
      MQTT_URL: opts.mqtt?.url ?? "",
      ...(opts.mqtt
        ? { COMMAND_MQTT_USERNAME: "svc-command", COMMAND_MQTT_PASSWORD: opts.mqtt.password }
        : {}),
      LOG_LEVEL: "warn",
      ...opts.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUp(svc, `${url}/health`, opts.timeoutMs ?? 30_000);
  return { svc, url, port };
}

export type Broker = { svc: Service; port: number; opsUrl: string };
/** Where the broker reads who may connect: the command service and the broker's token. */
export type BrokerAccess = { registryUrl: string; token: string };

export async function startBroker(
  logDir: string,
  access: BrokerAccess,
  name = "broker",
  nodeArgs: string[] = [],
): Promise<Broker> {
  const [port, ops] = [await freePort(), await freePort()];
  const svc = startService({
    name,
    script: "services/broker/main.ts",
    logDir,
    nodeArgs,
    env: {
      BROKER_HOST: "127.0.0.1",
      BROKER_MQTT_PORT: String(port),
      BROKER_WS_ENABLED: "false",
      BROKER_OPS_HOST: "127.0.0.1",
      BROKER_OPS_PORT: String(ops),
      REGISTRY_URL: access.registryUrl,
      BROKER_API_TOKEN: access.token,
      LOG_LEVEL: "info",
    },
  });
  const opsUrl = `http://127.0.0.1:${ops}`;
  await waitUp(svc, `${opsUrl}/health`, 30_000, () => true);
  // Until it has read the access feed the broker refuses every CONNECT (0x03).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const h = await fetch(`${opsUrl}/health`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.json() as Promise<{ checks?: { access?: { ready?: boolean; lastError?: string } } }>)
      .catch(() => undefined);
    if (h?.checks?.access?.ready) break;
    if (Date.now() > deadline)
      throw new Error(
        `broker never read the access feed: ${JSON.stringify(h?.checks?.access)}\n${logTail(svc.logFile)}`,
      );
    await sleep(100);
  }
  return { svc, port, opsUrl };
}

export type Ingest = { svc: Service; opsUrl: string; spoolDir: string };

export async function startIngest(opts: {
  logDir: string;
  name: string;
  influx: InfluxTarget;
  bucket: string;
  mqttPort: number;
  registryUrl: string;
  /** The ingest's API token (service_ingest): the registry feed, and its MQTT password. */
  token: string;
  spoolDir: string;
  devices: number;
  nodeArgs?: string[];
  /** The ingest's entry point; another one only to try a change before making it in services/. */
  script?: string;
}): Promise<Ingest> {
  const ops = await freePort();
  const svc = startService({
    name: opts.name,
    script: opts.script ?? "services/ingest/main.ts",
    logDir: opts.logDir,
    nodeArgs: opts.nodeArgs ?? [],
    env: {
      INFLUX_URL: opts.influx.url,
      INFLUX_TOKEN: opts.influx.token,
      INFLUX_ORG: opts.influx.org,
      INFLUX_BUCKET: opts.bucket,
      MQTT_URL: `mqtt://127.0.0.1:${opts.mqttPort}`,
      REGISTRY_URL: opts.registryUrl,
      INGEST_API_TOKEN: opts.token,
      INGEST_SPOOL_DIR: opts.spoolDir,
      INGEST_SPOOL_FSYNC: "true", // as in production: a PUBACK only once the readings are on disk
      INGEST_OPS_HOST: "127.0.0.1",
      INGEST_OPS_PORT: String(ops),
      LOG_LEVEL: "info",
    },
  });
  const opsUrl = `http://127.0.0.1:${ops}`;
  await waitUp(svc, `${opsUrl}/health`, 60_000, () => true);
  // Ready means: subscribed to the broker and the whole fleet in its registry cache.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const h = await health(opsUrl);
    if (h?.mqttConnected && (h.registryDevices ?? 0) >= opts.devices) break;
    if (Date.now() > deadline)
      throw new Error(`ingest not ready: ${JSON.stringify(h)}\n${logTail(svc.logFile)}`);
    await sleep(100);
  }
  return { svc, opsUrl, spoolDir: opts.spoolDir };
}

type IngestChecks = {
  mqttConnected?: boolean;
  registryDevices?: number;
  influxUp?: boolean;
  paused?: boolean;
};

async function health(opsUrl: string): Promise<IngestChecks | undefined> {
  try {
    const res = await fetch(`${opsUrl}/health`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { checks?: IngestChecks }).checks;
  } catch {
    return undefined;
  }
}

/** Prometheus text → the sum of every sample of each metric name (label sets added up). */
export async function scrape(opsUrl: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const text = await (await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const v = Number(m[3]);
      if (Number.isFinite(v)) out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + v);
    }
  } catch {
    // A busy or stopped service: the caller sees an empty map.
  }
  return out;
}

/** An InfluxDB client on one database (created if missing). */
export async function influxFor(target: InfluxTarget, bucket: string): Promise<InfluxClient> {
  const client = await connectInflux(
    influxConfigSchema.parse({
      url: target.url,
      token: target.token,
      org: target.org,
      bucket,
      timeoutMs: 60_000,
    }),
    silentLogger(),
  );
  await client.ensureDatabase();
  return client;
}

/** Readings stored for the fleet: `count(seq)` of the streetlight measurement. */
export async function countStored(client: InfluxClient, where = ""): Promise<number> {
  const series = await client.query(`SELECT count(seq) FROM streetlight${where ? ` WHERE ${where}` : ""}`);
  return Number(series[0]?.values[0]?.[1] ?? 0);
}
