// Child process of section K: the baseline a calendar rollout is compared with. The same lamps (same
// connections) get a calendar document of the same size from a bare mqtt.js publisher — retained, QoS 1, one
// message per lamp topic, as the platform publishes it — and ack to a bare mqtt.js subscriber that counts the
// acks. No SQLite, no planner, no delivery states: what MQTT alone costs on this machine.
// Both clients use the command service's account (it may publish calendars and subscribe to acks), with client
// ids of their own (the broker admits a service as `${username}-…`).
// Driven over IPC by bench/schedule.ts: start → ready, go → done, clear → cleared, exit.
import mqtt, { type MqttClient } from "mqtt";
import { deviceTopic } from "../services/contract/topics.ts";

export type BaselineStart = {
  type: "start";
  port: number;
  username: string;
  password: string;
  lampIds: string[];
};
export type BaselineCommand =
  | BaselineStart
  | { type: "go"; payload: string; version: number }
  | { type: "clear" }
  | { type: "exit" };
export type BaselineDone = {
  type: "done";
  startedAt: number;
  /** When the broker had PUBACKed every publish. */
  publishedAt: number;
  /** When the last lamp's first applied ack arrived (0: not all within the timeout). */
  allAckedAt: number;
  acks: number;
  lampsAcked: number;
  /** Acks that were not `applied` for the version sent. */
  otherAcks: number;
  /** CPU of this process (publisher + subscriber) from go to done, ms. */
  cpuMs: number;
  /** Lamps acked per second since go. */
  ackedPerSecond: number[];
};
export type BaselineMessage = { type: "ready" } | BaselineDone | { type: "cleared" };

let pub: MqttClient | undefined;
let sub: MqttClient | undefined;
let lampIds: string[] = [];
let expect: { version: number; startedAt: number } | undefined;
const acked = new Set<string>();
let acks = 0;
let otherAcks = 0;
let ackedPerSecond: number[] = [];
let onAllAcked: (() => void) | undefined;

const send = (m: BaselineMessage) => process.send?.(m);

function onAck(topic: string, payload: Buffer): void {
  acks++;
  const e = expect;
  let ok = false;
  try {
    const a = JSON.parse(payload.toString("utf8")) as { version?: unknown; status?: unknown };
    ok = e !== undefined && a.version === e.version && a.status === "applied";
  } catch {
    ok = false;
  }
  if (!ok || !e) {
    otherAcks++;
    return;
  }
  const lamp = topic.split("/")[3] as string;
  if (acked.has(lamp)) return;
  acked.add(lamp);
  const s = Math.floor((Date.now() - e.startedAt) / 1000);
  while (ackedPerSecond.length <= s && ackedPerSecond.length < 3600) ackedPerSecond.push(0);
  if (s < ackedPerSecond.length) ackedPerSecond[s] = (ackedPerSecond[s] ?? 0) + 1;
  if (acked.size === lampIds.length) onAllAcked?.();
}

async function start(o: BaselineStart): Promise<void> {
  lampIds = o.lampIds;
  const url = `mqtt://127.0.0.1:${o.port}`;
  const common = { username: o.username, password: o.password, reconnectPeriod: 0, clean: true } as const;
  sub = await mqtt.connectAsync(url, { ...common, clientId: `${o.username}-bench-k-acks` });
  sub.on("message", onAck);
  await sub.subscribeAsync("city/v1/streetlight/+/ack", { qos: 1 });
  pub = await mqtt.connectAsync(url, { ...common, clientId: `${o.username}-bench-k-pub` });
  send({ type: "ready" });
}

async function go(payload: string, version: number, timeoutMs = 10 * 60_000): Promise<void> {
  const client = pub as MqttClient;
  acked.clear();
  acks = 0;
  otherAcks = 0;
  ackedPerSecond = [];
  const cpu0 = process.cpuUsage();
  const startedAt = Date.now();
  expect = { version, startedAt };
  const allAcked = new Promise<boolean>((ok) => {
    onAllAcked = () => ok(true);
    setTimeout(() => ok(false), timeoutMs).unref();
  });
  await Promise.all(
    lampIds.map((id) =>
      client.publishAsync(deviceTopic("streetlight", id, "calendar"), payload, { qos: 1, retain: true }),
    ),
  );
  const publishedAt = Date.now();
  const all = await allAcked;
  const allAckedAt = all ? Date.now() : 0;
  const cpu = process.cpuUsage(cpu0);
  send({
    type: "done",
    startedAt,
    publishedAt,
    allAckedAt,
    acks,
    lampsAcked: acked.size,
    otherAcks,
    cpuMs: (cpu.user + cpu.system) / 1000,
    ackedPerSecond,
  });
}

/** Deletes the retained documents [MQTT-3.3.1-10], so that none is handed to a lamp in the next phase. */
async function clear(): Promise<void> {
  const client = pub as MqttClient;
  await Promise.all(
    lampIds.map((id) =>
      client.publishAsync(deviceTopic("streetlight", id, "calendar"), "", { qos: 1, retain: true }),
    ),
  );
  send({ type: "cleared" });
}

process.on("message", (raw) => {
  const cmd = raw as BaselineCommand;
  const fail = (err: Error) => {
    console.error(`schedule baseline: ${err.message}`);
    process.exit(1);
  };
  switch (cmd.type) {
    case "start":
      start(cmd).catch(fail);
      return;
    case "go":
      go(cmd.payload, cmd.version).catch(fail);
      return;
    case "clear":
      clear().catch(fail);
      return;
    case "exit":
      void Promise.all([pub?.endAsync(), sub?.endAsync()]).finally(() => process.exit(0));
  }
});
process.on("disconnect", () => process.exit(0));
