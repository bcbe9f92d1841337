// Session state for aedes: its in-memory persistence (aedes-persistence), with the outgoing queues of
// persistent sessions (clean session = 0) replaced by a bounded store with O(1) operations.
//
// Why: aedes-persistence 11 keeps each session's outgoing QoS 1/2 messages in one array, scanned
// linearly on every delivery (outgoingUpdate) and spliced on every PUBACK (outgoingClearMessageId).
// A persistent subscriber such as the ingest has every routed message in that array, so once publishers
// outrun it the per-message cost grows with the backlog and delivery collapses (see bench/broker-overload.ts;
// the CPU profile of vanilla aedes under flood is ~30% outgoingClearMessageId). Here each session is a Map in
// delivery order plus an index by packet identifier, and is bounded: past the limit a message is dropped
// for that session and counted, instead of growing the heap until the process dies.
import { Readable } from "node:stream";
import * as aedesPersistence from "aedes-persistence";

export type SessionLimits = { maxQueuedMessages: number; maxQueuedBytes: number };
export type Queued = { messages: number; bytes: number };

/** The fields of an aedes packet this store reads (aedes-packet's type is a union over all MQTT packets). */
type Packet = {
  cmd: string;
  brokerId?: string;
  brokerCounter?: number;
  topic?: string;
  payload?: Buffer | string;
  messageId?: number;
};
/** A message's identity across sessions: its broker's id and counter (aedes-packet). */
type Key = number | string;
type Session = { queue: Map<Key, Packet>; byMessageId: Map<number, Key>; bytes: number };

export type SessionStore = {
  /** The aedes `persistence` option. */
  readonly persistence: unknown;
  /** Totals over all persistent sessions, connected or not (O(1)). */
  total(): Queued;
  /** Messages acknowledged and removed since start (monotonic). */
  cleared(): number;
  /** Messages held for one session (O(1)). */
  queuedFor(clientId: string): number;
  /** Per-session totals, for gauges split by connected / disconnected. */
  sessions(): Iterable<[clientId: string, queued: Queued]>;
  /** Ends a persistent session for good (its principal lost access): its subscriptions and queued messages. */
  forget(clientId: string): Promise<void>;
};

// The package is CommonJS whose module.exports is the factory; its typings declare an ESM default export
// instead, so TypeScript sees one level of `default` too many.
type MemoryPersistence = { cleanSubscriptions(client: { id: string }): Promise<void> };
const memoryPersistence = aedesPersistence.default as unknown as () => MemoryPersistence;

/** Rough per-message overhead of a queued packet object, so that tiny payloads still count. */
const PACKET_OVERHEAD = 160;

const sizeOf = (p: Packet): number => PACKET_OVERHEAD + (p.topic?.length ?? 0) + (p.payload?.length ?? 0);

