// Overload: publishers flood a slow persistent-session subscriber (the ingest acknowledges a QoS 1 message
// only after its own durable write). The broker must pause the publishers instead of queueing without bound,
// and lose nothing. Watermarks are set low so that a small flood is an overload; no assertion on speed.
import { afterEach, describe, expect, it } from "vitest";
import { MAX_BITE } from "../../services/broker/read-gate.ts";
import { deviceTopic, TELEMETRY_FILTER } from "../../services/contract/topics.ts";
import { permissiveHooks, startTestBroker, type TestBroker, uid, until } from "./broker-harness.ts";

let t: TestBroker | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const PUBLISHERS = 4;
const PER_PUBLISHER = 1000;
const HIGH = 300;

describe("broker: overload", () => {
  it("pauses publishers for a slow subscriber, keeps its queue bounded and loses no QoS 1 message", async () => {
    t = await startTestBroker({
      config: {
        overload: {
          checkIntervalMs: 10,
          watermarks: { highMessages: HIGH, lowMessages: 60, criticalMessages: 20_000 },
        },
      },
      hooks: permissiveHooks, // routing under load, not security (broker-access.test.ts)
    });
    const received = new Set<string>();
    const slow = t.client({ clientId: `ingest-${uid()}`, clean: false });
    // PUBACK only once "written": ~1 ms per message, far slower than the publishers.
    slow.handleMessage = (_packet, done) => void setTimeout(done, 1);
    slow.on("message", (_topic, payload) => received.add(payload.toString()));
    await new Promise((ok) => slow.once("connect", ok));
    await slow.subscribeAsync(TELEMETRY_FILTER, { qos: 1 });

    const publishers = await Promise.all(
      Array.from({ length: PUBLISHERS }, () => t?.connect() as Promise<import("mqtt").MqttClient>),
    );
    const acked = publishers.map((pub, p) => {
      const topic = deviceTopic("streetlight", `sl-${uid()}`, "telemetry");
      // As fast as mqtt.js goes: every PUBLISH handed over at once.
      return Promise.all(
        Array.from({ length: PER_PUBLISHER }, (_, seq) =>
          pub.publishAsync(topic, `${p}:${seq}:${"x".repeat(40)}`, { qos: 1 }),
        ),
      );
    });
    await Promise.all(acked); // every QoS 1 PUBLISH was acknowledged by the broker
    await until(
      "every message at the subscriber",
      () => received.size === PUBLISHERS * PER_PUBLISHER,
      120_000,
    );

    expect(received.size).toBe(PUBLISHERS * PER_PUBLISHER);
    expect(await t.metric("broker_publishers_paused_total")).toBeGreaterThan(0);
    expect(await t.metric("broker_overload_episodes_total")).toBeGreaterThanOrEqual(1);
    expect(await t.metric("broker_session_messages_dropped_total")).toBe(0);
    // Queued work (router + the subscriber's session) never exceeded the high watermark by more than what the
    // publishers had already read when they were paused: one read (MAX_BITE bytes of ~90-byte PUBLISHes) each,
    // counted twice while routed (once in the router, once in the session), plus the router's in-flight slots.
    const bound = HIGH + 2 * PUBLISHERS * Math.ceil(MAX_BITE / 80) + 100;
    const { peakQueued } = t.broker.overload();
    expect(peakQueued.messages).toBeLessThanOrEqual(bound);
    expect(peakQueued.messages).toBeLessThan(PUBLISHERS * PER_PUBLISHER); // the flood was not simply queued
    await until("the overload to end", () => t?.broker.overload().active === false);
    expect(await t.metric("broker_overload_active")).toBe(0);
  });
});
