// Dimming programs (schedule_programs): lists of switch points after TALQ's program object, edited in place with
// revision + 1. A program is named by calendars (their default and their rules), which are JSON in
// schedule_calendars; which calendars name a program is one json_each query. Calendar documents already sent to
// lamps carry a copy of each program (documents.ts), so deleting an unused program loses no history.
import type { DatabaseSync } from "node:sqlite";
import { FACTORY_PROGRAM_ID, type ProgramBody, type SwitchPoint } from "../../contract/schedule.ts";
import { inTransaction } from "../sqlite.ts";

export type ProgramRecord = {
  id: string;
  name: string;
  description: string | null;
  switch_points: SwitchPoint[];
  revision: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
};

/** Why a program write was refused; the routes turn these into 404 / 409. */
export type ProgramRefusal =
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "already_exists" }
  | { ok: false; reason: "reserved" }
  | { ok: false; reason: "in_use"; calendars: string[] };

export type ProgramStore = {
  list(): ProgramRecord[];
  get(id: string): ProgramRecord | undefined;
  create(id: string, body: ProgramBody, actor: string): { ok: true; program: ProgramRecord } | ProgramRefusal;
  /** Replaces the program's content (revision + 1). */
  update(id: string, body: ProgramBody, actor: string): { ok: true; program: ProgramRecord } | ProgramRefusal;
  /** Deletes an unused program; one that a calendar names is refused with those calendars. */
  remove(id: string): { ok: true } | ProgramRefusal;
  /** Ids of the calendars naming the program (as default or in a rule), sorted. */
  calendarsUsing(id: string): string[];
  /** Which of `ids` exist. */
  existing(ids: readonly string[]): Set<string>;
};

type Row = Omit<ProgramRecord, "switch_points"> & { switch_points: string };

const fromRow = (r: Row): ProgramRecord => ({ ...r, switch_points: JSON.parse(r.switch_points) });

/**
 * The calendars naming a program: as default, or in any rule. Shared with calendars.ts (a calendar names a
 * program) and resolve.ts (the lamps a program edit reaches).
 */
export const CALENDARS_NAMING_PROGRAM_SQL = `SELECT c.id FROM schedule_calendars c
   WHERE c.default_program = $program
      OR EXISTS (SELECT 1 FROM json_each(c.rules) r WHERE json_extract(r.value, '$.program') = $program)
   ORDER BY c.id`;

export function createProgramStore(db: DatabaseSync, now: () => Date): ProgramStore {
  const columns =
    "id, name, description, switch_points, revision, created_at, created_by, updated_at, updated_by";
  const all = db.prepare(`SELECT ${columns} FROM schedule_programs ORDER BY id`);
  const one = db.prepare(`SELECT ${columns} FROM schedule_programs WHERE id = ?`);
  const insert = db.prepare(
    `INSERT INTO schedule_programs (id, name, description, switch_points, revision, created_at, created_by,
       updated_at, updated_by) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`,
  );
  const update = db.prepare(
    `UPDATE schedule_programs SET name = ?, description = ?, switch_points = ?, revision = revision + 1,
       updated_at = ?, updated_by = ? WHERE id = ?`,
  );
  const remove = db.prepare("DELETE FROM schedule_programs WHERE id = ?");
  const naming = db.prepare(CALENDARS_NAMING_PROGRAM_SQL);
  const existing = db.prepare(
    "SELECT id FROM schedule_programs WHERE id IN (SELECT value FROM json_each(?))",
  );

  const get = (id: string) => {
    const row = one.get(id) as Row | undefined;
    return row && fromRow(row);
  };
  const calendarsUsing = (id: string) => (naming.all({ $program: id }) as { id: string }[]).map((r) => r.id);

  return {
    list: () => (all.all() as Row[]).map(fromRow),
    get,
    create(id, body, actor) {
      // The lamps' built-in program has this id in every document that carries FACTORY_CALENDAR.
      if (id === FACTORY_PROGRAM_ID) return { ok: false, reason: "reserved" };
      return inTransaction(db, () => {
        if (one.get(id)) return { ok: false, reason: "already_exists" } as const;
        const at = now().toISOString();
        insert.run(
          id,
          body.name,
          body.description ?? null,
          JSON.stringify(body.switch_points),
          at,
          actor,
          at,
          actor,
        );
        return { ok: true, program: get(id) as ProgramRecord } as const;
      });
    },
    update(id, body, actor) {
      return inTransaction(db, () => {
        const at = now().toISOString();
        const changed = update.run(
          body.name,
          body.description ?? null,
          JSON.stringify(body.switch_points),
          at,
          actor,
          id,
        );
        if (Number(changed.changes) === 0) return { ok: false, reason: "not_found" } as const;
        return { ok: true, program: get(id) as ProgramRecord } as const;
      });
    },
    remove(id) {
      return inTransaction(db, () => {
        if (!one.get(id)) return { ok: false, reason: "not_found" } as const;
        const calendars = calendarsUsing(id);
        if (calendars.length > 0) return { ok: false, reason: "in_use", calendars } as const;
        remove.run(id);
        return { ok: true } as const;
      });
    },
    calendarsUsing,
    existing: (ids) => new Set((existing.all(JSON.stringify(ids)) as { id: string }[]).map((r) => r.id)),
  };
}
