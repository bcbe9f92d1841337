// Access control with a real broker, real mqtt.js clients and the access feed of a real registry database:
// who may connect, publish and subscribe, and that a refused request leaves nothing at a subscriber.
// Each negative ends with a control message from a legitimate device: once the watching service has it,
// anything the refused request could have routed would have arrived before it.
import type { IClientOptions, MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presenceTopic } from "../../services/contract/platform.ts";
import { MAX_MESSAGE_BYTES } from "../../services/contract/readings.ts";
import { REGISTRY_CHANGED_TOPIC, TELEMETRY_FILTER } from "../../services/contract/topics.ts";
import {
  addServiceAccounts,
  addSyncedDevice,
  asDevice,
  asService,
  closed,
  connackOf,
  startAccessBroker,
  type TestBroker,
  type TestDevice,
  type TestRegistry,
  testRegistry,
  uid,
  until,
} from "./broker-harness.ts";

let t: TestBroker;
let reg: TestRegistry;
let ingestToken: string;
let commandToken: string;
/** Everything the ingest-like watcher received: topic → payloads. */
const seen: { topic: string; payload: string }[] = [];
let control: { device: TestDevice; client: MqttClient };

/** The QoS granted in the SUBACK; 128 = refused [MQTT-3.9.3-1] (mqtt.js reports it as an error). */
const grantedQos = (c: MqttClient, filter: string) =>
  c.subscribeAsync(filter, { qos: 1 }).then(
    (granted) => granted[0]?.qos,
    (err: { packet?: { granted?: (number | { qos: number })[] } }) => {
      const g = err.packet?.granted?.[0];
      return typeof g === "number" ? g : g?.qos;
    },
  );
const newDevice = () => addSyncedDevice(t, reg);

/** Publishes a marker from the control device and waits for the watcher to see it. */
async function settle(): Promise<void> {
  const marker = `control-${uid()}`;
  await control.client.publishAsync(control.device.topic("telemetry"), marker, { qos: 1 });
  await until("the control message", () => seen.some((m) => m.payload === marker), 5000);
}
const fromOrTo = (id: string) => seen.filter((m) => m.topic.includes(`/${id}/`));

beforeAll(async () => {
  reg = testRegistry();
  ({ ingest: ingestToken, command: commandToken } = addServiceAccounts(reg));
  // A fast $SYS heartbeat, so that a $SYS subscription would have something to receive.
  t = await startAccessBroker(reg, { aedes: { heartbeatIntervalMs: 100 } });
  const watcher = await t.connect(asService("svc-ingest", ingestToken, "svc-ingest-1"));
  watcher.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await watcher.subscribeAsync(TELEMETRY_FILTER, { qos: 1 });
  const device = await newDevice();
  control = { device, client: await t.connect(device.opts) };
});
afterAll(async () => {
  await t.close();
  reg.close();
});

describe("broker access control: CONNECT", () => {
  it("admits a device with its own id and secret; a reconnect costs no scrypt", async () => {
    const d = await newDevice();
    const verifiedBefore = await t.metric("broker_auth_secret_checks_total", { outcome: "verified" });
    const first = await t.connect(asDevice(d.id, d.secret));
    await first.publishAsync(d.topic("telemetry"), "hello", { qos: 1 });
    await until("its reading", () => fromOrTo(d.id).length === 1);
    await first.endAsync();
    const hitsBefore = await t.metric("broker_auth_secret_checks_total", { outcome: "cache_hit" });
    await (await t.connect(asDevice(d.id, d.secret))).endAsync();
    expect(await t.metric("broker_auth_secret_checks_total", { outcome: "verified" })).toBe(
      verifiedBefore + 1,
    );
    expect(await t.metric("broker_auth_secret_checks_total", { outcome: "cache_hit" })).toBe(hitsBefore + 1);
  });

  it("refuses an empty client id with 0x02 [MQTT-3.1.3-9]", async () => {
    const d = await newDevice();
    expect(await connackOf(t, { clientId: "", clean: true, username: d.id, password: d.secret })).toBe(2);
  });

  it("refuses a wrong secret with 0x04", async () => {
    const d = await newDevice();
    expect(await connackOf(t, asDevice(d.id, "not-the-secret"))).toBe(4);
    expect(await connackOf(t, { clientId: d.id, username: d.id })).toBe(4); // no password at all
    await settle();
    expect(fromOrTo(d.id)).toEqual([]);
  });

  it("refuses an unknown device with 0x04", async () => {
    const d = await newDevice();
    expect(await connackOf(t, asDevice(`sl-${uid()}`, d.secret))).toBe(4);
  });

  it("refuses a client id other than the username with 0x05, even with the right secret", async () => {
    const a = await newDevice();
    const b = await newDevice();
    expect(await connackOf(t, asDevice(a.id, a.secret, { clientId: b.id }))).toBe(5);
    expect(await connackOf(t, asDevice(a.id, a.secret, { clientId: `${a.id}-2` }))).toBe(5);
    expect(await connackOf(t, asService("svc-ingest", ingestToken, "svc-ingest-x"))).toBe(0);
    expect(await connackOf(t, asService("svc-ingest", ingestToken, "ingest"))).toBe(5);
  });

  it("counts refusals by reason and lists them at /denials", async () => {
    const d = await newDevice();
    const before = await t.metric("broker_denials_total", { action: "connect", reason: "bad_secret" });
    await connackOf(t, asDevice(d.id, "nope"));
    await connackOf(t, asDevice(d.id, "nope-again"));
    expect(await t.metric("broker_denials_total", { action: "connect", reason: "bad_secret" })).toBe(
      before + 2,
    );
    const { denials } = (await (await fetch(`${t.opsUrl}/denials`)).json()) as { denials: object[] };
    expect(denials).toContainEqual(
      expect.objectContaining({
        action: "connect",
        principal: d.id,
        reason: "bad_secret",
        count: 2,
        topic: null,
      }),
    );
  });
});

