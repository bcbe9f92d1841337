// vitest globalSetup: one InfluxDB for the whole test run, reached by tests through `inject("influx")`.
//
// Where the server comes from, first match wins:
//   1. INFLUX_URL (+ INFLUX_TOKEN, INFLUX_ORG, INFLUX_BUCKET) is set → that server, untouched.
//   2. A Docker engine answers GET /_ping (DOCKER_HOST or /var/run/docker.sock) → testcontainers runs
//      `influxdb:2` in setup mode (org "city", bucket "telemetry", an admin token).
//   3. Otherwise → a throwaway influxd 1.x (scripts/influxd, installed from Debian if missing) in a temp dir.
//
// What tests get — `inject("influx")`, typed by the ProvidedContext augmentation below:
//   { url, token, org, bucket, major, version, control, dataDir }
// The token may create databases/buckets, so a test isolates itself with its own bucket name:
//   connectInflux({ ...inject("influx"), bucket: `t_${randomUUID().slice(0, 8)}`, timeoutMs }).ensureDatabase()
//
// Outages: `control` is non-null only in case 3, where we own the process. It is the URL of a tiny
// loopback HTTP endpoint of this setup: `influxControl(inject("influx"), "stop" | "start")` stops the
// server (SIGTERM) or starts it again on the same data dir and port. Stopping the SHARED server disturbs
// every test file running at the same time, so use it only from files that run alone (a project with
// fileParallelism: false); a test that only needs its own outage can `startInfluxd()` a private instance
// from scripts/influxd/influxd.ts instead (see tests/integration/influx-outage.test.ts).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type InfluxdHandle, startInfluxd } from "../../scripts/influxd/influxd.ts";
import { detectServer, type Major } from "../../services/lib/influx/index.ts";
import { createLogger } from "../../services/lib/log.ts";

export type InfluxTestServer = {
  url: string;
  token: string;
  org: string;
  bucket: string;
  major: Major;
  version: string;
  /** Control endpoint for stop/start (see above); null when the server is not ours to stop. */
  control: string | null;
  /** influxd's data dir when we run it, else null. */
  dataDir: string | null;
};

declare module "vitest" {
  export interface ProvidedContext {
    influx: InfluxTestServer;
  }
}

/** Stops or (re)starts the shared server; resolves once it is down / answering again. */
export async function influxControl(server: InfluxTestServer, action: "stop" | "start"): Promise<void> {
  if (!server.control) throw new Error("this InfluxDB is not owned by the test setup; it cannot be stopped");
  const res = await fetch(`${server.control}/${action}`, { method: "POST" });
  if (!res.ok) throw new Error(`influx control ${action}: HTTP ${res.status} ${await res.text()}`);
}

const ORG = "city";
const BUCKET = "telemetry";

function dockerAnswers(env: NodeJS.ProcessEnv): Promise<boolean> {
  const host = env.DOCKER_HOST;
  let target: { socketPath: string } | { host: string; port: number };
  if (host?.startsWith("unix://")) target = { socketPath: host.slice("unix://".length) };
  else if (host?.startsWith("tcp://")) {
    if (env.DOCKER_TLS_VERIFY) return Promise.resolve(true); // TLS client certs: let testcontainers try
    const u = new URL(host.replace(/^tcp:/, "http:"));
    target = { host: u.hostname, port: Number(u.port || 2375) };
  } else if (existsSync("/var/run/docker.sock")) target = { socketPath: "/var/run/docker.sock" };
  else return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ ...target, path: "/_ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

type Owned = { facts: Omit<InfluxTestServer, "major" | "version">; teardown: () => Promise<void> };

async function startContainer(): Promise<Owned> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const token = randomBytes(24).toString("hex");
  const container = await new GenericContainer("influxdb:2")
    .withEnvironment({
      DOCKER_INFLUXDB_INIT_MODE: "setup",
      DOCKER_INFLUXDB_INIT_USERNAME: "city-admin",
      DOCKER_INFLUXDB_INIT_PASSWORD: randomBytes(12).toString("hex"),
      DOCKER_INFLUXDB_INIT_ORG: ORG,
      DOCKER_INFLUXDB_INIT_BUCKET: BUCKET,
      DOCKER_INFLUXDB_INIT_ADMIN_TOKEN: token,
    })
    .withExposedPorts(8086)
    // The image's entrypoint does its setup on a temporary port; 8086 answering means setup is done.
    .withWaitStrategy(Wait.forHttp("/health", 8086).forStatusCode(200))
    .withStartupTimeout(120_000)
    .start();
  const url = `http://${container.getHost()}:${container.getMappedPort(8086)}`;
  return {
    facts: { url, token, org: ORG, bucket: BUCKET, control: null, dataDir: null },
    teardown: async () => {
      await container.stop();
    },
  };
}

async function startLocal(): Promise<Owned> {
  const dataDir = await mkdtemp(join(tmpdir(), "city-influxd-"));
  const log = createLogger("test-influxd", "warn");
  let influxd: InfluxdHandle;
  try {
    influxd = await startInfluxd({ dataDir, database: BUCKET, log });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const control = createServer((req, res) => {
    const action = req.method === "POST" ? req.url : undefined;
    const run = action === "/stop" ? influxd.stop() : action === "/start" ? influxd.start() : undefined;
    if (!run) {
      res.writeHead(404).end();
      return;
    }
    run.then(
      () =>
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ pid: influxd.pid })),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  const { port } = control.address() as AddressInfo;
  return {
    facts: {
      url: influxd.url,
      token: "",
      org: ORG,
      bucket: BUCKET,
      control: `http://127.0.0.1:${port}`,
      dataDir,
    },
    teardown: async () => {
      control.closeAllConnections();
      await new Promise<void>((resolve) => control.close(() => resolve()));
      await influxd.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env; // the test harness is an entry point, like a main.ts
  let owned: Owned;
  if (env.INFLUX_URL) {
    owned = {
      facts: {
        url: env.INFLUX_URL.replace(/\/+$/, ""),
        token: env.INFLUX_TOKEN ?? "",
        org: env.INFLUX_ORG || ORG,
        bucket: env.INFLUX_BUCKET || BUCKET,
        control: null,
        dataDir: null,
      },
      teardown: async () => {},
    };
  } else if (await dockerAnswers(env)) {
    owned = await startContainer();
  } else {
    owned = await startLocal();
  }
  const detected = await detectServer(owned.facts.url, owned.facts.token);
  if (!detected.ok) {
    await owned.teardown();
    throw new Error(`test InfluxDB at ${owned.facts.url}: ${detected.message}`);
  }
  project.provide("influx", {
    ...owned.facts,
    major: detected.server.major,
    version: detected.server.version,
  });
  return owned.teardown;
}
