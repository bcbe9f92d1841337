// Calendar documents (schedule_documents): what a lamp receives on its retained …/calendar topic — its resolved
// calendar with a copy of every program the calendar names, so the lamp needs nothing else (TALQ: a controller
// keeps its calendar and programs itself and runs them without the platform). Every rollout stores a new row, and
// its autoincrement id is the document's `version` on the wire: versions only grow, so a lamp can refuse an older
// one (`stale`). `content_hash` lets the planner skip lamps that already hold the same content.
import { createHash } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { CITY } from "../../contract/city.ts";
import {
  type CalendarDocument,
  calendarDocument,
  FACTORY_CALENDAR,
  FACTORY_PROGRAM_ID,
} from "../../contract/schedule.ts";
import { inTransaction } from "../sqlite.ts";

/** A document before it is stored: the version and the issue time are given by storeDocument. */
export type DocumentBody = Omit<CalendarDocument, "version" | "issued_at">;

const { version: _v, issued_at: _i, ...FACTORY_BODY } = FACTORY_CALENDAR;

/**
 * The document body for `calendarId` as it stands now (null: FACTORY_CALENDAR's content, the lamp's built-in).
 * Throws when the calendar or a program it names is missing: the stores refuse deleting what is in use, so that
 * is a bug, not an expected failure.
 */
export function buildDocumentBody(db: DatabaseSync, calendarId: string | null): DocumentBody {
  if (calendarId === null) return structuredClone(FACTORY_BODY);
  const cal = db
    .prepare("SELECT id, name, revision, rules, default_program FROM schedule_calendars WHERE id = ?")
    .get(calendarId) as
    | { id: string; name: string; revision: number; rules: string; default_program: string }
    | undefined;
  if (!cal) throw new Error(`calendar ${calendarId} does not exist`);
  const rules = JSON.parse(cal.rules) as DocumentBody["rules"];
  const named = [...new Set([cal.default_program, ...rules.map((r) => r.program)])];
  const rows = db
    .prepare(
      "SELECT id, name, switch_points FROM schedule_programs WHERE id IN (SELECT value FROM json_each(?))",
    )
    .all(JSON.stringify(named)) as { id: string; name: string; switch_points: string }[];
  const byId = new Map(rows.map((p) => [p.id, p]));
  const programs: DocumentBody["programs"] = {};
  for (const id of named) {
    const p = byId.get(id);
    if (!p) throw new Error(`calendar ${calendarId} names program ${id}, which does not exist`);
    programs[id] = { name: p.name, switch_points: JSON.parse(p.switch_points) };
  }
  return {
    calendar: { id: cal.id, name: cal.name, revision: cal.revision },
    time_zone: CITY.timeZone,
    rules,
    default_program: cal.default_program,
    programs,
  };
}

/** JSON with every object's keys sorted: the same content always hashes the same, whatever order built it. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** sha256 (hex) of the document's content: everything but `version` and `issued_at`, keys sorted. */
export function contentHash(body: DocumentBody | CalendarDocument): string {
  const { version: _version, issued_at: _issued, ...content } = body as CalendarDocument;
  return createHash("sha256").update(canonicalJson(content)).digest("hex");
}

/**
 * Stores `body` as a new document and answers it complete (version = the row's id, issued_at = now). The document
 * is checked against the wire schema first: a lamp must never receive one its own validation would refuse.
 */
export function storeDocument(db: DatabaseSync, body: DocumentBody, now: Date): CalendarDocument {
  const issuedAt = now.toISOString();
  const hash = contentHash(body);
  return inTransaction(db, () => {
    const { version } = db
      .prepare(
        `INSERT INTO schedule_documents (calendar_id, calendar_revision, document, content_hash, created_at)
         VALUES (?, ?, '', ?, ?) RETURNING version`,
      )
      .get(body.calendar.id, body.calendar.revision, hash, issuedAt) as { version: number };
    const doc = calendarDocument.parse({ version, issued_at: issuedAt, ...body });
    db.prepare("UPDATE schedule_documents SET document = ? WHERE version = ?").run(
      JSON.stringify(doc),
      version,
    );
    return doc;
  });
}

export type StoredDocument = {
  document: CalendarDocument;
  /** The calendar's id, or FACTORY_PROGRAM_ID for the factory default. */
  calendar_id: string;
  content_hash: string;
  created_at: string;
};

/** A stored document with its row's facts, by its version. */
export function getStoredDocument(db: DatabaseSync, version: number): StoredDocument | undefined {
  const row = db
    .prepare(
      "SELECT document, calendar_id, content_hash, created_at FROM schedule_documents WHERE version = ?",
    )
    .get(version) as
    | { document: string; calendar_id: string; content_hash: string; created_at: string }
    | undefined;
  return row && { ...row, document: JSON.parse(row.document) as CalendarDocument };
}

/** A stored document as it went on the wire, by its version. */
export function getDocument(db: DatabaseSync, version: number): CalendarDocument | undefined {
  return getStoredDocument(db, version)?.document;
}

/** Whether a stored document carries the factory default rather than an assigned calendar. */
export const isFactoryDocument = (calendarId: string) => calendarId === FACTORY_PROGRAM_ID;
