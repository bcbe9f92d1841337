// Rollouts and their deliveries (issue 4): one rollout per calendar document, override or cancel sent to a set of
// lamps, one schedule_deliveries row per lamp with its state (contract DELIVERY_STATES). The delivery engine
// (services/command/schedules/delivery.ts) keeps the open rows in memory and writes their changes here in
// batches (`apply`: one transaction for many changes), so that 10,000 acks cost one commit, not 10,000.
//
// Families: a lamp has at most one open row (pending | delivered) per family: the calendar family, and the
// override family (override and cancel_override share the lamp's one override slot, TALQ-style). A newer rollout
// of a family supersedes the lamp's open row of that family.
import type { DatabaseSync } from "node:sqlite";
import {
  type AssignmentTarget,
  type DeliveryCounts,
  type DeliveryState,
  type RolloutKind,
  zeroDeliveryCounts,
} from "../../contract/schedule.ts";
import { inTransaction } from "../sqlite.ts";

export type Family = "calendar" | "override";
export const familyOf = (kind: RolloutKind): Family => (kind === "calendar" ? "calendar" : "override");
const FAMILY_KINDS: Record<Family, string> = {
  calendar: "('calendar')",
  override: "('override', 'cancel_override')",
};

/** An override's rollout target (the API's forms) or a calendar's assignment target. */
export type RolloutTarget = { type: AssignmentTarget["type"] | "devices"; id: string };

export type RolloutRow = {
  id: number;
  kind: RolloutKind;
  version: number | null;
  override_id: string | null;
  cause: string;
  target_type: string | null;
  target_id: string | null;
  total: number;
  created_at: string;
  created_by: string;
  /** Calendar rollouts: the document's calendar id (FACTORY_PROGRAM_ID for the factory default). */
  calendar_id: string | null;
};

export type DeliveryRow = {
  rollout_id: number;
  device_id: string;
  state: DeliveryState;
  attempts: number;
  created_at: string;
  sent_at: string | null;
  delivered_at: string | null;
  acked_at: string | null;
  state_at: string;
  reason: string | null;
  detail: string | null;
};

/** An open row as the delivery engine holds it. */
export type OpenDelivery = {
  rollout_id: number;
  device_id: string;
  kind: RolloutKind;
  state: "pending" | "delivered";
  attempts: number;
  sent_at: string | null;
};

/**
 * A state change the engine writes (batched). `sent` counts the attempt whatever the state (an ack can overtake
 * the PUBACK) and moves only a pending row to delivered; `final` applies only while the row is still open.
 */
export type DeliveryChange =
  | { type: "sent"; rolloutId: number; deviceId: string; at: string; delivered: boolean }
  | {
      type: "final";
      rolloutId: number;
      deviceId: string;
      state: "applied" | "rejected" | "expired" | "superseded";
      at: string;
      reason?: string | undefined;
      detail?: string | undefined;
    };

export type NewRollout = {
  kind: RolloutKind;
  version: number | null;
  overrideId: string | null;
  cause: string;
  target: RolloutTarget | null;
  createdBy: string;
  createdAt: string;
  deviceIds: readonly string[];
};

export type StateCounts = DeliveryCounts;

export type RolloutStore = ReturnType<typeof createRolloutStore>;

