// Who did what to a device, and when. Every writer of a device records its change here, inside its own
// transaction, in one call that appends to the three logs a change can concern:
//   device_changes  the registry feed (GET /v1/registry/changes) the broker's and the ingest's caches follow;
//   device_audit    the device's history (GET /v1/devices/:id/history): actor, action, JSON detail, never secrets;
//   access_changes  the access feed (GET /v1/access/changes), when the device's access changed (status, credential).
import type { DatabaseSync } from "node:sqlite";
import { createAccessStore } from "./access.ts";

/** What happened to a device; each action's detail is documented where it is recorded (lifecycle.ts). */
export const DEVICE_ACTIONS = [
  "registered",
  "updated",
  "credentials_rotated",
  "credentials_revoked",
  "replaced",
  "decommissioned",
  // Recorded by the commissioning and liveness helpers (services/registry/commissioning.ts, activity.ts).
  "connected",
  "commissioning_started",
  "commissioning_finished",
  "commissioned",
] as const;
export type DeviceAction = (typeof DEVICE_ACTIONS)[number];

export type AuditEvent = { seq: number; at: string; actor: string; action: string; detail: unknown };

export type DeviceChange = {
  id: string;
  actor: string;
  action: DeviceAction;
  /** JSON-serialisable facts of the change (never a secret or its hash). */
  detail?: Record<string, unknown>;
  /** True when the change touched the device's access (status, credential): the broker must hear of it. */
  access: boolean;
  at: string;
};

export type AuditStore = {
  /** Call inside the writer's transaction. */
  record(change: DeviceChange): void;
  history(id: string, limit?: number): AuditEvent[];
};

export function createAuditStore(db: DatabaseSync): AuditStore {
  const access = createAccessStore(db);
  const feed = db.prepare(
    "INSERT INTO device_changes (op, device_id, actor, changed_at) VALUES (?, ?, ?, ?)",
  );
  const audit = db.prepare(
    "INSERT INTO device_audit (device_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
  );
  const history = db.prepare(
    "SELECT seq, at, actor, action, detail FROM device_audit WHERE device_id = ? ORDER BY seq LIMIT ?",
  );
  return {
    record(c) {
      feed.run("upsert", c.id, c.actor, c.at);
      audit.run(c.id, c.at, c.actor, c.action, c.detail === undefined ? null : JSON.stringify(c.detail));
      if (c.access) access.touch("device", c.id, c.at);
    },
    history(id, limit = 1000) {
      const rows = history.all(id, limit) as {
        seq: number;
        at: string;
        actor: string;
        action: string;
        detail: string | null;
      }[];
      return rows.map((r) => ({
        ...r,
        detail: r.detail === null ? null : (JSON.parse(r.detail) as unknown),
      }));
    },
  };
}
