// The broker with real mqtt.js clients over TCP and WebSocket: publish/subscribe, retained state and last
// will, policy refusals, and the ops endpoints (/health, /metrics) moving with the traffic. Routing, not
// security: the broker runs with the harness's permissive hooks (access control: broker-access.test.ts).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { deviceTopic } from "../../services/contract/topics.ts";
import { permissiveHooks, startTestBroker, type TestBroker, uid, until } from "./broker-harness.ts";

let t: TestBroker;
beforeEach(async () => {
  t = await startTestBroker({ hooks: permissiveHooks });
});
afterEach(async () => {
  await t.close();
});

const received = (client: import("mqtt").MqttClient) => {
  const out: { topic: string; payload: string; retain: boolean }[] = [];
  client.on("message", (topic, payload, packet) =>
    out.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  return out;
};

describe("broker: publish and subscribe", () => {
  it("delivers QoS 1 over TCP", async () => {
    const topic = deviceTopic("streetlight", `sl-${uid()}`, "telemetry");
    const sub = await t.connect();
    const got = received(sub);
    await sub.subscribeAsync(topic, { qos: 1 });
    const pub = await t.connect();
    for (let i = 0; i < 20; i++) await pub.publishAsync(topic, `{"seq":${i}}`, { qos: 1 });
    await until("20 messages", () => got.length === 20);
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 20 }, (_, i) => `{"seq":${i}}`));
  });

  it("carries MQTT over WebSocket, both ways, alongside TCP", async () => {
    const topic = deviceTopic("airquality", `aq-${uid()}`, "telemetry");
    const wsSub = await t.connect({ ws: true });
    const got = received(wsSub);
    await wsSub.subscribeAsync(topic, { qos: 1 });
    const tcpSub = await t.connect();
    const gotTcp = received(tcpSub);
    await tcpSub.subscribeAsync(topic, { qos: 1 });
    await (await t.connect()).publishAsync(topic, "from-tcp", { qos: 1 });
    await (await t.connect({ ws: true })).publishAsync(topic, "from-ws", { qos: 1 });
    await until("both messages on both transports", () => got.length === 2 && gotTcp.length === 2);
    expect(got.map((m) => m.payload).sort()).toEqual(["from-tcp", "from-ws"]);
  });

  it("closes a WebSocket that sends a text frame [MQTT-6.0.0-1]", async () => {
    const ws = new WebSocket(t.wsUrl, "mqtt");
    await new Promise((ok, fail) => ws.once("open", ok).once("error", fail));
    expect(ws.protocol).toBe("mqtt"); // [MQTT-6.0.0-4]
    const closed = new Promise((ok) => ws.once("close", ok));
    ws.send("not mqtt");
    await closed;
  });

  it("keeps the retained state and publishes the last will when a device drops", async () => {
    const device = `sl-${uid()}`;
    const stateTopic = deviceTopic("streetlight", device, "state");
    const dev = await t.connect({
      clientId: device,
      will: { topic: stateTopic, payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    });
    await dev.publishAsync(stateTopic, '{"online":true}', { qos: 1, retain: true });

    const watcher = await t.connect();
    const seen = received(watcher);
    await watcher.subscribeAsync(stateTopic, { qos: 1 });
    // A retained message is sent to a new subscription with RETAIN set [MQTT-3.3.1-8].
    await until("the retained state", () => seen.length === 1);
    expect(seen[0]).toEqual({ topic: stateTopic, payload: '{"online":true}', retain: true });

    dev.stream.destroy(); // no DISCONNECT: the will is published [MQTT-3.1.2-8]
    await until("the last will", () => seen.length === 2);
    expect(seen[1]?.payload).toBe('{"online":false}');

    const late = await t.connect();
    const lateSeen = received(late);
    await late.subscribeAsync(stateTopic, { qos: 1 });
    await until("the retained will", () => lateSeen.length === 1);
    expect(lateSeen[0]).toMatchObject({ payload: '{"online":false}', retain: true });
  });
});

describe("broker: policy seam", () => {
  it("applies injected hooks (the policy seam)", async () => {
    const strict = await startTestBroker({
      hooks: {
        ...permissiveHooks,
        authenticate: (req) =>
          req.username === "ingest" ? { ok: true } : { ok: false, reason: "bad_secret" },
      },
    });
    try {
      await expect(strict.connect({ username: "nobody" })).rejects.toMatchObject({ code: 4 });
      await expect(strict.connect({ username: "ingest" })).resolves.toBeDefined();
    } finally {
      await strict.close();
    }
  });
});

describe("broker: ops endpoints", () => {
  it("reports health", async () => {
    const res = await fetch(`${t.opsUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", checks: { overload: { active: false } } });
  });

  it("exposes metrics that move with the traffic", async () => {
    const topic = deviceTopic("traffic", `tr-${uid()}`, "telemetry");
    const sub = await t.connect();
    const got = received(sub);
    await sub.subscribeAsync(topic, { qos: 1 });
    const pub = await t.connect({ ws: true });
    for (let i = 0; i < 10; i++) await pub.publishAsync(topic, "x", { qos: 1 });
    await pub.publishAsync(topic, "y", { qos: 0 });
    await until("11 messages", () => got.length === 11);
    expect(await t.metric("broker_clients_connected")).toBe(2);
    expect(await t.metric("broker_connects_total")).toBe(2);
    expect(await t.metric("broker_subscriptions")).toBe(1);
    expect(await t.metric("broker_messages_received_total", { qos: "1" })).toBe(10);
    expect(await t.metric("broker_messages_received_total", { qos: "0" })).toBe(1);
    expect(await t.metric("broker_messages_sent_total", { qos: "1" })).toBeGreaterThanOrEqual(10);
    expect(await t.metric("broker_bytes_received_total")).toBeGreaterThan(100);
    expect(await t.metric("broker_bytes_sent_total")).toBeGreaterThan(100);
    expect(await t.metric("broker_overload_active")).toBe(0);
    await sub.endAsync();
    await until("a disconnect", async () => (await t.metric("broker_disconnects_total")) === 1);
  });
});
