// The delivery engine: gets every open delivery (pending | delivered) to its lamp and records what happens.
//   - It holds the open rows in memory (one per lamp and family: calendar, override) and the payload of each
//     rollout, so that publishing, PUBACKs, acks, presence, retries and expiry never query SQLite per message;
//     their state changes are written in batches (one transaction per flushMs, rollouts.ts `apply`).
//   - Calendars are published retained at QoS 1 to every lamp, online or not: the broker hands the retained
//     message over when the lamp subscribes [MQTT-3.3.1-6]. Overrides and cancels only to connected lamps.
//   - pending → delivered when the broker PUBACKs [MQTT-4.3.2] our publish while the lamp is connected (broker
//     presence); → applied / rejected on the lamp's ack; overrides → expired when their expiry passes first.
//   - When a lamp connects, its open rows are sent again (overrides only if not expired). A delivered row
//     without an ack after retryAfterMs is sent again while the lamp is connected, at most maxAttempts sends
//     in all (TALQ's gateway default: 3); after that it waits for the lamp's next connection.
import type { Registry as MetricsRegistry } from "prom-client";
import type { PresenceEvent } from "../../contract/platform.ts";
import { deviceTopic } from "../../contract/topics.ts";
import type { Logger } from "../../lib/log.ts";
import type { DeliveryChange, Family, RolloutStore } from "../../registry/schedules/rollouts.ts";
import type { DeviceMqtt } from "../device-mqtt.ts";
import type { Clock } from "../liveness/clock.ts";
import { parseAck } from "./acks.ts";
import { deliveryMetrics } from "./delivery-metrics.ts";
import { createOpenRows, type OpenRow } from "./open-rows.ts";
import type { RolloutPayload } from "./payloads.ts";

export type DeliveryEngineDeps = {
  store: Pick<RolloutStore, "apply" | "openRows">;
  /** A stored rollout's payload (recovery after a restart). */
  loadPayload(rolloutId: number): RolloutPayload | undefined;
  /** Absent without a broker: rows stay pending. */
  mqtt: Pick<DeviceMqtt, "deliver"> | undefined;
  clock: Clock;
  log: Logger;
  metrics?: MetricsRegistry | undefined;
  retryAfterMs: number;
  maxAttempts: number;
  /** Lamps connected when the engine starts (device_activity); presence events keep it current after. */
  initialOnline?: () => Iterable<string>;
  /** How often queued state changes are written (default 100 ms). */
  flushMs?: number;
  /** Publishes awaiting their PUBACK at most (default 1000; mqtt.js has 65,535 packet ids). */
  maxInFlight?: number;
  /**
   * Delay between a lamp's presence `connected` and the re-send, for the lamp's SUBSCRIBE (sent on CONNACK) to
   * reach the broker before our command does (a clean session has no subscription until then). Default 500 ms.
   */
  reconnectDelayMs?: number;
};

export type ClosedRow = { rollout_id: number; device_id: string };

export type DeliveryEngine = {
  /** A rollout was stored: hold its payload and send it to its lamps. `closed`: open rows the store superseded. */
  add(payload: RolloutPayload, deviceIds: readonly string[], closed: readonly ClosedRow[]): void;
  /** Rows the store closed by itself (decommissioned lamps): forget them. */
  forget(rows: readonly ClosedRow[]): void;
  /** Clears a lamp's retained calendar (a decommissioned lamp). */
  clearCalendar(deviceId: string): void;
  presence(event: PresenceEvent): void;
  ack(deviceId: string, payload: unknown): void;
  isOnline(deviceId: string): boolean;
  /** Loads the open rows from the store and queues what is due (call once, before start). */
  recover(): void;
  start(): void;
  /** Writes the queued state changes now. */
  flush(): void;
  /** Stops sending, waits a little for PUBACKs in flight, writes what is queued. */
  stop(): Promise<void>;
  stats(): { open: number; queued: number; inFlight: number };
};

const SWEEP_MS = 1000;
const FLUSH_AT = 5000;

