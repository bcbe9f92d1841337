// device_activity: how each device is doing, from the broker's presence events, the device's retained `state`
// and the ingest's activity digests (design of issue 3, "Liveness rule"). Writes come in batches (a digest
// can name thousands of devices; a broker restart brings thousands of presence events at once): one
// transaction per batch. Events for ids that are not registered are ignored. Times are ISO 8601 UTC, always
// as Date#toISOString writes them, so that they compare as strings.
import type { DatabaseSync } from "node:sqlite";
import type { Liveness } from "../contract/devices.ts";
import type { ActivityDigest, PresenceEvent } from "../contract/platform.ts";
import { createAuditStore } from "./audit.ts";
import { createStatusMover } from "./commissioning.ts";
import { inTransaction } from "./sqlite.ts";

export type ActivityRow = {
  device_id: string;
  online: number;
  connected_at: string | null;
  disconnected_at: string | null;
  disconnect_reason: string | null;
  remote_address: string | null;
  state_online: number | null;
  state_at: string | null;
  last_seen_at: string | null;
  last_reading_at: string | null;
  last_reading_ts: string | null;
  accepted_total: number;
  rejected_total: number;
  last_reject_reason: string | null;
  last_reject_at: string | null;
};

export type ActivityEvent =
  | { type: "presence"; event: PresenceEvent }
  /** The device's own `state` message; `retained` = replayed by the broker on subscribe (an old message). */
  | { type: "state"; id: string; online: boolean; at: string; retained: boolean }
  | { type: "digest"; digest: ActivityDigest };

export type ApplyResult = {
  /** Devices that went registered → connected in this batch (first connection with their live credential). */
  connected: string[];
  /** Presence events that changed a device's online flag (for logs). */
  presence: number;
};

export type ActivityStore = {
  get(id: string): ActivityRow | undefined;
  apply(events: readonly ActivityEvent[], actor: string): ApplyResult;
  /** Connected devices that are silent now (the liveness rule in SQL). */
  silent(nowMs: number, silentAfterIntervals: number): { id: string; last_reading_at: string | null }[];
  /** Registered (not decommissioned) devices per liveness state. */
  countByLiveness(nowMs: number, silentAfterIntervals: number): Record<Liveness, number>;
};

const iso = (at: string | number): string => new Date(at).toISOString();

/** Epoch ms of an ISO 8601 value, as an exact integer (julianday's double rounded back to the millisecond). */
const msOf = (value: string) => `CAST(ROUND((julianday(${value}) - 2440587.5) * 86400000.0) AS INTEGER)`;

/**
 * The liveness rule (services/command/liveness/rule.ts, livenessOf) as an SQL expression over device_activity `a`
 * (LEFT JOINed: may be all null) and devices `d`, with parameters `$now` (ISO 8601) and `$silent_after`
 * (intervals). In whole milliseconds like livenessOf, so that the two agree also exactly at the threshold
 * (a difference of julianday doubles is off by microseconds either way, half the time).
 */
export const LIVENESS_RULE_SQL = `(CASE
    WHEN a.connected_at IS NULL THEN 'never_seen'
    WHEN a.online = 0 THEN 'offline'
    WHEN ${msOf("$now")} - MAX(${msOf("a.connected_at")}, COALESCE(${msOf("a.last_reading_at")}, 0))
         > $silent_after * d.report_interval_s * 1000 THEN 'silent'
    ELSE 'online'
  END)`;

