// Persistent sessions (clean session 0), like the ingest's: what is published while the subscriber is away
// is kept for it, bounded, and delivered when it returns.
import { afterEach, describe, expect, it } from "vitest";
import { deviceTopic, TELEMETRY_FILTER } from "../../services/contract/topics.ts";
import { permissiveHooks, startTestBroker, type TestBroker, uid, until } from "./broker-harness.ts";

let t: TestBroker | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function publishMany(b: TestBroker, n: number) {
  const pub = await b.connect();
  const topic = deviceTopic("streetlight", `sl-${uid()}`, "telemetry");
  await Promise.all(
    Array.from({ length: n }, (_, seq) => pub.publishAsync(topic, JSON.stringify({ seq }), { qos: 1 })),
  );
}

/** The ingest's way: persistent session, QoS 1 on the telemetry filter; records the seq of every message. */
function ingest(b: TestBroker, clientId: string) {
  const seqs: number[] = [];
  const client = b.client({ clientId, clean: false });
  client.on("message", (_topic, payload) =>
    seqs.push((JSON.parse(payload.toString()) as { seq: number }).seq),
  );
  const connected = new Promise<boolean>((ok) =>
    client.once("connect", (connack) => ok(connack.sessionPresent)),
  );
  return { client, seqs, connected };
}

describe("broker: persistent sessions", () => {
  it("keeps QoS 1 messages for a disconnected subscriber and delivers them all on its return", async () => {
    t = await startTestBroker({ hooks: permissiveHooks });
    const id = `ingest-${uid()}`;
    const first = ingest(t, id);
    expect(await first.connected).toBe(false);
    await first.client.subscribeAsync(TELEMETRY_FILTER, { qos: 1 });
    await first.client.endAsync(); // the ingest restarting

    await publishMany(t, 500);
    expect(await t.metric("broker_session_queued_messages", { state: "disconnected" })).toBe(500);

    const again = ingest(t, id);
    expect(await again.connected).toBe(true); // session present [MQTT-3.2.2-2]
    await until("the 500 queued messages", () => again.seqs.length >= 500);
    expect(new Set(again.seqs).size).toBe(500);
    await until(
      "the acknowledgements",
      async () => (await t?.metric("broker_session_queued_messages", { state: "connected" })) === 0,
    );
    expect(await t.metric("broker_session_messages_dropped_total")).toBe(0);
  });

  it("bounds what it keeps, and counts what it had to drop", async () => {
    t = await startTestBroker({ config: { sessions: { maxQueuedMessages: 50 } }, hooks: permissiveHooks });
    const id = `ingest-${uid()}`;
    const first = ingest(t, id);
    await first.connected;
    await first.client.subscribeAsync(TELEMETRY_FILTER, { qos: 1 });
    await first.client.endAsync();

    await publishMany(t, 80);
    expect(await t.metric("broker_session_queued_messages", { state: "disconnected" })).toBe(50);
    expect(await t.metric("broker_session_messages_dropped_total")).toBe(30);

    const again = ingest(t, id);
    await again.connected;
    await until("the 50 kept messages", () => again.seqs.length >= 50);
    expect(again.seqs).toHaveLength(50);
  });
});
