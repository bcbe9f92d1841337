// Device groups (device_groups, device_group_members): a street, a square, a stadium's approach — a set of devices
// a calendar can be assigned to (TALQ assigns calendars to groups as well as to devices). Any registered device may
// be a member; only its streetlights take a calendar. A device can be in several groups (resolve.ts says which
// assigned group wins). Deleting a group removes its members and its assignment with it.
import type { DatabaseSync } from "node:sqlite";
import { FACTORY_PROGRAM_ID } from "../../contract/schedule.ts";
import type { DeviceKind } from "../../contract/topics.ts";
import { inTransaction } from "../sqlite.ts";

export type GroupRecord = {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
  created_by: string;
  updated_at: string;
  /** The calendar assigned to the group, if any. */
  calendar_id: string | null;
  member_count: number;
};

export type GroupMember = {
  device_id: string;
  kind: DeviceKind;
  district: string;
  status: string;
  added_at: string;
  added_by: string;
};

export type GroupFacts = { name: string; description?: string | undefined };

/** A device of a members request that cannot be added, by its position in the request. */
export type MemberRefusal = {
  index: number;
  id: string;
  reason: "unknown_device" | "decommissioned" | "duplicate";
};

export type GroupRefusal =
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "already_exists" }
  | { ok: false; reason: "reserved" }
  | { ok: false; reason: "invalid_members"; refusals: MemberRefusal[] };

/** A change of members: the devices concerned, and whether the group's calendar makes it matter to them. */
export type MembersChanged = {
  ok: true;
  /** Devices whose membership changed (added, or removed), in the request's order. */
  changed: string[];
  /** Of those, the streetlights that are not decommissioned: the lamps whose calendar may change. */
  lamps: string[];
  /** The group's assigned calendar (null: none, so no lamp's resolution changed). */
  calendar_id: string | null;
};

export type GroupStore = {
  list(): GroupRecord[];
  get(id: string): GroupRecord | undefined;
  members(id: string): GroupMember[];
  create(
    id: string,
    facts: GroupFacts,
    devices: readonly string[],
    actor: string,
  ): { ok: true; group: GroupRecord } | GroupRefusal;
  update(id: string, facts: GroupFacts): { ok: true; group: GroupRecord } | GroupRefusal;
  /** Deletes the group, its members and its assignment; answers what `removeMembers` would for all of them. */
  remove(id: string): MembersChanged | GroupRefusal;
  addMembers(id: string, devices: readonly string[], actor: string): MembersChanged | GroupRefusal;
  /** Devices given that are not members are left as they are (not in `changed`). */
  removeMembers(id: string, devices: readonly string[]): MembersChanged | GroupRefusal;
};

type DeviceRow = { id: string; kind: DeviceKind; status: string };