export function createRolloutStore(db: DatabaseSync) {
  const insertRollout = db.prepare(
    `INSERT INTO schedule_rollouts (kind, version, override_id, cause, target_type, target_id, total, created_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertDelivery = db.prepare(
    `INSERT INTO schedule_deliveries (rollout_id, device_id, state, created_at, state_at) VALUES (?, ?, 'pending', ?, ?)`,
  );
  // The lamps of the new rollout whose older open row of the same family it replaces (set based: one statement).
  const supersedeStmt = (family: Family) =>
    db.prepare(
      `UPDATE schedule_deliveries SET state = 'superseded', state_at = ?, reason = 'superseded', detail = ?
       WHERE state IN ('pending', 'delivered') AND rollout_id < ?
         AND rollout_id IN (SELECT id FROM schedule_rollouts WHERE kind IN ${FAMILY_KINDS[family]})
         AND device_id IN (SELECT device_id FROM schedule_deliveries WHERE rollout_id = ?)
       RETURNING rollout_id, device_id`,
    );
  const supersede = { calendar: supersedeStmt("calendar"), override: supersedeStmt("override") };
  const supersedeDevice = db.prepare(
    `UPDATE schedule_deliveries SET state = 'superseded', state_at = ?, reason = ?, detail = ?
     WHERE device_id = ? AND state IN ('pending', 'delivered') RETURNING rollout_id, device_id`,
  );
  const sent = db.prepare(
    `UPDATE schedule_deliveries SET attempts = attempts + 1, sent_at = ?,
       delivered_at = CASE WHEN ? = 1 AND state = 'pending' THEN ? ELSE delivered_at END,
       state_at = CASE WHEN ? = 1 AND state = 'pending' THEN ? ELSE state_at END,
       state = CASE WHEN ? = 1 AND state = 'pending' THEN 'delivered' ELSE state END
     WHERE rollout_id = ? AND device_id = ?`,
  );
  const finalStmt = db.prepare(
    `UPDATE schedule_deliveries SET state = ?, state_at = ?, reason = ?, detail = ?,
       acked_at = CASE WHEN ? IN ('applied', 'rejected') THEN ? ELSE acked_at END,
       delivered_at = CASE WHEN ? IN ('applied', 'rejected') THEN coalesce(delivered_at, ?) ELSE delivered_at END
     WHERE rollout_id = ? AND device_id = ? AND state IN ('pending', 'delivered')`,
  );
  const openRows = db.prepare(
    `SELECT d.rollout_id, d.device_id, r.kind, d.state, d.attempts, d.sent_at
     FROM schedule_deliveries d JOIN schedule_rollouts r ON r.id = d.rollout_id
     WHERE d.state IN ('pending', 'delivered') ORDER BY d.rollout_id`,
  );
  const ROLLOUT_SQL = `SELECT r.*, doc.calendar_id FROM schedule_rollouts r
     LEFT JOIN schedule_documents doc ON doc.version = r.version`;
  const getRollout = db.prepare(`${ROLLOUT_SQL} WHERE r.id = ?`);
  const counts = db.prepare(
    "SELECT state, count(*) AS n FROM schedule_deliveries WHERE rollout_id = ? GROUP BY state",
  );
  const rejected = db.prepare(
    `SELECT device_id, reason, detail FROM schedule_deliveries
     WHERE rollout_id = ? AND state = 'rejected' ORDER BY device_id LIMIT ?`,
  );
  const listStmt = db.prepare(`${ROLLOUT_SQL} WHERE r.id < ? ORDER BY r.id DESC LIMIT ?`);
  const ofOverride = db.prepare(`${ROLLOUT_SQL} WHERE r.override_id = ? ORDER BY r.id`);
  // The lamps that may hold an override now: its rows not refused, expired or superseded, whose lamp has had no
  // newer override-family rollout since (a cancel must not end the lamp's newer override).
  const holders = db.prepare(
    `SELECT d.device_id FROM schedule_deliveries d
     WHERE d.rollout_id = ? AND d.state IN ('pending', 'delivered', 'applied')
       AND NOT EXISTS (SELECT 1 FROM schedule_deliveries d2 JOIN schedule_rollouts r2 ON r2.id = d2.rollout_id
                       WHERE d2.device_id = d.device_id AND d2.rollout_id > d.rollout_id
                         AND r2.kind IN ${FAMILY_KINDS.override})
     ORDER BY d.device_id`,
  );
  const deliveriesAll = db.prepare(
    `SELECT * FROM schedule_deliveries WHERE rollout_id = ? AND device_id > ? ORDER BY device_id LIMIT ?`,
  );
  const deliveriesByState = db.prepare(
    `SELECT * FROM schedule_deliveries WHERE rollout_id = ? AND state = ? AND device_id > ?
     ORDER BY device_id LIMIT ?`,
  );
  // Per lamp, its latest calendar delivery and that document's content hash (the planner skips a lamp whose
  // resolved document has the same hash). The ids come as one JSON array: one statement for any number of lamps.
  const latestHashes = db.prepare(
    `WITH ids(id) AS (SELECT value FROM json_each(?)),
     latest AS (
       SELECT ids.id AS device_id,
         (SELECT max(d.rollout_id) FROM schedule_deliveries d JOIN schedule_rollouts r ON r.id = d.rollout_id
          WHERE d.device_id = ids.id AND r.kind = 'calendar' AND d.state != 'superseded') AS rollout_id
       FROM ids)
     SELECT latest.device_id, doc.content_hash FROM latest
     JOIN schedule_rollouts r ON r.id = latest.rollout_id
     JOIN schedule_documents doc ON doc.version = r.version`,
  );
  const latestOfDevice = db.prepare(
    `SELECT d.*, r.kind, r.version, r.override_id, r.cause, r.created_at AS rollout_created_at
     FROM schedule_deliveries d JOIN schedule_rollouts r ON r.id = d.rollout_id
     WHERE d.device_id = ? AND r.kind IN ${FAMILY_KINDS.calendar}
     ORDER BY d.rollout_id DESC LIMIT 1`,
  );

  // The document a lamp should be running: its latest calendar delivery it did not refuse.
  const heldVersion = db.prepare(
    `SELECT r.version, r.created_at FROM schedule_deliveries d JOIN schedule_rollouts r ON r.id = d.rollout_id
     WHERE d.device_id = ? AND r.kind = 'calendar' AND d.state != 'rejected'
     ORDER BY d.rollout_id DESC LIMIT 1`,
  );

  return {
    /** The version of the latest calendar sent to the lamp and not refused by it (none: the factory default). */
    expectedVersion: (deviceId: string) =>
      heldVersion.get(deviceId) as { version: number; created_at: string } | undefined,
    /** Inserts a rollout and a pending delivery per lamp, superseding the lamps' open rows of its family. */
    create(r: NewRollout): {
      id: number;
      total: number;
      superseded: { rollout_id: number; device_id: string }[];
    } {
      return inTransaction(db, () => {
        const info = insertRollout.run(
          r.kind,
          r.version,
          r.overrideId,
          r.cause,
          r.target?.type ?? null,
          r.target?.id ?? null,
          r.deviceIds.length,
          r.createdAt,
          r.createdBy,
        );
        const id = Number(info.lastInsertRowid);
        for (const deviceId of r.deviceIds) insertDelivery.run(id, deviceId, r.createdAt, r.createdAt);
        const superseded = supersede[familyOf(r.kind)].all(r.createdAt, `by rollout ${id}`, id, id) as {
          rollout_id: number;
          device_id: string;
        }[];
        return { id, total: r.deviceIds.length, superseded };
      });
    },

    /** Every open row of these lamps → superseded (decommissioned lamps); returns the rows it closed. */
    supersedeDevices(deviceIds: readonly string[], reason: string, detail: string, at: string) {
      return inTransaction(db, () =>
        deviceIds.flatMap(
          (id) => supersedeDevice.all(at, reason, detail, id) as { rollout_id: number; device_id: string }[],
        ),
      );
    },

    /** Writes a batch of state changes in one transaction (a change to a row no longer open is a no-op). */
    apply(changes: readonly DeliveryChange[]): void {
      if (changes.length === 0) return;
      inTransaction(db, () => {
        for (const c of changes) {
          if (c.type === "sent") {
            const d = c.delivered ? 1 : 0;
            sent.run(c.at, d, c.at, d, c.at, d, c.rolloutId, c.deviceId);
          } else
            finalStmt.run(
              c.state,
              c.at,
              c.reason ?? null,
              c.detail ?? null,
              c.state,
              c.at,
              c.state,
              c.at,
              c.rolloutId,
              c.deviceId,
            );
        }
      });
    },

    openRows: () => openRows.all() as OpenDelivery[],
    get: (id: number) => getRollout.get(id) as RolloutRow | undefined,
    counts(id: number): StateCounts {
      const out = zeroDeliveryCounts();
      for (const row of counts.all(id) as { state: DeliveryState; n: number }[]) out[row.state] = row.n;
      return out;
    },
    rejectedSample: (id: number, limit: number) =>
      rejected.all(id, limit) as { device_id: string; reason: string | null; detail: string | null }[],
    /** An override's rollouts (the override, then its cancel if any). */
    ofOverride: (overrideId: string) => ofOverride.all(overrideId) as RolloutRow[],
    /** The lamps of an override rollout that may still hold it (a cancel goes to them). */
    holders: (rolloutId: number) =>
      (holders.all(rolloutId) as { device_id: string }[]).map((r) => r.device_id),
    /** Newest first; `before` = the last id of the previous page. */
    list: (limit: number, before?: number) =>
      listStmt.all(before ?? Number.MAX_SAFE_INTEGER, limit) as RolloutRow[],
    /** A rollout's rows by device id, after `after` (the previous page's last device id). */
    deliveries(
      id: number,
      opts: { state?: DeliveryState | undefined; limit: number; after?: string | undefined },
    ) {
      const after = opts.after ?? "";
      return (
        opts.state
          ? deliveriesByState.all(id, opts.state, after, opts.limit)
          : deliveriesAll.all(id, after, opts.limit)
      ) as DeliveryRow[];
    },
    /** content_hash of each lamp's latest (not superseded) calendar delivery; lamps without one are absent. */
    latestCalendarHashes(deviceIds: readonly string[]): Map<string, string> {
      const rows = latestHashes.all(JSON.stringify(deviceIds)) as {
        device_id: string;
        content_hash: string;
      }[];
      return new Map(rows.map((r) => [r.device_id, r.content_hash]));
    },
    /** A lamp's latest calendar delivery with its rollout's version (GET /v1/devices/{id}/schedule). */
    latestCalendarDelivery: (deviceId: string) =>
      latestOfDevice.get(deviceId) as
        | (DeliveryRow & { kind: RolloutKind; version: number; cause: string; rollout_created_at: string })
        | undefined,
  };
}
