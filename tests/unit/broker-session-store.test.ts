// The bounded session store that replaces aedes-persistence's outgoing queues (pure, in memory).
import { describe, expect, it } from "vitest";
import { createSessionStore, type SessionLimits } from "../../services/broker/session-store.ts";

type P = {
  cmd: string;
  brokerId: string;
  brokerCounter: number;
  topic: string;
  payload: Buffer;
  qos: number;
  messageId?: number;
};
const pkt = (n: number, payloadBytes = 10): P => ({
  cmd: "publish",
  brokerId: "b1",
  brokerCounter: n,
  topic: `city/v1/streetlight/dev-${n}/telemetry`,
  payload: Buffer.alloc(payloadBytes),
  qos: 1,
});
const client = { id: "ingest" };

function setup(limits: Partial<SessionLimits> = {}) {
  const dropped: string[] = [];
  const store = createSessionStore({
    limits: { maxQueuedMessages: 1000, maxQueuedBytes: 1 << 30, ...limits },
    onDrop: (clientId) => dropped.push(clientId),
  });
  // The methods aedes calls, as it calls them (promise style).
  const p = store.persistence as {
    outgoingEnqueueCombi(subs: { clientId: string }[], packet: P): Promise<void>;
    outgoingEnqueue(sub: { clientId: string }, packet: P): Promise<void>;
    outgoingUpdate(client: { id: string }, packet: Partial<P>): Promise<void>;
    outgoingClearMessageId(client: { id: string }, packet: { messageId: number }): Promise<P | undefined>;
    outgoingStream(client: { id: string }): AsyncIterable<P>;
  };
  const stream = async (id = client.id) => {
    const out: P[] = [];
    for await (const x of p.outgoingStream({ id })) out.push(x);
    return out;
  };
  return { store, p, dropped, stream };
}

describe("session store", () => {
  it("queues in order, tracks packet identifiers and removes on PUBACK", async () => {
    const { store, p, stream } = setup();
    for (let n = 1; n <= 5; n++) await p.outgoingEnqueueCombi([{ clientId: client.id }], pkt(n));
    expect(store.total().messages).toBe(5);
    expect((await stream()).map((x) => x.brokerCounter)).toEqual([1, 2, 3, 4, 5]);

    await p.outgoingUpdate(client, { ...pkt(3), messageId: 42 });
    const cleared = await p.outgoingClearMessageId(client, { messageId: 42 });
    expect(cleared?.brokerCounter).toBe(3);
    expect(await p.outgoingClearMessageId(client, { messageId: 42 })).toBeUndefined();
    expect((await stream()).map((x) => x.brokerCounter)).toEqual([1, 2, 4, 5]);
    expect(store.cleared()).toBe(1);
    expect(store.queuedFor(client.id)).toBe(4);
  });

  it("stores a copy without the publisher's packet identifier", async () => {
    const { p, stream } = setup();
    const original = { ...pkt(1), messageId: 7 };
    await p.outgoingEnqueue({ clientId: client.id }, original);
    const [queued] = await stream();
    expect(queued).not.toBe(original);
    expect(queued?.messageId).toBeUndefined();
  });

  it("re-indexes a message written again with a new identifier (reconnect flush)", async () => {
    const { p, store } = setup();
    await p.outgoingEnqueue({ clientId: client.id }, pkt(1));
    await p.outgoingUpdate(client, { ...pkt(1), messageId: 10 });
    await p.outgoingUpdate(client, { ...pkt(1), messageId: 11 });
    expect(await p.outgoingClearMessageId(client, { messageId: 10 })).toBeUndefined();
    expect((await p.outgoingClearMessageId(client, { messageId: 11 }))?.brokerCounter).toBe(1);
    expect(store.total()).toEqual({ messages: 0, bytes: 0 });
  });

  it("delivers a message matched by overlapping subscriptions once [MQTT-3.3.5-1]", async () => {
    const { p, store } = setup();
    await p.outgoingEnqueueCombi([{ clientId: client.id }, { clientId: client.id }], pkt(1));
    expect(store.queuedFor(client.id)).toBe(1);
  });

  it("lets a PUBREL take the place of its PUBLISH (QoS 2)", async () => {
    const { p, stream } = setup();
    await p.outgoingEnqueue({ clientId: client.id }, { ...pkt(1), qos: 2 });
    await p.outgoingUpdate(client, { ...pkt(1), messageId: 5 });
    await p.outgoingUpdate(client, { cmd: "pubrel", messageId: 5 });
    expect((await stream()).map((x) => x.cmd)).toEqual(["pubrel"]);
    expect((await p.outgoingClearMessageId(client, { messageId: 5 }))?.cmd).toBe("pubrel");
  });

  it("drops and counts beyond the message bound, per session", async () => {
    const { p, store, dropped } = setup({ maxQueuedMessages: 3 });
    for (let n = 1; n <= 5; n++) await p.outgoingEnqueueCombi([{ clientId: "a" }, { clientId: "b" }], pkt(n));
    expect(store.queuedFor("a")).toBe(3);
    expect(store.queuedFor("b")).toBe(3);
    expect(dropped).toEqual(["a", "b", "a", "b"]);
    expect(store.total().messages).toBe(6);
  });

  it("drops beyond the byte bound", async () => {
    const { p, store, dropped } = setup({ maxQueuedBytes: 3000 });
    for (let n = 1; n <= 4; n++) await p.outgoingEnqueue({ clientId: "a" }, pkt(n, 1000));
    expect(store.queuedFor("a")).toBe(2);
    expect(dropped).toHaveLength(2);
    expect(store.total().bytes).toBeLessThanOrEqual(3000);
  });

  it("tolerates updates and acks for messages it does not hold (dropped at the bound)", async () => {
    const { p } = setup({ maxQueuedMessages: 1 });
    await p.outgoingEnqueue({ clientId: "a" }, pkt(1));
    await p.outgoingEnqueue({ clientId: "a" }, pkt(2)); // dropped
    await expect(p.outgoingUpdate({ id: "a" }, { ...pkt(2), messageId: 3 })).resolves.toBeUndefined();
    await expect(p.outgoingClearMessageId({ id: "a" }, { messageId: 3 })).resolves.toBeUndefined();
    await expect(p.outgoingUpdate({ id: "nobody" }, { ...pkt(9), messageId: 1 })).resolves.toBeUndefined();
  });
});
