// A device's outgoing telemetry: the backlog of readings waiting to be published and the pump that sends them
// as QoS 1 messages while the link is up, with at most `maxInflight` messages awaiting their PUBACK on this
// client and a fleet-wide limiter across all clients, so that a backfill or a reconnect wave cannot overrun
// the broker. A reading counts as delivered (truth, stats) only once its message is acknowledged.
import type { Logger } from "pino";
import { encodeChunk, type QueuedReading, takeChunk } from "./batch.ts";
import type { Limiter } from "./limiter.ts";
import type { Link } from "./link.ts";
import type { TruthAccumulator } from "./truth.ts";

export type OutboxStats = { published: number; ackedMessages: number; ackedReadings: number; errors: number };

export type Outbox = {
  push(reading: QueuedReading): void;
  /** Sends what it can now; call again when the link comes up or a new reading arrives. */
  pump(): void;
  /** Resolves once nothing is waiting, in flight, or still to come from `refill`. */
  drained(): Promise<void>;
  /** Drops the oldest readings beyond `max`; returns how many. */
  trim(max: number): number;
  readonly length: number;
  readonly inflight: number;
  stats(): OutboxStats;
};

export type OutboxDeps = {
  topic: string;
  link: () => Link | undefined;
  limiter: Limiter;
  maxInflight: number;
  truth: TruthAccumulator;
  log: Logger;
  /** Called before each message: lets a backfill generate its readings lazily. */
  refill: (waiting: number) => void;
  /** True while `refill` has more to give. */
  refillPending: () => boolean;
};

export function createOutbox(deps: OutboxDeps): Outbox {
  const queue: QueuedReading[] = [];
  const stats: OutboxStats = { published: 0, ackedMessages: 0, ackedReadings: 0, errors: 0 };
  let inflight = 0;
  let pumping = false;
  let waiters: (() => void)[] = [];

  async function pumpLoop(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        deps.refill(queue.length);
        if (!deps.link()?.connected || queue.length === 0 || inflight >= deps.maxInflight) break;
        inflight++;
        await deps.limiter.acquire();
        const l = deps.link();
        const chunk = l?.connected ? takeChunk(queue) : [];
        if (!l || chunk.length === 0) {
          inflight--;
          deps.limiter.release();
          break;
        }
        send(l, chunk);
      }
    } finally {
      pumping = false;
      notifyDrained();
    }
  }

  function send(l: Link, chunk: QueuedReading[]): void {
    stats.published++;
    l.publish(deps.topic, encodeChunk(chunk), { qos: 1 })
      .then(
        () => {
          stats.ackedMessages++;
          stats.ackedReadings += chunk.length;
          deps.truth.acked(chunk);
        },
        (err: Error) => {
          // Not acknowledged (the link was closed under it): back into the backlog, in time order. The broker
          // may have stored it already; a resend has the same timestamps, so the platform stores it once.
          stats.errors++;
          deps.log.debug({ err: err.message, readings: chunk.length }, "publish failed, requeued");
          queue.unshift(...chunk);
          queue.sort((a, b) => a.ts - b.ts);
        },
      )
      .finally(() => {
        inflight--;
        deps.limiter.release();
        void pumpLoop();
      });
  }

  function notifyDrained(): void {
    if (queue.length > 0 || inflight > 0 || deps.refillPending()) return;
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  }

  return {
    push: (reading) => {
      queue.push(reading);
    },
    pump: () => void pumpLoop(),
    drained: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        notifyDrained();
      }),
    trim: (max) => (queue.length > max ? queue.splice(0, queue.length - max).length : 0),
    get length() {
      return queue.length;
    },
    get inflight() {
      return inflight;
    },
    stats: () => ({ ...stats }),
  };
}
