// Liveness: broker presence, retained state and ingest activity digests → device_activity (batched: one
// transaction per flush), the registered → connected transition on a device's first connection, and a sweep
// that counts devices by liveness into a gauge and logs those turning silent (rule.ts).

import type { DatabaseSync } from "node:sqlite";
import { type Gauge, Gauge as PromGauge, type Registry } from "prom-client";
import { LIVENESS, type Liveness } from "../../contract/devices.ts";
import type { Logger } from "../../lib/log.ts";
import { type ActivityEvent, type ActivityStore, createActivityStore } from "../../registry/activity.ts";
import type { DeviceMqttHandlers } from "../device-mqtt.ts";
import type { Clock } from "./clock.ts";

export type LivenessDeps = {
  db: DatabaseSync;
  log: Logger;
  clock: Clock;
  silentAfterIntervals: number;
  /** Actor recorded for automatic status changes (the service's account name). */
  actor: string;
  metrics?: Registry | undefined;
  /** Device rows changed (status connected): announce the registry change. */
  onRegistryChange?: ((ids: string[]) => void) | undefined;
  flushMs?: number;
  sweepMs?: number;
};

export type LivenessTracker = {
  /** The MQTT handlers to pass to DeviceMqtt#start. */
  handlers: DeviceMqttHandlers;
  store: ActivityStore;
  /** Writes what is queued now (tests; the engine before reading activity it is waiting on). */
  flush(): void;
  sweep(): void;
  start(): void;
  stop(): void;
};

/** Above this many queued events a flush happens at once instead of on the timer. */
const FLUSH_AT = 2000;
/** Devices turning silent logged one by one per sweep; the rest in one summary line. */
const LOG_SILENT = 20;

export function createLivenessTracker(deps: LivenessDeps): LivenessTracker {
  const log = deps.log.child({ module: "liveness" });
  const store = createActivityStore(deps.db);
  const queue: ActivityEvent[] = [];
  let silentNow = new Set<string>();
  const stops: (() => void)[] = [];
  let gauge: Gauge<"state"> | undefined;
  if (deps.metrics) {
    gauge = new PromGauge({
      name: "devices_liveness",
      help: `Registered devices by liveness (${Object.keys(LIVENESS).join(", ")}), as of the last sweep`,
      labelNames: ["state"],
      registers: [deps.metrics],
    });
  }

  function enqueue(e: ActivityEvent): void {
    queue.push(e);
    if (queue.length >= FLUSH_AT) flush();
  }

  function flush(): void {
    if (queue.length === 0) return;
    const batch = queue.splice(0, queue.length);
    try {
      const r = store.apply(batch, deps.actor);
      for (const id of r.connected)
        log.info({ deviceId: id }, "device connected for the first time: status connected");
      if (r.connected.length > 0) deps.onRegistryChange?.(r.connected);
    } catch (err) {
      // A database error is an outage or a bug; the events are lost, but presence and digests keep coming.
      log.error({ err, events: batch.length }, "failed to write device activity");
    }
  }

  function sweep(): void {
    const now = deps.clock.now();
    try {
      const silent = store.silent(now, deps.silentAfterIntervals);
      const next = new Set(silent.map((s) => s.id));
      const turned = silent.filter((s) => !silentNow.has(s.id));
      for (const s of turned.slice(0, LOG_SILENT))
        log.warn(
          { deviceId: s.id, lastReadingAt: s.last_reading_at },
          "device silent: connected but not reporting",
        );
      if (turned.length > LOG_SILENT)
        log.warn({ more: turned.length - LOG_SILENT }, "more devices turned silent");
      silentNow = next;
      if (gauge) {
        const counts = store.countByLiveness(now, deps.silentAfterIntervals);
        for (const state of Object.keys(counts) as Liveness[]) gauge.set({ state }, counts[state]);
      }
    } catch (err) {
      log.error({ err }, "liveness sweep failed");
    }
  }

  return {
    store,
    flush,
    sweep,
    handlers: {
      presence: (event) => enqueue({ type: "presence", event }),
      state: (id, online, retained, at) => enqueue({ type: "state", id, online, retained, at }),
      activity: (digest) => enqueue({ type: "digest", digest }),
    },
    start() {
      stops.push(deps.clock.every(deps.flushMs ?? 200, flush));
      // The sweep reads every device (about 90 ms for 50 000): often enough for a gauge and a log line. Pages and
      // the list apply the rule when they are read, so they do not wait for it.
      stops.push(deps.clock.every(deps.sweepMs ?? 15_000, sweep));
    },
    stop() {
      for (const stop of stops.splice(0)) stop();
      flush();
    },
  };
}