export function createDeliveryEngine(deps: DeliveryEngineDeps): DeliveryEngine {
  const log = deps.log.child({ module: "schedule-delivery" });
  const { clock } = deps;
  const maxInFlight = deps.maxInFlight ?? 1000;
  const reconnectDelayMs = deps.reconnectDelayMs ?? 500;
  const open = createOpenRows();
  const online = new Set<string>();
  const queue = new Set<string>(); // `${family}|${deviceId}`, in the order queued
  const reconnects = new Map<string, number>(); // deviceId → when to re-send
  let changes: DeliveryChange[] = [];
  let inFlight = 0;
  let pumpScheduled = false;
  let stopped = false;
  let lastSweep = 0;
  const stops: (() => void)[] = [];
  let invalidAcks = 0;

  const m = deps.metrics ? deliveryMetrics(deps.metrics, () => open.counts()) : undefined;
  const iso = (ms: number) => new Date(ms).toISOString();

  function kindOf(row: OpenRow): string {
    return open.payloadOf(row)?.kind ?? row.family;
  }

  function record(c: DeliveryChange): void {
    changes.push(c);
    if (changes.length >= FLUSH_AT) flush();
  }

  function finish(
    row: OpenRow,
    state: "applied" | "rejected" | "expired",
    reason?: string,
    detail?: string,
  ): void {
    m?.deliveries.inc({ kind: kindOf(row), state });
    record({
      type: "final",
      rolloutId: row.rolloutId,
      deviceId: row.deviceId,
      state,
      at: iso(clock.now()),
      reason,
      detail,
    });
    open.drop(row);
  }

  function enqueue(row: OpenRow): void {
    queue.add(`${row.family}|${row.deviceId}`);
    schedulePump();
  }

  function schedulePump(): void {
    if (pumpScheduled || stopped || !deps.mqtt) return;
    pumpScheduled = true;
    setImmediate(pump);
  }

  function pump(): void {
    pumpScheduled = false;
    const mqtt = deps.mqtt;
    if (stopped || !mqtt) return;
    const now = clock.now();
    for (const key of queue) {
      if (inFlight >= maxInFlight) break;
      queue.delete(key);
      const [family, deviceId] = key.split("|") as [Family, string];
      const row = open.get(deviceId, family);
      if (!row || row.inFlight) continue;
      const p = open.payloadOf(row);
      if (!p) {
        log.error({ rolloutId: row.rolloutId, deviceId }, "open delivery without its payload; left pending");
        continue;
      }
      if (p.expiresAtMs !== null && p.expiresAtMs <= now) {
        finish(row, "expired", "expired", "expired before it could be sent");
        continue;
      }
      // Commands are for a live session only; calendars are retained for the lamp's next subscribe.
      if (p.channel === "cmd" && !online.has(deviceId)) continue;
      send(mqtt, row, p, now);
    }
  }

  function send(mqtt: Pick<DeviceMqtt, "deliver">, row: OpenRow, p: RolloutPayload, now: number): void {
    row.inFlight = true;
    row.attempts++;
    row.lastSendMs = now;
    inFlight++;
    const endTimer = m?.publish.startTimer({ kind: p.kind });
    mqtt
      .deliver(deviceTopic("streetlight", row.deviceId, p.channel), p.payload, { retain: p.retain })
      .then(
        () => {
          endTimer?.();
          const at = clock.now();
          const delivered = online.has(row.deviceId);
          record({ type: "sent", rolloutId: row.rolloutId, deviceId: row.deviceId, at: iso(at), delivered });
          if (delivered && row.state === "pending" && open.isCurrent(row)) {
            row.state = "delivered";
            m?.deliveries.inc({ kind: p.kind, state: "delivered" });
          }
        },
        (err: Error) => {
          // Not sent: the attempt does not count; the sweep tries again after retryAfterMs.
          row.attempts--;
          log.warn({ err: err.message, deviceId: row.deviceId, rolloutId: row.rolloutId }, "publish failed");
        },
      )
      .finally(() => {
        row.inFlight = false;
        inFlight--;
        schedulePump();
      });
  }

  /** Re-sends what is due: unacked rows of connected lamps after retryAfterMs; expires overrides past expiry. */
  function sweep(now: number): void {
    for (const row of open.all()) {
      if (row.inFlight) continue;
      const p = open.payloadOf(row);
      if (p?.expiresAtMs != null && p.expiresAtMs <= now) {
        finish(row, "expired", "expired", "not acknowledged before the override's expiry");
        continue;
      }
      // Offline lamps wait for their connection, except a calendar never published yet (a failed publish).
      const unpublished = row.family === "calendar" && row.attempts === 0;
      if ((!online.has(row.deviceId) && !unpublished) || row.attempts >= deps.maxAttempts) continue;
      if (row.lastSendMs === null || row.lastSendMs + deps.retryAfterMs <= now) enqueue(row);
    }
  }

  function tick(): void {
    const now = clock.now();
    for (const [deviceId, due] of reconnects) {
      if (due > now) continue;
      reconnects.delete(deviceId);
      if (online.has(deviceId)) for (const row of open.ofDevice(deviceId)) enqueue(row);
    }
    if (now - lastSweep >= SWEEP_MS) {
      lastSweep = now;
      sweep(now);
    }
    flush();
  }

  function flush(): void {
    if (changes.length === 0) return;
    const batch = changes;
    changes = [];
    try {
      deps.store.apply(batch);
    } catch (err) {
      // An outage or a bug: the rows keep their previous state in the database; memory is ahead of it.
      log.error({ err, changes: batch.length }, "failed to write delivery states");
    }
  }

  function ackOf(deviceId: string, json: unknown): void {
    const a = parseAck(json);
    if (!a.ok) {
      // A firmware bug can repeat this for every message: log the first and then one in a thousand.
      if (invalidAcks++ % 1000 === 0) log.warn({ deviceId, why: a.why, invalidAcks }, "invalid ack dropped");
      return;
    }
    const row = open.get(deviceId, a.channel === "calendar" ? "calendar" : "override");
    const p = row && open.payloadOf(row);
    if (!row || !p || (a.channel === "calendar" ? p.version !== a.version : p.ackId !== a.id)) {
      // A re-ack of what the lamp holds already, an ack of a superseded delivery, or a late one.
      log.debug({ deviceId, ack: a.channel === "calendar" ? a.version : a.id }, "ack for no open delivery");
      return;
    }
    finish(row, a.state, a.reason, a.detail);
  }

  function forget(rows: readonly ClosedRow[]): void {
    for (const c of rows)
      for (const row of open.ofDevice(c.device_id))
        if (row.rolloutId === c.rollout_id) {
          m?.deliveries.inc({ kind: kindOf(row), state: "superseded" });
          open.drop(row);
        }
  }

  return {
    add(p, deviceIds, closed) {
      forget(closed);
      for (const id of deviceIds) {
        enqueue(open.place(p, id));
        m?.deliveries.inc({ kind: p.kind, state: "pending" });
      }
    },
    forget,
    clearCalendar(deviceId) {
      deps.mqtt
        ?.deliver(deviceTopic("streetlight", deviceId, "calendar"), "", { retain: true })
        .catch((err: Error) =>
          log.warn({ err: err.message, deviceId }, "clearing the retained calendar failed"),
        );
    },
    presence(e) {
      if (e.kind !== "streetlight") return;
      if (e.online) {
        online.add(e.id);
        if (open.has(e.id)) reconnects.set(e.id, clock.now() + reconnectDelayMs);
      } else {
        online.delete(e.id);
        reconnects.delete(e.id);
      }
    },
    ack: ackOf,
    isOnline: (id) => online.has(id),
    recover() {
      for (const id of deps.initialOnline?.() ?? []) online.add(id);
      const missing = new Set<number>();
      let rows = 0;
      for (const r of deps.store.openRows()) {
        let p = open.cachedPayload(r.rollout_id);
        if (!p && !missing.has(r.rollout_id)) {
          p = deps.loadPayload(r.rollout_id);
          if (!p) missing.add(r.rollout_id);
        }
        if (!p) continue;
        const row = open.place(p, r.device_id, { state: r.state, attempts: r.attempts });
        rows++;
        // Never published (the service stopped first), or the lamp is connected: send now. Other calendar rows
        // are retained at the broker already; the lamp's next connection re-sends the rest.
        if (r.attempts === 0 || online.has(r.device_id)) enqueue(row);
      }
      if (missing.size > 0) log.error({ rollouts: [...missing] }, "open deliveries whose payload is gone");
      log.info({ open: rows, online: online.size }, "open deliveries loaded");
    },
    start() {
      stops.push(clock.every(deps.flushMs ?? 100, tick));
      if (!deps.mqtt) log.warn("no MQTT broker: calendars and overrides stay pending");
    },
    flush,
    async stop() {
      stopped = true;
      for (const s of stops.splice(0)) s();
      for (let waited = 0; inFlight > 0 && waited < 2000; waited += 50) await clock.sleep(50);
      flush();
    },
    stats: () => ({
      open: Object.values(open.counts()).reduce((a, b) => a + b, 0),
      queued: queue.size,
      inFlight,
    }),
  };
}
