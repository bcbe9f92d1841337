// A real broker (services/broker) on free loopback ports for integration tests, real mqtt.js clients, and
// the bookkeeping to close everything a test opened.
//   - Access control on: give it `feed`, e.g. a testRegistry()'s, a real registry database (SQLite) with the
//     access feed of services/registry/access.ts; provision devices and service tokens with SQL
//     (startAccessBroker, addServiceAccounts and addSyncedDevice at the bottom do the usual set-up).
//   - Routing tests (sessions, pub/sub, overload) test routing, not security: they pass `hooks: permissiveHooks`,
//     defined here on purpose (production has no permissive policy).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { AccessFeed } from "../../services/broker/access/feed.ts";
import { type Broker, createBroker } from "../../services/broker/broker.ts";
import { brokerConfigSchema } from "../../services/broker/config.ts";
import { ALLOW, type BrokerHooks, deny } from "../../services/broker/hooks/types.ts";
import type { ServiceRole } from "../../services/contract/access.ts";
import { type Channel, type DeviceKind, deviceTopic } from "../../services/contract/topics.ts";
import { loadConfig } from "../../services/lib/config.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { generateSecret, generateToken, hashSecret, sha256Hash } from "../../services/lib/secrets.ts";
import { createAccessStore } from "../../services/registry/access.ts";
import { openRegistryDb } from "../../services/registry/store.ts";
import { metricValue } from "./harness/metrics.ts";
import { eventually } from "./harness/wait.ts";

export type TestBroker = {
  broker: Broker;
  mqttUrl: string;
  wsUrl: string;
  opsUrl: string;
  /** An mqtt.js client, connected (or the CONNACK error), closed by close(). */
  connect(opts?: IClientOptions & { ws?: boolean }): Promise<MqttClient>;
  /** Like connect, but returns at once so that handlers can be attached before any message arrives. */
  client(opts?: IClientOptions & { ws?: boolean }): MqttClient;
  /** The sum of a metric's samples with these labels (0 when it has none yet); throws for an unknown metric. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
};

type Overrides = { [key: string]: unknown };

/** Anyone may connect, publish and subscribe, except to the broker's own '$' topics. Tests only. */
export const permissiveHooks: BrokerHooks = Object.freeze({
  authenticate: () => ALLOW,
  authorizePublish: (_client, msg) => (msg.topic.startsWith("$") ? deny("reserved_topic") : ALLOW),
  authorizeSubscribe: (_client, sub) => ({ ok: true, qos: sub.qos }),
});

function merge(a: Overrides, b: Overrides): Overrides {
  const out: Overrides = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    const bothObjects = [v, cur].every((x) => typeof x === "object" && x !== null && !Array.isArray(x));
    out[k] = bothObjects ? merge(cur as Overrides, v as Overrides) : v;
  }
  return out;
}

export const uid = () => randomUUID().slice(0, 8);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  return eventually(check, timeoutMs, what, 20);
}

/** CONNECT options of a device on its own credentials: client id and username are its id, unless `extra` says. */
export const asDevice = (id: string, password: string, extra: IClientOptions = {}): IClientOptions => ({
  clientId: id,
  username: id,
  password,
  ...extra,
});

/** CONNECT options of a service account (its username) with the client id the test names. */
export const asService = (
  name: "svc-ingest" | "svc-command",
  password: string,
  clientId: string,
): IClientOptions => ({ clientId, username: name, password });

/** The CONNACK return code of a CONNECT: 0 when accepted, else the refusal's code (-1 when there was none). */
export const connackOf = (t: TestBroker, opts: IClientOptions): Promise<number> =>
  t.connect(opts).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );

/**
 * When the client's connection closes (Date.now() then), or now if the client was ended already. Call it before
 * whatever is to close the connection, so that the close cannot come first.
 */
export const closed = (c: MqttClient): Promise<number> =>
  new Promise((ok) => (c.disconnected ? ok(Date.now()) : c.once("close", () => ok(Date.now()))));

export async function startTestBroker(
  opts: { config?: Overrides; hooks?: Partial<BrokerHooks>; feed?: AccessFeed } = {},
): Promise<TestBroker> {
  const config = loadConfig(
    "broker",
    brokerConfigSchema,
    {},
    {
      configDir: "/nonexistent",
      overrides: merge(
        {
          mqtt: { host: "127.0.0.1", port: 0 },
          websocket: { port: 0 },
          ops: { host: "127.0.0.1", port: 0 },
          logLevel: "silent",
        },
        opts.config ?? {},
      ),
    },
  );
  const broker = createBroker({ config, log: silentLogger(), hooks: opts.hooks, feed: opts.feed });
  const ports = await broker.start();
  const mqttUrl = `mqtt://127.0.0.1:${ports.mqttPort}`;
  const wsUrl = `ws://127.0.0.1:${ports.wsPort}${config.websocket.path}`;
  const opsUrl = `http://127.0.0.1:${ports.opsPort}`;
  const clients: MqttClient[] = [];
  const client = (o: IClientOptions & { ws?: boolean } = {}) => {
    const { ws, ...rest } = o;
    const c = mqtt.connect(ws ? wsUrl : mqttUrl, { clientId: `t-${uid()}`, reconnectPeriod: 0, ...rest });
    c.on("error", () => {}); // surfaced through connect() or the test's own listeners
    clients.push(c);
    return c;
  };
  return {
    broker,
    mqttUrl,
    wsUrl,
    opsUrl,
    client,
    connect: (o = {}) =>
      new Promise((resolve, reject) => {
        const c = client(o);
        c.once("connect", () => resolve(c));
        c.once("error", reject);
        c.once("close", () => reject(new Error("closed before CONNACK")));
      }),
    async metric(name, labels = {}) {
      return metricValue(await (await fetch(`${opsUrl}/metrics`)).text(), name, labels);
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await broker.stop();
    },
  };
}

