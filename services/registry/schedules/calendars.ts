// Calendars (schedule_calendars): ordered rules naming programs, plus a default program (TALQ's calendar object),
// edited in place with revision + 1. Every program a calendar names must exist when it is written; a program
// cannot be deleted while named (programs.ts), and a calendar cannot be deleted while assigned (assignments.ts),
// so the calendar document built for a lamp (documents.ts) always finds what it names.
import type { DatabaseSync } from "node:sqlite";
import { type CalendarBody, type CalendarRule, FACTORY_PROGRAM_ID } from "../../contract/schedule.ts";
import { inTransaction } from "../sqlite.ts";
import type { AssignmentRef } from "./assignments.ts";
import { createProgramStore } from "./programs.ts";

export type CalendarRecord = {
  id: string;
  name: string;
  description: string | null;
  rules: CalendarRule[];
  default_program: string;
  revision: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
};

/** A program the calendar names that does not exist, by the body's field ("rules.3.program", "default_program"). */
export type MissingProgram = { field: string; program: string };

export type CalendarRefusal =
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "already_exists" }
  | { ok: false; reason: "reserved" }
  | { ok: false; reason: "unknown_program"; missing: MissingProgram[] }
  | { ok: false; reason: "in_use"; assignments: AssignmentRef[] };

export type CalendarStore = {
  list(): CalendarRecord[];
  get(id: string): CalendarRecord | undefined;
  create(
    id: string,
    body: CalendarBody,
    actor: string,
  ): { ok: true; calendar: CalendarRecord } | CalendarRefusal;
  update(
    id: string,
    body: CalendarBody,
    actor: string,
  ): { ok: true; calendar: CalendarRecord } | CalendarRefusal;
  /** Deletes a calendar no assignment names. */
  remove(id: string): { ok: true } | CalendarRefusal;
  /** The assignments naming the calendar. */
  assignmentsOf(id: string): AssignmentRef[];
};

type Row = Omit<CalendarRecord, "rules"> & { rules: string };
const fromRow = (r: Row): CalendarRecord => ({ ...r, rules: JSON.parse(r.rules) });

/** The programs a calendar body names that do not exist, each by its field in the body. */
export function missingPrograms(body: CalendarBody, existing: ReadonlySet<string>): MissingProgram[] {
  const named: MissingProgram[] = [
    ...body.rules.map((r, i) => ({ field: `rules.${i}.program`, program: r.program })),
    { field: "default_program", program: body.default_program },
  ];
  return named.filter((n) => !existing.has(n.program));
}

export function createCalendarStore(db: DatabaseSync, now: () => Date): CalendarStore {
  const programs = createProgramStore(db, now);
  const columns =
    "id, name, description, rules, default_program, revision, created_at, created_by, updated_at, updated_by";
  const all = db.prepare(`SELECT ${columns} FROM schedule_calendars ORDER BY id`);
  const one = db.prepare(`SELECT ${columns} FROM schedule_calendars WHERE id = ?`);
  const insert = db.prepare(
    `INSERT INTO schedule_calendars (id, name, description, rules, default_program, revision, created_at,
       created_by, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
  );
  const update = db.prepare(
    `UPDATE schedule_calendars SET name = ?, description = ?, rules = ?, default_program = ?,
       revision = revision + 1, updated_at = ?, updated_by = ? WHERE id = ?`,
  );
  const remove = db.prepare("DELETE FROM schedule_calendars WHERE id = ?");
  const assigned = db.prepare(
    `SELECT target_type AS type, target_id AS id FROM schedule_assignments WHERE calendar_id = ?
      ORDER BY target_type, target_id`,
  );

  const get = (id: string) => {
    const row = one.get(id) as Row | undefined;
    return row && fromRow(row);
  };
  /** Checked inside the write's transaction: a program deleted meanwhile cannot slip through. */
  const unknownPrograms = (body: CalendarBody) => {
    const missing = missingPrograms(
      body,
      programs.existing([body.default_program, ...body.rules.map((r) => r.program)]),
    );
    return missing.length > 0 ? ({ ok: false, reason: "unknown_program", missing } as const) : null;
  };
  const assignmentsOf = (id: string) => assigned.all(id) as AssignmentRef[];

  return {
    list: () => (all.all() as Row[]).map(fromRow),
    get,
    create(id, body, actor) {
      // FACTORY_CALENDAR's id: documents and rollouts use it for "no calendar assigned".
      if (id === FACTORY_PROGRAM_ID) return { ok: false, reason: "reserved" };
      return inTransaction(db, () => {
        if (one.get(id)) return { ok: false, reason: "already_exists" } as const;
        const refused = unknownPrograms(body);
        if (refused) return refused;
        const at = now().toISOString();
        insert.run(
          id,
          body.name,
          body.description ?? null,
          JSON.stringify(body.rules),
          body.default_program,
          at,
          actor,
          at,
          actor,
        );
        return { ok: true, calendar: get(id) as CalendarRecord } as const;
      });
    },
    update(id, body, actor) {
      return inTransaction(db, () => {
        if (!one.get(id)) return { ok: false, reason: "not_found" } as const;
        const refused = unknownPrograms(body);
        if (refused) return refused;
        update.run(
          body.name,
          body.description ?? null,
          JSON.stringify(body.rules),
          body.default_program,
          now().toISOString(),
          actor,
          id,
        );
        return { ok: true, calendar: get(id) as CalendarRecord } as const;
      });
    },
    remove(id) {
      return inTransaction(db, () => {
        if (!one.get(id)) return { ok: false, reason: "not_found" } as const;
        const assignments = assignmentsOf(id);
        if (assignments.length > 0) return { ok: false, reason: "in_use", assignments } as const;
        remove.run(id);
        return { ok: true } as const;
      });
    },
    assignmentsOf,
  };
}
