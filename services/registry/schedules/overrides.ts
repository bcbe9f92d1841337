// Overrides (issue 4, after TALQ's override): a level for a set of lamps from starts_at until expires_at, with a
// reason. The rows here say what was asked; which lamps it went to and how far it got are the deliveries of its
// rollouts (rollouts.ts). A lamp holds one override: a newer one replaces the older at its creation, a cancel
// ends it at cancel time (the slot rule; services/schedule/overrides.ts clipOverrides applies it for compliance).
import type { DatabaseSync } from "node:sqlite";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import type { DeliveryState } from "../../contract/schedule.ts";

export type OverrideTargetType = "devices" | "group" | "district";

export type OverrideRow = {
  id: string;
  target_type: OverrideTargetType;
  /** A group id or district name; for `devices`, the ids as a JSON array. */
  target_id: string;
  level_pct: number;
  ramp_s: number;
  starts_at: string;
  expires_at: string;
  reason: string;
  created_at: string;
  created_by: string;
  cancelled_at: string | null;
  cancelled_by: string | null;
};

/** Which lamps a target names, or why it names none (a value: the route turns it into 400 or 404). */
export type TargetLamps =
  | { ok: true; deviceIds: string[] }
  | { ok: false; reason: "unknown_group" | "unknown_district"; message: string }
  | { ok: false; reason: "bad_devices"; issues: { index: number; id: string; message: string }[] };

export type OverrideStore = ReturnType<typeof createOverrideStore>;

export function createOverrideStore(db: DatabaseSync) {
  const insert = db.prepare(
    `INSERT INTO schedule_overrides (id, target_type, target_id, level_pct, ramp_s, starts_at, expires_at, reason,
       created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const get = db.prepare("SELECT * FROM schedule_overrides WHERE id = ?");
  const cancel = db.prepare(
    "UPDATE schedule_overrides SET cancelled_at = ?, cancelled_by = ? WHERE id = ? AND cancelled_at IS NULL",
  );
  const list = db.prepare(
    `SELECT * FROM schedule_overrides WHERE (? = 0 OR (cancelled_at IS NULL AND expires_at > ?))
     ORDER BY created_at DESC, id DESC LIMIT ?`,
  );
  // The overrides a lamp was sent, newest first (its override rollout has a row for it), with that row's state.
  const ofDevice = db.prepare(
    `SELECT o.*, d.state AS delivery_state FROM schedule_overrides o
     JOIN schedule_rollouts r ON r.override_id = o.id AND r.kind = 'override'
     JOIN schedule_deliveries d ON d.rollout_id = r.id AND d.device_id = ?
     WHERE (? = 0 OR (o.cancelled_at IS NULL AND o.expires_at > ?))
     ORDER BY o.created_at DESC, o.id DESC LIMIT ?`,
  );
  const devices = db.prepare(
    `SELECT d.id, d.kind, d.status FROM devices d WHERE d.id IN (SELECT value FROM json_each(?))`,
  );
  const groupExists = db.prepare("SELECT 1 FROM device_groups WHERE id = ?");
  const groupLamps = db.prepare(
    `SELECT d.id FROM device_group_members m JOIN devices d ON d.id = m.device_id
     WHERE m.group_id = ? AND d.kind = 'streetlight' AND d.status != 'decommissioned' ORDER BY d.id`,
  );
  const districtLamps = db.prepare(
    `SELECT id FROM devices WHERE kind = 'streetlight' AND district = ? AND status != 'decommissioned' ORDER BY id`,
  );

  return {
    insert(o: Omit<OverrideRow, "cancelled_at" | "cancelled_by">): void {
      insert.run(
        o.id,
        o.target_type,
        o.target_id,
        o.level_pct,
        o.ramp_s,
        o.starts_at,
        o.expires_at,
        o.reason,
        o.created_at,
        o.created_by,
      );
    },
    get: (id: string) => get.get(id) as OverrideRow | undefined,
    /** Marks it cancelled; false when it already was. */
    cancel: (id: string, by: string, at: string) => Number(cancel.run(at, by, id).changes) === 1,
    /**
     * Newest first; `activeAt` (ISO) keeps those neither cancelled nor expired then; with `deviceId`, those sent
     * to that lamp, each with `delivery_state` (the lamp's delivery of it).
     */
    list(opts: {
      activeAt?: string | undefined;
      deviceId?: string | undefined;
      limit: number;
    }): (OverrideRow & { delivery_state?: DeliveryState })[] {
      const active = opts.activeAt ? 1 : 0;
      const at = opts.activeAt ?? "";
      return (
        opts.deviceId ? ofDevice.all(opts.deviceId, active, at, opts.limit) : list.all(active, at, opts.limit)
      ) as (OverrideRow & { delivery_state?: DeliveryState })[];
    },

    /** The streetlights a target names now (decommissioned ones left out of groups and districts). */
    lamps(
      target: { type: "devices"; ids: readonly string[] } | { type: "group" | "district"; id: string },
    ): TargetLamps {
      if (target.type === "devices") {
        const found = new Map(
          (devices.all(JSON.stringify(target.ids)) as { id: string; kind: string; status: string }[]).map(
            (d) => [d.id, d],
          ),
        );
        const issues = target.ids.flatMap((id, index) => {
          const d = found.get(id);
          const message = !d
            ? "no such device"
            : d.kind !== "streetlight"
              ? `is a ${d.kind}, not a streetlight`
              : d.status === "decommissioned"
                ? "is decommissioned"
                : "";
          return message ? [{ index, id, message }] : [];
        });
        if (issues.length > 0) return { ok: false, reason: "bad_devices", issues };
        return { ok: true, deviceIds: [...new Set(target.ids)] };
      }
      if (target.type === "group") {
        if (!groupExists.get(target.id))
          return { ok: false, reason: "unknown_group", message: `group ${target.id} not found` };
        return { ok: true, deviceIds: (groupLamps.all(target.id) as { id: string }[]).map((r) => r.id) };
      }
      if (!(DISTRICT_NAMES as readonly string[]).includes(target.id))
        return {
          ok: false,
          reason: "unknown_district",
          message: `district ${target.id} is not one of ${DISTRICT_NAMES.join(", ")}`,
        };
      return { ok: true, deviceIds: (districtLamps.all(target.id) as { id: string }[]).map((r) => r.id) };
    },
  };
}
