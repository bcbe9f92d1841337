// The pieces commissioning needs, started in-process for integration tests: a real broker (permissive hooks:
// access control has its own tests; a registered device still gets its principal, so presence is published),
// the real ingest writing to the suite's InfluxDB, the command service's app with the commissioning service, and
// real mqtt.js devices that report every second and answer identify and dim.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { Registry as Metrics } from "prom-client";
import { expect } from "vitest";
import { ALLOW, type BrokerHooks } from "../../services/broker/hooks/types.ts";
import { buildApp } from "../../services/command/app.ts";
import type { CommissioningRun } from "../../services/command/commissioning/schema.ts";
import {
  type CommissioningService,
  createCommissioningService,
} from "../../services/command/commissioning/service.ts";
import { commandConfigSchema } from "../../services/command/config.ts";
import { createDeviceMqtt } from "../../services/command/device-mqtt.ts";
import type { DevicePage } from "../../services/command/routes/device-page.ts";
import type { DeviceCommand } from "../../services/contract/commands.ts";
import { type DeviceKind, deviceTopic } from "../../services/contract/topics.ts";
import { ingestConfigSchema } from "../../services/ingest/config.ts";
import { createIngest } from "../../services/ingest/ingest.ts";
import { createIngestMetrics } from "../../services/ingest/metrics.ts";
import { loadConfig } from "../../services/lib/config.ts";
import { connectInflux } from "../../services/lib/influx/index.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { createRegistryCache } from "../../services/registry/cache.ts";
import { openRegistry, type Registry } from "../../services/registry/registry.ts";
import type { InfluxTestServer } from "../setup/influx.ts";
import { startTestBroker } from "./broker-harness.ts";
import { bearerJson } from "./harness/http.ts";
import { eventually } from "./harness/wait.ts";

export type Creds = { id: string; secret: string };

export type CommissioningStack = {
  /** Unique per stack: device ids and the token name carry it. */
  run: string;
  mqttUrl: string;
  registry: Registry;
  service: CommissioningService;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Registers a device through the API (report interval 1 s) and returns its credentials. */
  register(kind: DeviceKind, name: string, district?: "Anfa" | "Maarif"): Promise<Creds>;
  startDevice(kind: DeviceKind, creds: Creds, opts?: { followsDim?: boolean; report?: boolean }): MqttClient;
  latestRun(id: string): Promise<CommissioningRun>;
  /** Polls until the device's latest run is no longer running. */
  finished(id: string): Promise<CommissioningRun>;
  page(id: string): Promise<DevicePage>;
  close(): Promise<void>;
};

const PLACES = { Anfa: { lat: 33.5905, lon: -7.6495 }, Maarif: { lat: 33.5795, lon: -7.6305 } } as const;

