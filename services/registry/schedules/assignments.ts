// Calendar assignments (schedule_assignments): one calendar per target — a district, a group or one streetlight.
// Which one applies to a lamp is resolve.ts's question (most specific wins); this store keeps the assignments and
// answers, for a target, the lamps an assignment there can reach (the planner's candidates).
import type { DatabaseSync } from "node:sqlite";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import type { AssignmentLevel, AssignmentTarget } from "../../contract/schedule.ts";
import { inTransaction } from "../sqlite.ts";

export type AssignmentRef = { type: AssignmentLevel; id: string };

export type AssignmentRecord = {
  target: AssignmentRef;
  /** The calendar's id (the field PUT /v1/assignments takes). */
  calendar: string;
  assigned_at: string;
  assigned_by: string;
};

/** Why a target cannot take an assignment. */
export type TargetRefusal = {
  ok: false;
  reason: "unknown_district" | "unknown_group" | "unknown_device" | "not_a_streetlight" | "decommissioned";
};

export type AssignmentStore = {
  list(filter?: { calendar?: string | undefined }): AssignmentRecord[];
  get(target: AssignmentTarget): AssignmentRecord | undefined;
  /** Assigns (or re-assigns: the assignment becomes the most recent) `calendarId` to `target`. */
  put(
    target: AssignmentTarget,
    calendarId: string,
    actor: string,
  ):
    | { ok: true; assignment: AssignmentRecord; previous: AssignmentRecord | null; lamps: string[] }
    | TargetRefusal
    | { ok: false; reason: "unknown_calendar" };
  remove(
    target: AssignmentTarget,
  ): { ok: true; removed: AssignmentRecord; lamps: string[] } | { ok: false; reason: "not_found" };
  /** Whether the target exists and can take a calendar. */
  checkTarget(target: AssignmentTarget): { ok: true } | TargetRefusal;
  /**
   * The lamps an assignment on `target` can reach: a district's streetlights, a group's members that are
   * streetlights, or the device itself; never decommissioned ones. Sorted by id.
   */
  lampsOf(target: AssignmentTarget): string[];
};

type Row = {
  target_type: AssignmentLevel;
  target_id: string;
  calendar_id: string;
  assigned_at: string;
  assigned_by: string;
};
const fromRow = (r: Row): AssignmentRecord => ({
  target: { type: r.target_type, id: r.target_id },
  calendar: r.calendar_id,
  assigned_at: r.assigned_at,
  assigned_by: r.assigned_by,
});

const LIVE_LAMP = "d.kind = 'streetlight' AND d.status <> 'decommissioned'";

export function createAssignmentStore(db: DatabaseSync, now: () => Date): AssignmentStore {
  const columns = "target_type, target_id, calendar_id, assigned_at, assigned_by";
  // rowid breaks ties between assignments made in the same millisecond (resolve.ts orders groups by both).
  const all = db.prepare(`SELECT ${columns} FROM schedule_assignments ORDER BY target_type, target_id`);
  const byCalendar = db.prepare(
    `SELECT ${columns} FROM schedule_assignments WHERE calendar_id = ? ORDER BY target_type, target_id`,
  );
  const one = db.prepare(
    `SELECT ${columns} FROM schedule_assignments WHERE target_type = ? AND target_id = ?`,
  );
  // REPLACE deletes and inserts: a re-assignment gets a new rowid, so it is the most recent by rowid too.
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO schedule_assignments (target_type, target_id, calendar_id, assigned_at, assigned_by)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const remove = db.prepare("DELETE FROM schedule_assignments WHERE target_type = ? AND target_id = ?");
  const calendarExists = db.prepare("SELECT 1 FROM schedule_calendars WHERE id = ?");
  const groupExists = db.prepare("SELECT 1 FROM device_groups WHERE id = ?");
  const device = db.prepare("SELECT kind, status FROM devices WHERE id = ?");
  const districtLamps = db.prepare(
    `SELECT d.id FROM devices d WHERE d.district = ? AND ${LIVE_LAMP} ORDER BY d.id`,
  );
  const groupLamps = db.prepare(
    `SELECT d.id FROM device_group_members m JOIN devices d ON d.id = m.device_id
      WHERE m.group_id = ? AND ${LIVE_LAMP} ORDER BY d.id`,
  );
  const deviceLamp = db.prepare(`SELECT d.id FROM devices d WHERE d.id = ? AND ${LIVE_LAMP}`);

  const get = (t: AssignmentTarget) => {
    const row = one.get(t.type, t.id) as Row | undefined;
    return row && fromRow(row);
  };
  const ids = (rows: unknown[]) => (rows as { id: string }[]).map((r) => r.id);
  const lampsOf = (t: AssignmentTarget): string[] => {
    switch (t.type) {
      case "district":
        return ids(districtLamps.all(t.id));
      case "group":
        return ids(groupLamps.all(t.id));
      case "device":
        return ids(deviceLamp.all(t.id));
    }
  };
  const checkTarget = (t: AssignmentTarget): { ok: true } | TargetRefusal => {
    switch (t.type) {
      case "district":
        return (DISTRICT_NAMES as readonly string[]).includes(t.id)
          ? { ok: true }
          : { ok: false, reason: "unknown_district" };
      case "group":
        return groupExists.get(t.id) ? { ok: true } : { ok: false, reason: "unknown_group" };
      case "device": {
        const d = device.get(t.id) as { kind: string; status: string } | undefined;
        if (!d) return { ok: false, reason: "unknown_device" };
        if (d.kind !== "streetlight") return { ok: false, reason: "not_a_streetlight" };
        if (d.status === "decommissioned") return { ok: false, reason: "decommissioned" };
        return { ok: true };
      }
    }
  };

  return {
    list: (filter = {}) =>
      ((filter.calendar === undefined ? all.all() : byCalendar.all(filter.calendar)) as Row[]).map(fromRow),
    get,
    put(target, calendarId, actor) {
      return inTransaction(db, () => {
        const checked = checkTarget(target);
        if (!checked.ok) return checked;
        if (!calendarExists.get(calendarId)) return { ok: false, reason: "unknown_calendar" } as const;
        const previous = get(target) ?? null;
        upsert.run(target.type, target.id, calendarId, now().toISOString(), actor);
        return {
          ok: true,
          assignment: get(target) as AssignmentRecord,
          previous,
          lamps: lampsOf(target),
        } as const;
      });
    },
    remove(target) {
      return inTransaction(db, () => {
        const removed = get(target);
        if (!removed) return { ok: false, reason: "not_found" } as const;
        remove.run(target.type, target.id);
        return { ok: true, removed, lamps: lampsOf(target) } as const;
      });
    },
    checkTarget,
    lampsOf,
  };
}