export function createActivityStore(db: DatabaseSync): ActivityStore {
  const transitionStatus = createStatusMover(db, createAuditStore(db));
  const registered = "WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?)";
  const online = db.prepare(
    `INSERT INTO device_activity (device_id, online, connected_at, remote_address, last_seen_at)
     SELECT ?, 1, ?, ?, ? ${registered}
     ON CONFLICT (device_id) DO UPDATE SET online = 1, connected_at = excluded.connected_at,
       remote_address = excluded.remote_address,
       last_seen_at = MAX(COALESCE(last_seen_at, ''), excluded.last_seen_at)
     -- a late event of an older session must not override a newer connect or disconnect
     WHERE COALESCE(connected_at, '') <= excluded.connected_at
       AND COALESCE(disconnected_at, '') <= excluded.connected_at`,
  );
  const offline = db.prepare(
    `UPDATE device_activity SET online = 0, disconnected_at = ?, disconnect_reason = ?
      WHERE device_id = ? AND COALESCE(connected_at, '') <= ?`,
  );
  const state = db.prepare(
    `INSERT INTO device_activity (device_id, state_online, state_at, last_seen_at)
     SELECT ?, ?, ?, ? ${registered}
     ON CONFLICT (device_id) DO UPDATE SET state_online = excluded.state_online,
       state_at = CASE WHEN ? AND state_online IS excluded.state_online THEN state_at ELSE excluded.state_at END,
       last_seen_at = CASE WHEN excluded.last_seen_at IS NULL THEN last_seen_at
         ELSE MAX(COALESCE(last_seen_at, ''), excluded.last_seen_at) END`,
  );
  // A digest names each device that reported in the last ~2 s: at 30 000 readings/s that is tens of thousands of
  // rows a minute. The UPDATE by primary key is the common case (about 2.5 µs a row); a device's first digest
  // falls through to the INSERT, which also checks that it is registered.
  const digestUpdate = db.prepare(
    `UPDATE device_activity SET
       last_seen_at = MAX(COALESCE(last_seen_at, ''), ?1),
       last_reading_at = CASE WHEN ?2 IS NULL THEN last_reading_at ELSE MAX(COALESCE(last_reading_at, ''), ?2) END,
       last_reading_ts = CASE WHEN ?3 IS NULL THEN last_reading_ts ELSE MAX(COALESCE(last_reading_ts, ''), ?3) END,
       accepted_total = accepted_total + ?4,
       rejected_total = rejected_total + ?5,
       last_reject_reason = COALESCE(?6, last_reject_reason),
       last_reject_at = COALESCE(?7, last_reject_at)
     WHERE device_id = ?8`,
  );
  const digestInsert = db.prepare(
    `INSERT INTO device_activity (last_seen_at, last_reading_at, last_reading_ts, accepted_total, rejected_total,
       last_reject_reason, last_reject_at, device_id)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?8)`,
  );
  const selectOne = db.prepare("SELECT * FROM device_activity WHERE device_id = ?");
  const silent = db.prepare(
    `SELECT a.device_id AS id, a.last_reading_at FROM device_activity a JOIN devices d ON d.id = a.device_id
      WHERE a.online = 1 AND d.status != 'decommissioned' AND ${LIVENESS_RULE_SQL} = 'silent'`,
  );
  const byLiveness = db.prepare(
    `SELECT ${LIVENESS_RULE_SQL} AS liveness, COUNT(*) AS n
       FROM devices d LEFT JOIN device_activity a ON a.device_id = d.id
      WHERE d.status != 'decommissioned' GROUP BY liveness`,
  );

  function applyDigest(d: ActivityDigest): void {
    for (const dev of d.devices) {
      const received = iso(dev.received_at);
      const values = [
        received,
        dev.accepted > 0 ? received : null,
        dev.last_ts === undefined ? null : iso(dev.last_ts),
        dev.accepted,
        dev.rejected,
        dev.rejected > 0 ? topReason(dev.reasons) : null,
        dev.rejected > 0 ? received : null,
        dev.id,
      ] as const;
      if (Number(digestUpdate.run(...values).changes) === 0) digestInsert.run(...values);
    }
  }

  return {
    get: (id) => selectOne.get(id) as ActivityRow | undefined,
    apply(events, actor) {
      const result: ApplyResult = { connected: [], presence: 0 };
      inTransaction(db, () => {
        for (const e of events) {
          if (e.type === "digest") applyDigest(e.digest);
          else if (e.type === "state") {
            const at = iso(e.at);
            state.run(e.id, e.online ? 1 : 0, at, e.retained ? null : at, e.id, e.retained ? 1 : 0);
          } else {
            const p = e.event;
            const at = iso(p.at);
            if (p.online) {
              if (Number(online.run(p.id, at, p.remote_address ?? null, at, p.id).changes) === 0) continue;
              result.presence++;
              // registered → connected: the first connection with the live credential (the broker refuses
              // others, and the credential's created_at precedes any session that used it).
              const moved = transitionStatus({
                id: p.id,
                from: ["registered"],
                to: "connected",
                actor,
                at,
                action: "connected",
                detail: { remote_address: p.remote_address ?? null },
                when: `credential_generation > 0 AND julianday(?) >= julianday(COALESCE(
                  (SELECT created_at FROM device_credentials c WHERE c.device_id = devices.id
                     AND c.generation = devices.credential_generation AND c.revoked_at IS NULL),
                  devices.created_at))`,
                whenParams: [at],
              });
              if (moved) result.connected.push(p.id);
            } else if (p.reason !== "takeover") {
              // A takeover's "offline" is the old session closing after the new one opened: not a disconnect.
              if (Number(offline.run(at, p.reason ?? null, p.id, at).changes) > 0) result.presence++;
            }
          }
        }
      });
      return result;
    },
    silent(nowMs, n) {
      return silent.all({ $now: iso(nowMs), $silent_after: n }) as {
        id: string;
        last_reading_at: string | null;
      }[];
    },
    countByLiveness(nowMs, n) {
      const rows = byLiveness.all({ $now: iso(nowMs), $silent_after: n }) as {
        liveness: Liveness;
        n: number;
      }[];
      const out: Record<Liveness, number> = { never_seen: 0, online: 0, silent: 0, offline: 0 };
      for (const r of rows) out[r.liveness] = r.n;
      return out;
    },
  };
}

/** The most frequent reject reason of a digest entry (the digest carries counts, not order). */
function topReason(reasons: Record<string, number> | undefined): string | null {
  let best: string | null = null;
  let most = 0;
  for (const [reason, n] of Object.entries(reasons ?? {})) {
    if (n > most) {
      best = reason;
      most = n;
    }
  }
  return best;
}