export function createSessionStore(opts: {
  limits: SessionLimits;
  onDrop: (clientId: string, packet: Packet) => void;
}): SessionStore {
  const sessions = new Map<string, Session>();
  const total: Queued = { messages: 0, bytes: 0 };
  let cleared = 0;

  // Packets from this broker (all of them, unclustered) are keyed by their counter alone: no string per message.
  let localBrokerId: string | undefined;
  const keyOf = (p: Packet): Key => {
    localBrokerId ??= p.brokerId;
    return p.brokerId === localBrokerId ? (p.brokerCounter ?? 0) : `${p.brokerId}:${p.brokerCounter}`;
  };

  const add = (s: Session, key: Key, p: Packet, size: number): void => {
    s.queue.set(key, p);
    s.bytes += size;
    total.messages++;
    total.bytes += size;
  };
  const remove = (clientId: string, s: Session, key: Key): Packet | undefined => {
    const p = s.queue.get(key);
    if (!p) return undefined;
    s.queue.delete(key);
    const size = sizeOf(p);
    s.bytes -= size;
    total.messages--;
    total.bytes -= size;
    if (s.queue.size === 0) sessions.delete(clientId);
    return p;
  };

  const enqueue = (clientId: string, packet: Packet): void => {
    let s = sessions.get(clientId);
    if (!s) {
      s = { queue: new Map(), byMessageId: new Map(), bytes: 0 };
      sessions.set(clientId, s);
    }
    const key = keyOf(packet);
    // Overlapping subscriptions match one message several times; it is delivered once [MQTT-3.3.5-1].
    if (s.queue.has(key)) return;
    const size = sizeOf(packet);
    if (s.queue.size >= opts.limits.maxQueuedMessages || s.bytes + size > opts.limits.maxQueuedBytes) {
      if (s.queue.size === 0) sessions.delete(clientId);
      opts.onDrop(clientId, packet);
      return;
    }
    // A copy: the routed packet is shared with other subscribers, and the identifier is per session.
    add(s, key, { ...packet, messageId: undefined }, size);
  };

  const outgoing = {
    async outgoingEnqueue(sub: { clientId: string }, packet: Packet): Promise<void> {
      enqueue(sub.clientId, packet);
    },
    async outgoingEnqueueCombi(subs: { clientId: string }[], packet: Packet): Promise<void> {
      for (const sub of subs) enqueue(sub.clientId, packet);
    },
    /** A queued message is being written with this packet identifier, or a PUBREL replaces its PUBLISH. */
    async outgoingUpdate(client: { id: string }, packet: Packet): Promise<void> {
      const s = sessions.get(client.id);
      // Not queued (dropped at the bound): aedes delivers it untracked rather than erroring the client.
      if (!s || packet.messageId === undefined) return;
      if (packet.brokerId) {
        const key = keyOf(packet);
        const queued = s.queue.get(key);
        if (!queued) return;
        if (queued.messageId !== undefined && s.byMessageId.get(queued.messageId) === key) {
          s.byMessageId.delete(queued.messageId);
        }
        queued.messageId = packet.messageId;
        s.byMessageId.set(packet.messageId, key);
        return;
      }
      // QoS 2: the PUBREL takes the place of the PUBLISH it follows, same identifier [MQTT-4.3.3-1].
      const key = s.byMessageId.get(packet.messageId);
      const old = key === undefined ? undefined : s.queue.get(key);
      if (key === undefined || !old) return;
      const delta = sizeOf(packet) - sizeOf(old);
      s.queue.set(key, packet);
      s.bytes += delta;
      total.bytes += delta;
    },
    /** PUBACK / PUBCOMP: the message is delivered and leaves the session [MQTT-4.3.2-1]. */
    async outgoingClearMessageId(client: { id: string }, packet: Packet): Promise<Packet | undefined> {
      const s = sessions.get(client.id);
      const key = packet.messageId === undefined ? undefined : s?.byMessageId.get(packet.messageId);
      if (!s || key === undefined) return undefined;
      s.byMessageId.delete(packet.messageId as number);
      cleared++;
      return remove(client.id, s, key);
    },
    /** Everything queued for a reconnecting session, in order [MQTT-4.4.0-1]; a snapshot. */
    outgoingStream(client: { id: string }): Readable {
      return Readable.from([...(sessions.get(client.id)?.queue.values() ?? [])]);
    },
  };

  const persistence = Object.assign(memoryPersistence() as MemoryPersistence, outgoing);
  return {
    persistence,
    async forget(clientId) {
      const s = sessions.get(clientId);
      if (s) {
        sessions.delete(clientId);
        total.messages -= s.queue.size;
        total.bytes -= s.bytes;
      }
      // Without its subscriptions nothing is queued for the session any more [MQTT-3.1.2-4].
      await persistence.cleanSubscriptions({ id: clientId });
    },
    total: () => ({ ...total }),
    cleared: () => cleared,
    queuedFor: (clientId) => sessions.get(clientId)?.queue.size ?? 0,
    *sessions() {
      for (const [id, s] of sessions) yield [id, { messages: s.queue.size, bytes: s.bytes }];
    },
  };
}