/**
 * A real registry database in a temporary folder, provisioned with SQL the way the command service writes it
 * (services/registry/schema.ts, migration 2), and its access feed as the broker's feed function.
 */
export type TestRegistry = {
  feed: AccessFeed;
  /** Registers a device with a live credential (generation 1); returns its secret. */
  addDevice(id: string, kind?: DeviceKind): Promise<string>;
  /** A new credential: the old one is revoked at once; returns the new secret. */
  rotate(id: string): Promise<string>;
  /** Revokes the device's credential (no live credential left). */
  revoke(id: string): void;
  decommission(id: string): void;
  /** A service account: an API token with a service role; returns the token (its MQTT password). */
  addService(name: string, role: ServiceRole): string;
  revokeService(name: string): void;
  close(): void;
};

export function testRegistry(): TestRegistry {
  const dir = mkdtempSync(join(tmpdir(), "broker-registry-"));
  const db = openRegistryDb(join(dir, "registry.sqlite"));
  const access = createAccessStore(db);
  const now = () => new Date().toISOString();
  // Generations only grow, also across a revocation (credential_generation 0 in between).
  const lastGeneration = (id: string) =>
    (
      db
        .prepare("SELECT COALESCE(MAX(generation), 0) AS g FROM device_credentials WHERE device_id = ?")
        .get(id) as { g: number }
    ).g;
  const addCredential = async (id: string, gen: number): Promise<string> => {
    const secret = generateSecret();
    db.prepare(
      "INSERT INTO device_credentials (device_id, generation, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, 'test')",
    ).run(id, gen, await hashSecret(secret), now());
    return secret;
  };
  const revokeCredentials = (id: string) =>
    db
      .prepare(
        "UPDATE device_credentials SET revoked_at = ?, revoked_by = 'test' WHERE device_id = ? AND revoked_at IS NULL",
      )
      .run(now(), id);
  return {
    feed: (since, limit) => Promise.resolve(access.changesSince(since, limit)),
    async addDevice(id, kind = "streetlight") {
      db.prepare(
        `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, status, created_at,
           updated_at, credential_generation) VALUES (?, ?, 'Anfa', 33.59, -7.63, '2024-03-01', 60, 'registered', ?, ?, 1)`,
      ).run(id, kind, now(), now());
      const secret = await addCredential(id, 1);
      access.touch("device", id);
      return secret;
    },
    async rotate(id) {
      const gen = lastGeneration(id) + 1;
      revokeCredentials(id);
      const secret = await addCredential(id, gen);
      db.prepare("UPDATE devices SET credential_generation = ? WHERE id = ?").run(gen, id);
      access.touch("device", id);
      return secret;
    },
    revoke(id) {
      revokeCredentials(id);
      db.prepare("UPDATE devices SET credential_generation = 0 WHERE id = ?").run(id);
      access.touch("device", id);
    },
    decommission(id) {
      revokeCredentials(id);
      db.prepare("UPDATE devices SET status = 'decommissioned', credential_generation = 0 WHERE id = ?").run(
        id,
      );
      access.touch("device", id);
    },
    addService(name, role) {
      const token = generateToken();
      db.prepare(
        "INSERT INTO api_tokens (id, name, role, token_hash, source, created_at, created_by) VALUES (?, ?, ?, ?, 'file', ?, 'test')",
      ).run(randomUUID(), name, role, sha256Hash(token), now());
      access.touch("service", name);
      return token;
    },
    revokeService(name) {
      db.prepare("UPDATE api_tokens SET revoked_at = ? WHERE name = ?").run(now(), name);
      access.touch("service", name);
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The platform's two watching accounts, as service tokens in `reg`: their MQTT passwords. */
export function addServiceAccounts(reg: TestRegistry): { ingest: string; command: string } {
  return {
    ingest: reg.addService("svc-ingest", "service_ingest"),
    command: reg.addService("svc-command", "service_command"),
  };
}

/** A broker with access control on `reg`'s feed, synced once: it knows whatever `reg` holds now. */
export async function startAccessBroker(reg: TestRegistry, config: Overrides = {}): Promise<TestBroker> {
  const t = await startTestBroker({ feed: reg.feed, config });
  await t.broker.access.sync();
  return t;
}

export type TestDevice = {
  id: string;
  kind: DeviceKind;
  secret: string;
  /** Its CONNECT options (asDevice). */
  opts: IClientOptions;
  /** Its own topic of a channel (contract/topics.ts deviceTopic). */
  topic(channel: Channel): string;
};

const ID_PREFIX: Record<DeviceKind, string> = { streetlight: "sl", airquality: "aq", traffic: "tr" };

/** A new device in `reg` (a live credential, generation 1), once the broker `t` knows it. */
export async function addSyncedDevice(
  t: TestBroker,
  reg: TestRegistry,
  kind: DeviceKind = "streetlight",
): Promise<TestDevice> {
  const id = `${ID_PREFIX[kind]}-${uid()}`;
  const secret = await reg.addDevice(id, kind);
  await t.broker.access.sync();
  return { id, kind, secret, opts: asDevice(id, secret), topic: (channel) => deviceTopic(kind, id, channel) };
}
