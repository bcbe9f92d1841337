// A real broker (services/broker) on free loopback ports for integration tests, real mqtt.js clients, and
// the bookkeeping to close everything a test opened.

import { randomUUID } from "node:crypto";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { type Broker, createBroker } from "../../services/broker/broker.ts";
import { brokerConfigSchema } from "../../services/broker/config.ts";
import type { BrokerHooks } from "../../services/broker/hooks/types.ts";
import { loadConfig } from "../../services/lib/config.ts";
import { silentLogger } from "../../services/lib/log.ts";
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
  /** A value from /metrics (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
};

type Overrides = { [key: string]: unknown };

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

export async function startTestBroker(
  overrides: Overrides = {},
  hooks?: Partial<BrokerHooks>,
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
        overrides,
      ),
    },
  );
  const broker = createBroker({ config, log: silentLogger(), hooks });
  const ports = await broker.start();
  const mqttUrl = `mqtt://127.0.0.1:${ports.mqttPort}`;
  const wsUrl = `ws://127.0.0.1:${ports.wsPort}${config.websocket.path}`;
  const opsUrl = `http://127.0.0.1:${ports.opsPort}`;
  const clients: MqttClient[] = [];
  const client = (opts: IClientOptions & { ws?: boolean } = {}) => {
    const { ws, ...rest } = opts;
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
    connect: (opts = {}) =>
      new Promise((resolve, reject) => {
        const c = client(opts);
        c.once("connect", () => resolve(c));
        c.once("error", reject);
        c.once("close", () => reject(new Error("closed before CONNACK")));
      }),
    async metric(name, labels = {}) {
      const text = await (await fetch(`${opsUrl}/metrics`)).text();
      const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      for (const line of text.split("\n")) {
        const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (m?.[1] === name && want.every((w) => (m[2] ?? "").split(",").includes(w))) return Number(m[3]);
      }
      return 0;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await broker.stop();
    },
  };
}