export function createGroupStore(db: DatabaseSync, now: () => Date): GroupStore {
  const select = `SELECT g.id, g.name, g.description, g.created_at, g.created_by, g.updated_at,
      (SELECT a.calendar_id FROM schedule_assignments a WHERE a.target_type = 'group' AND a.target_id = g.id)
        AS calendar_id,
      (SELECT COUNT(*) FROM device_group_members m WHERE m.group_id = g.id) AS member_count
    FROM device_groups g`;
  const all = db.prepare(`${select} ORDER BY g.id`);
  const one = db.prepare(`${select} WHERE g.id = ?`);
  const memberRows = db.prepare(
    `SELECT m.device_id, d.kind, d.district, d.status, m.added_at, m.added_by
       FROM device_group_members m JOIN devices d ON d.id = m.device_id
      WHERE m.group_id = ? ORDER BY m.device_id`,
  );
  const devicesIn = db.prepare(
    "SELECT id, kind, status FROM devices WHERE id IN (SELECT value FROM json_each(?))",
  );
  const insertGroup = db.prepare(
    `INSERT INTO device_groups (id, name, description, created_at, created_by, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const updateGroup = db.prepare(
    "UPDATE device_groups SET name = ?, description = ?, updated_at = ? WHERE id = ?",
  );
  const touch = db.prepare("UPDATE device_groups SET updated_at = ? WHERE id = ?");
  const deleteGroup = db.prepare("DELETE FROM device_groups WHERE id = ?");
  const deleteMembers = db.prepare("DELETE FROM device_group_members WHERE group_id = ?");
  const deleteAssignment = db.prepare(
    "DELETE FROM schedule_assignments WHERE target_type = 'group' AND target_id = ?",
  );
  const addMember = db.prepare(
    `INSERT INTO device_group_members (group_id, device_id, added_at, added_by) VALUES (?, ?, ?, ?)
     ON CONFLICT (group_id, device_id) DO NOTHING`,
  );
  const removeMember = db.prepare("DELETE FROM device_group_members WHERE group_id = ? AND device_id = ?");
  const memberIds = db.prepare(
    "SELECT device_id FROM device_group_members WHERE group_id = ? ORDER BY device_id",
  );

  const get = (id: string) => one.get(id) as GroupRecord | undefined;
  const devices = (ids: readonly string[]) =>
    new Map((devicesIn.all(JSON.stringify(ids)) as DeviceRow[]).map((d) => [d.id, d]));
  /** The lamps among `ids`: streetlights not decommissioned (the planner's candidates). */
  const lampsOf = (ids: readonly string[], known: Map<string, DeviceRow>) =>
    ids.filter((id) => {
      const d = known.get(id);
      return d?.kind === "streetlight" && d.status !== "decommissioned";
    });

  /** Every device must exist, be live and be named once; refusals name each bad one by its index. */
  const check = (ids: readonly string[], known: Map<string, DeviceRow>): MemberRefusal[] => {
    const seen = new Set<string>();
    const refusals: MemberRefusal[] = [];
    ids.forEach((id, index) => {
      const d = known.get(id);
      if (seen.has(id)) refusals.push({ index, id, reason: "duplicate" });
      else if (!d) refusals.push({ index, id, reason: "unknown_device" });
      else if (d.status === "decommissioned") refusals.push({ index, id, reason: "decommissioned" });
      seen.add(id);
    });
    return refusals;
  };

  const add = (
    id: string,
    ids: readonly string[],
    actor: string,
    at: string,
  ): MembersChanged | GroupRefusal => {
    const known = devices(ids);
    const refusals = check(ids, known);
    if (refusals.length > 0) return { ok: false, reason: "invalid_members", refusals };
    const changed = ids.filter((d) => Number(addMember.run(id, d, at, actor).changes) > 0);
    if (changed.length > 0) touch.run(at, id);
    return { ok: true, changed, lamps: lampsOf(changed, known), calendar_id: get(id)?.calendar_id ?? null };
  };

  return {
    list: () => all.all() as GroupRecord[],
    get,
    members: (id) => memberRows.all(id) as GroupMember[],
    create(id, facts, ids, actor) {
      if (id === FACTORY_PROGRAM_ID) return { ok: false, reason: "reserved" };
      return inTransaction(
        db,
        () => {
          if (get(id)) return { ok: false, reason: "already_exists" } as const;
          const at = now().toISOString();
          insertGroup.run(id, facts.name, facts.description ?? null, at, actor, at);
          const added = add(id, ids, actor, at);
          if (!added.ok) return added;
          return { ok: true, group: get(id) as GroupRecord } as const;
        },
        (r) => r.ok, // refused members: the group is not created either
      );
    },
    update(id, facts) {
      return inTransaction(db, () => {
        const changed = updateGroup.run(facts.name, facts.description ?? null, now().toISOString(), id);
        if (Number(changed.changes) === 0) return { ok: false, reason: "not_found" } as const;
        return { ok: true, group: get(id) as GroupRecord } as const;
      });
    },
    remove(id) {
      return inTransaction(db, () => {
        const group = get(id);
        if (!group) return { ok: false, reason: "not_found" } as const;
        const ids = (memberIds.all(id) as { device_id: string }[]).map((m) => m.device_id);
        deleteAssignment.run(id);
        deleteMembers.run(id);
        deleteGroup.run(id);
        return { ok: true, changed: ids, lamps: lampsOf(ids, devices(ids)), calendar_id: group.calendar_id };
      });
    },
    addMembers(id, ids, actor) {
      return inTransaction(db, () => {
        if (!get(id)) return { ok: false, reason: "not_found" } as const;
        return add(id, ids, actor, now().toISOString());
      });
    },
    removeMembers(id, ids) {
      return inTransaction(db, () => {
        if (!get(id)) return { ok: false, reason: "not_found" } as const;
        const known = devices(ids);
        // Unknown ids are refused (a typo should not pass silently); decommissioned members may leave.
        const refusals = check(ids, known).filter((r) => r.reason !== "decommissioned");
        if (refusals.length > 0) return { ok: false, reason: "invalid_members", refusals } as const;
        const changed = ids.filter((d) => Number(removeMember.run(id, d).changes) > 0);
        if (changed.length > 0) touch.run(now().toISOString(), id);
        return {
          ok: true,
          changed,
          lamps: lampsOf(changed, known),
          calendar_id: get(id)?.calendar_id ?? null,
        } as const;
      });
    },
  };
}