export async function startCommissioningStack(server: InfluxTestServer): Promise<CommissioningStack> {
  const run = randomUUID().slice(0, 6);
  const dir = mkdtempSync(join(tmpdir(), "commissioning-"));
  const log = silentLogger();
  const bucket = `t_comm_${run}`;
  const influx = await connectInflux({ ...server, bucket, timeoutMs: 10_000 }, log);
  await influx.ensureDatabase();
  const registry = openRegistry(join(dir, "registry.sqlite"));
  const created = registry.tokens.create({ name: `eng-${run}`, role: "engineer" }, "test");
  if (!created.ok) throw new Error(created.reason);
  const hooks: BrokerHooks = {
    authenticate(req) {
      const d = req.username ? registry.devices.get(req.username) : undefined;
      if (!d) return ALLOW;
      const own = (c: "telemetry" | "state" | "ack" | "cmd") => deviceTopic(d.kind, d.id, c);
      const publish = new Set([own("telemetry"), own("state"), own("ack")]);
      const principal = {
        type: "device" as const,
        id: d.id,
        kind: d.kind,
        generation: d.credential_generation,
      };
      return { ok: true, principal: { ...principal, publish, subscribe: new Set([own("cmd")]) } };
    },
    authorizePublish: () => ALLOW,
    authorizeSubscribe: (_c, sub) => ({ ok: true, qos: sub.qos }),
  };
  const broker = await startTestBroker({ hooks });
  const cache = createRegistryCache({
    feed: async (s, l) => registry.devices.changesSince(s, l),
    log,
    pollMs: 200,
  });
  await cache.start();
  const overrides = (o: Record<string, unknown>) => ({ configDir: "/nonexistent", overrides: o });
  const ingest = await createIngest({
    config: loadConfig(
      "ingest",
      ingestConfigSchema,
      {},
      overrides({
        mqtt: { url: broker.mqttUrl, clientId: `ingest-${run}` },
        influx: { ...server, bucket },
        spool: { dir: join(dir, "spool"), fsync: false },
        activity: { intervalMs: 300 },
      }),
    ),
    log,
    metrics: createIngestMetrics(),
    registry: cache,
    write: (lines) => influx.writeLines(lines, "ns"),
    writeBody: (body) => influx.writeBody(body, "ns"),
  });
  await ingest.start();
  const config = loadConfig(
    "command",
    commandConfigSchema,
    {},
    overrides({
      mqtt: { url: broker.mqttUrl, username: `svc-command-${run}` },
      influx: { ...server, bucket },
      commissioning: { readings: 3, connectTimeoutS: 30, ackTimeoutS: 3 },
    }),
  );
  const mqttSide = createDeviceMqtt({
    url: broker.mqttUrl,
    username: config.mqtt.username,
    password: "",
    log,
  });
  const service = createCommissioningService({ db: registry.db, mqtt: mqttSide, influx, config, log });
  const app = buildApp({
    registry,
    config,
    log,
    metrics: new Metrics(),
    routes: service.routes,
    onRegistryChange: (c) => service.onRegistryChange(c),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  service.start();
  await eventually(() => mqttSide.isConnected(), 10_000, "the command service's MQTT connection");
  const devices: MqttClient[] = [];

  const api: CommissioningStack["api"] = bearerJson(base, created.token);
  const latestRun = async (id: string) =>
    (await api("GET", `/v1/devices/${id}/commissioning`)).body as CommissioningRun;

  return {
    run,
    mqttUrl: broker.mqttUrl,
    registry,
    service,
    api,
    latestRun,
    page: async (id) => (await api("GET", `/v1/devices/${id}`)).body as DevicePage,
    async register(kind, name, district = "Anfa") {
      const res = await api("POST", "/v1/devices", {
        id: `${name}-${run}`,
        kind,
        district,
        ...PLACES[district],
        installed_at: "2026-02-01",
        report_interval_s: 1,
        ...(kind === "streetlight" ? { led_watts: 90, legacy_watts: 295 } : {}),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return (res.body as { credentials: Creds }).credentials;
    },
    startDevice(kind, creds, opts = {}) {
      const client = startDevice(broker.mqttUrl, kind, creds, opts);
      devices.push(client);
      return client;
    },
    async finished(id) {
      let latest: CommissioningRun | undefined;
      const done = async () => {
        latest = await latestRun(id);
        return latest.status !== "running";
      };
      await eventually(done, 120_000, `commissioning of ${id} to end`, 500);
      return latest as CommissioningRun;
    },
    async close() {
      await Promise.all(devices.map((d) => d.endAsync(true)));
      await app.close();
      await service.stop();
      await ingest.stop();
      await cache.stop();
      await broker.close();
      registry.close();
      await influx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A device on its own credentials: retained state and last will, a reading a second, acks for identify and dim. */
function startDevice(
  url: string,
  kind: DeviceKind,
  creds: Creds,
  opts: { followsDim?: boolean; report?: boolean },
): MqttClient {
  const topic = (c: "telemetry" | "state" | "cmd" | "ack") => deviceTopic(kind, creds.id, c);
  const client = mqtt.connect(url, {
    clientId: creds.id,
    username: creds.id,
    password: creds.secret,
    reconnectPeriod: 0,
    will: { topic: topic("state"), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  });
  let level = 100;
  let seq = 0;
  let energy = 0;
  const reading = () => {
    const ts = Date.now();
    seq++;
    if (kind === "streetlight") {
      // The simulators' lamp (rated watts × level, a 4 % driver floor, 0.5 W standby); or one stuck at full power.
      const power = opts.followsDim === false ? 90.2 : 0.5 + 90 * (0.04 + 0.96 * (level / 100));
      energy += power / 3600;
      return { ts, seq, power_w: power, energy_wh: energy, dim_pct: level, lamp_ok: true };
    }
    if (kind === "airquality") {
      const wobble = (n: number, by: number) => (seq % n) / by;
      return {
        ts,
        seq,
        pm25_ugm3: 18 + wobble(5, 10),
        pm10_ugm3: 35 + wobble(7, 10),
        no2_ugm3: 40 + wobble(3, 1),
        o3_ugm3: 30 - wobble(4, 10),
      };
    }
    const vehicles = seq % 3;
    return {
      ts,
      seq,
      period_s: 1,
      vehicles,
      avg_speed_kmh: vehicles ? 40 + (seq % 5) : 0,
      occupancy_pct: vehicles ? 2.5 : 0,
    };
  };
  client.on("connect", () => {
    client.publish(topic("state"), '{"online":true}', { qos: 1, retain: true });
    client.subscribe(topic("cmd"), { qos: 1 });
  });
  client.on("message", (_t, payload) => {
    const cmd = JSON.parse(payload.toString()) as DeviceCommand;
    const ack: Record<string, unknown> = { id: cmd.id, status: "ok", ts: Date.now() };
    if (cmd.cmd === "dim") {
      level = cmd.level_pct;
      ack.level_pct = level;
      setTimeout(
        () => {
          level = 100; // the override ended: back to the program
        },
        (cmd.duration_s ?? 60) * 1000,
      ).unref();
    }
    client.publish(topic("ack"), JSON.stringify(ack), { qos: 1 });
  });
  const timer = setInterval(() => {
    if (client.connected && opts.report !== false)
      client.publish(topic("telemetry"), JSON.stringify(reading()), { qos: 1 });
  }, 1000);
  client.on("close", () => clearInterval(timer));
  return client;
}
