// Which calendar applies to each lamp, and why. The most specific assignment wins: the lamp's own (device), then a
// group it is in, then its district; with none, the lamp keeps its built-in FACTORY_CALENDAR. A lamp in several
// assigned groups takes the most recently assigned group's calendar; the others are reported as shadowed, so the
// platform can explain every lamp's calendar (issue 4: "the platform can say for any lamp which calendar applies
// and why").
//
// Set-based: three queries whatever the number of lamps — the assignments (few: one per district, group or
// individually assigned lamp), the lamps, and the lamps' memberships of assigned groups — then one pass in memory.
// 10,000 lamps resolve in about 10 ms (tests/unit/schedule-resolve.test.ts measures it).
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { AssignmentLevel } from "../../contract/schedule.ts";

export type ShadowedAssignment = { level: AssignmentLevel; target_id: string; calendar_id: string };

export type Resolution = {
  /** The calendar in effect; null: none assigned, the lamp runs FACTORY_CALENDAR. */
  calendar_id: string | null;
  level: AssignmentLevel | "factory";
  /** The device id, group id or district name the winning assignment names. */
  target_id: string | null;
  assigned_at: string | null;
  assigned_by: string | null;
  /** Assignments that also cover the lamp but lose to the winner, in precedence order. */
  shadowed: ShadowedAssignment[];
};

type Assignment = {
  seq: number;
  target_type: AssignmentLevel;
  target_id: string;
  calendar_id: string;
  assigned_at: string;
  assigned_by: string;
};

const RANK: Record<AssignmentLevel, number> = { device: 0, group: 1, district: 2 };

/**
 * Precedence: device, then group, then district; among a lamp's groups the most recent assignment first
 * (assigned_at, then rowid for the same millisecond: a re-assignment is a new row, assignments.ts).
 */
function precedes(a: Assignment, b: Assignment): number {
  return (
    RANK[a.target_type] - RANK[b.target_type] ||
    (a.assigned_at < b.assigned_at ? 1 : a.assigned_at > b.assigned_at ? -1 : 0) ||
    b.seq - a.seq
  );
}

/**
 * The resolution of each live streetlight (not decommissioned): all of them, or those of `deviceIds` (ids that are
 * not live streetlights are left out).
 */
export function resolveCalendars(db: DatabaseSync, deviceIds?: readonly string[]): Map<string, Resolution> {
  const s = statementsOf(db);
  const filtered = deviceIds !== undefined;
  const params: Record<string, string> = filtered ? { $ids: JSON.stringify(deviceIds) } : {};

  const byTarget: Record<AssignmentLevel, Map<string, Assignment>> = {
    device: new Map(),
    group: new Map(),
    district: new Map(),
  };
  for (const a of s.assignments.all() as Assignment[]) byTarget[a.target_type].set(a.target_id, a);
  const groupsOf = new Map<string, Assignment[]>();
  const memberships = (filtered ? s.membershipsIn : s.memberships).all(params) as unknown as [
    string,
    string,
  ][];
  for (const [deviceId, groupId] of memberships) {
    const a = byTarget.group.get(groupId) as Assignment;
    const list = groupsOf.get(deviceId);
    if (list) list.push(a);
    else groupsOf.set(deviceId, [a]);
  }

  const out = new Map<string, Resolution>();
  const lamps = (filtered ? s.lampsIn : s.lamps).all(params) as unknown as [string, string][];
  for (const [id, district] of lamps) {
    const covering: Assignment[] = [];
    const own = byTarget.device.get(id);
    if (own) covering.push(own);
    const groups = groupsOf.get(id);
    if (groups) covering.push(...groups);
    const area = byTarget.district.get(district);
    if (area) covering.push(area);
    if (covering.length > 1) covering.sort(precedes);
    const [win, ...rest] = covering;
    out.set(
      id,
      win
        ? {
            calendar_id: win.calendar_id,
            level: win.target_type,
            target_id: win.target_id,
            assigned_at: win.assigned_at,
            assigned_by: win.assigned_by,
            shadowed: rest.map((a) => ({
              level: a.target_type,
              target_id: a.target_id,
              calendar_id: a.calendar_id,
            })),
          }
        : {
            calendar_id: null,
            level: "factory",
            target_id: null,
            assigned_at: null,
            assigned_by: null,
            shadowed: [],
          },
    );
  }
  return out;
}

/** The live streetlights whose resolved calendar is one of `calendarIds`, sorted by id. */
export function devicesUsingCalendars(db: DatabaseSync, calendarIds: readonly string[]): string[] {
  if (calendarIds.length === 0) return [];
  const wanted = new Set(calendarIds);
  const out: string[] = [];
  // Same precedence as every other answer: resolve, then keep. Lamps come in id order (the primary key).
  for (const [id, r] of resolveCalendars(db))
    if (r.calendar_id !== null && wanted.has(r.calendar_id)) out.push(id);
  return out;
}

type Statements = Record<
  "assignments" | "lamps" | "lampsIn" | "memberships" | "membershipsIn",
  StatementSync
>;

const LAMPS = "SELECT id, district FROM devices WHERE kind = 'streetlight' AND status <> 'decommissioned'";
const IN_IDS = "IN (SELECT value FROM json_each($ids))";
const MEMBERSHIPS = `SELECT m.device_id, m.group_id FROM device_group_members m
  WHERE m.group_id IN (SELECT target_id FROM schedule_assignments WHERE target_type = 'group')`;

const prepared = new WeakMap<DatabaseSync, Statements>();

/** Prepared once per connection; rows as arrays (no object per row: 10,000 of them are read per call). */
function statementsOf(db: DatabaseSync): Statements {
  let s = prepared.get(db);
  if (!s) {
    const arrays = (sql: string) => {
      const stmt = db.prepare(sql);
      stmt.setReturnArrays(true);
      return stmt;
    };
    s = {
      assignments: db.prepare(
        "SELECT rowid AS seq, target_type, target_id, calendar_id, assigned_at, assigned_by FROM schedule_assignments",
      ),
      lamps: arrays(`${LAMPS} ORDER BY id`),
      lampsIn: arrays(`${LAMPS} AND id ${IN_IDS} ORDER BY id`),
      memberships: arrays(MEMBERSHIPS),
      membershipsIn: arrays(`${MEMBERSHIPS} AND m.device_id ${IN_IDS}`),
    };
    prepared.set(db, s);
  }
  return s;
}