describe("broker access control: PUBLISH", () => {
  it("closes a device that publishes to another device's topic; nothing reaches the subscriber", async () => {
    const victim = await newDevice();
    const d = await newDevice();
    const c = await t.connect(asDevice(d.id, d.secret));
    const gone = closed(c);
    c.publish(victim.topic("telemetry"), "forged", { qos: 1 });
    await gone; // no negative PUBACK in MQTT 3.1.1: the connection is closed [MQTT-3.3.5-2]
    await settle();
    expect(fromOrTo(victim.id)).toEqual([]);
    const { denials } = (await (await fetch(`${t.opsUrl}/denials`)).json()) as { denials: object[] };
    expect(denials).toContainEqual(
      expect.objectContaining({
        action: "publish",
        principal: d.id,
        topic: victim.topic("telemetry"),
        reason: "topic_not_permitted",
      }),
    );
    expect(
      await t.metric("broker_denials_total", { action: "publish", reason: "topic_not_permitted" }),
    ).toBeGreaterThan(0);
  });

  it("closes a device that publishes to platform topics (the registry notice, presence) or $SYS", async () => {
    const d = await newDevice();
    for (const topic of [REGISTRY_CHANGED_TOPIC, presenceTopic("streetlight", d.id), "$SYS/x/uptime"]) {
      const c = await t.connect(asDevice(d.id, d.secret));
      const gone = closed(c);
      c.publish(topic, '{"latest":1}', { qos: 1 });
      await gone;
    }
  });

  it("publishes a dropped device's last will to its own state topic", async () => {
    const d = await newDevice();
    const state = d.topic("state");
    const command = await t.connect(asService("svc-command", commandToken, "svc-command-w"));
    const got: string[] = [];
    command.on("message", (topic, payload) => topic === state && got.push(payload.toString()));
    await command.subscribeAsync("city/v1/+/+/state", { qos: 1 });
    const will = { topic: state, payload: Buffer.from('{"online":false}'), qos: 1 as const, retain: true };
    const c = await t.connect({ ...asDevice(d.id, d.secret), will });
    c.stream.destroy(); // no DISCONNECT: the will is published [MQTT-3.1.2-8]
    await until("the will", () => got.length === 1);
    await command.endAsync();
  });

  it("refuses an oversized payload, and nothing reaches the subscriber", async () => {
    const d = await newDevice();
    const c = await t.connect(asDevice(d.id, d.secret));
    const gone = closed(c);
    c.publish(d.topic("telemetry"), Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20), { qos: 1 });
    await gone;
    await settle();
    expect(fromOrTo(d.id)).toEqual([]);
  });
});

describe("broker access control: SUBSCRIBE", () => {
  /** Subscribes and returns the granted QoS (128 = refused [MQTT-3.9.3-1]) and what arrives. */
  async function subscriber(opts: IClientOptions, filter: string) {
    const c = await t.connect(opts);
    const got: string[] = [];
    c.on("message", (topic) => got.push(topic));
    return { client: c, got, qos: await grantedQos(c, filter) };
  }

  it("refuses a device subscribing to '#'; it receives nothing", async () => {
    const d = await newDevice();
    const s = await subscriber(asDevice(d.id, d.secret), "#");
    expect(s.qos).toBe(128);
    await settle();
    expect(s.got).toEqual([]);
  });

  it("lets a device subscribe to its own cmd, not to another device's", async () => {
    const victim = await newDevice();
    const d = await newDevice();
    const own = await subscriber(asDevice(victim.id, victim.secret), victim.topic("cmd"));
    expect(own.qos).toBe(1);
    const spy = await subscriber(asDevice(d.id, d.secret), victim.topic("cmd"));
    expect(spy.qos).toBe(128);
    const command = await t.connect(asService("svc-command", commandToken, "svc-command"));
    await command.publishAsync(victim.topic("cmd"), '{"op":"identify"}', { qos: 1 });
    await until("the command at its device", () => own.got.length === 1);
    await settle();
    expect(spy.got).toEqual([]);
    await command.endAsync();
  });

  it("refuses $SYS/# (the broker's heartbeat goes on meanwhile)", async () => {
    const d = await newDevice();
    const s = await subscriber(asDevice(d.id, d.secret), "$SYS/#");
    expect(s.qos).toBe(128);
    await new Promise((r) => setTimeout(r, 300)); // three heartbeats
    expect(s.got).toEqual([]);
  });

  it("keeps a service within its ACL: narrower filters yes, wider or other ones no", async () => {
    const ingest = asService("svc-ingest", ingestToken, `svc-ingest-${uid()}`);
    expect((await subscriber(ingest, "city/v1/streetlight/+/telemetry")).qos).toBe(1);
    const outside = await subscriber(ingest, "city/v1/+/+/cmd");
    expect(outside.qos).toBe(128);
    expect((await subscriber(ingest, "#")).qos).toBe(128);
    expect((await subscriber(ingest, "city/v1/#")).qos).toBe(128);
    const d = await newDevice();
    const command = await t.connect(asService("svc-command", commandToken, "svc-command-2"));
    await command.publishAsync(d.topic("cmd"), "{}", { qos: 1 });
    await settle();
    expect(outside.got).toEqual([]);
    await command.endAsync();
  });
});
