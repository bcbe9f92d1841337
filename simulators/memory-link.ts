// An in-memory stand-in for the broker, for unit tests of the device runtime (STYLE.md, habit 8): links connect
// on the next turn of the event loop, every publish is acknowledged at once and recorded, and a test can send
// a message to whoever subscribed (`deliver`) or make the broker refuse a client's CONNECT (`refuse`).
import type { Link, LinkFactory, LinkOptions, Refusal } from "./link.ts";

export type SentMessage = { clientId: string; topic: string; payload: string; retain: boolean; qos: 0 | 1 };

export type MemoryBroker = {
  factory: LinkFactory;
  sent: SentMessage[];
  closes: { clientId: string; abrupt: boolean }[];
  opened: LinkOptions[];
  subscriptions: { clientId: string; topic: string }[];
  /** Delivers a message to the connected links subscribed to exactly `topic`; returns how many got it. */
  deliver(topic: string, payload: string): number;
  /** CONNECTs of this client are refused with the code until `refuse(clientId, undefined)`. */
  refuse(clientId: string, refusal: Omit<Refusal, "retryInMs"> | undefined): void;
};

export function createMemoryBroker(): MemoryBroker {
  const sent: SentMessage[] = [];
  const closes: { clientId: string; abrupt: boolean }[] = [];
  const opened: LinkOptions[] = [];
  const subscriptions: { clientId: string; topic: string }[] = [];
  const refusals = new Map<string, Omit<Refusal, "retryInMs">>();
  const live = new Set<{
    opts: LinkOptions;
    topics: Set<string>;
    onMessage: ((t: string, p: string) => void)[];
  }>();

  const factory: LinkFactory = (opts) => {
    opened.push(opts);
    let connected = false;
    let closed = false;
    const onConnect: (() => void)[] = [];
    const entry = { opts, topics: new Set<string>(), onMessage: [] as ((t: string, p: string) => void)[] };
    const onRefused: ((r: Refusal) => void)[] = [];
    setImmediate(() => {
      if (closed) return;
      const refusal = refusals.get(opts.clientId);
      if (refusal) {
        for (const fn of onRefused) fn({ ...refusal, retryInMs: opts.refusedRetryMinMs ?? 5000 });
        return;
      }
      connected = true;
      live.add(entry);
      for (const h of onConnect) h();
    });
    const link: Link = {
      get connected() {
        return connected;
      },
      async publish(topic, payload, { qos, retain = false }) {
        if (!connected) throw new Error("not connected");
        sent.push({ clientId: opts.clientId, topic, payload, retain, qos });
      },
      async subscribe(topic) {
        if (!connected) throw new Error("not connected");
        entry.topics.add(topic);
        subscriptions.push({ clientId: opts.clientId, topic });
      },
      async close(abrupt) {
        closed = true;
        connected = false;
        live.delete(entry);
        closes.push({ clientId: opts.clientId, abrupt });
      },
      onConnect: (fn) => onConnect.push(fn),
      onMessage: (fn) => entry.onMessage.push(fn),
      onRefused: (fn) => onRefused.push(fn),
      onError: () => {},
    };
    return link;
  };

  return {
    factory,
    sent,
    closes,
    opened,
    subscriptions,
    deliver(topic, payload) {
      let n = 0;
      for (const l of live) {
        if (!l.topics.has(topic)) continue;
        n++;
        for (const fn of l.onMessage) fn(topic, payload);
      }
      return n;
    },
    refuse(clientId, refusal) {
      if (refusal) refusals.set(clientId, refusal);
      else refusals.delete(clientId);
    },
  };
}
