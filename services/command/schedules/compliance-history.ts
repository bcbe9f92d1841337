// What the platform told each lamp, read back from the registry for a compliance check: the calendar documents
// it sent (schedule_rollouts + schedule_deliveries + schedule_documents) and the overrides that covered it (the
// override rollouts' deliveries + schedule_overrides). The expected level is the platform's intent, so a calendar
// counts from its rollout's creation whatever became of the delivery: a lamp that rejected or never got a
// calendar is exactly what the check must show. The one exception is an override the platform itself gave up on
// (expired before the lamp acknowledged it): contract/schedule.ts says it is never applied late, so nothing
// expects it.
import type { DatabaseSync } from "node:sqlite";
import { type CalendarDocument, calendarDocument } from "../../contract/schedule.ts";
import type { OverrideRecord } from "../../schedule/overrides.ts";

/** A calendar in force for a lamp from `fromMs` (its rollout's creation) until the next one. */
export type CalendarSpan = { fromMs: number; version: number; doc: CalendarDocument };

/** One override as clipOverrides (services/schedule/overrides.ts) takes it. */
export type OverrideRow = OverrideRecord;

/** A stretch in which the lamp did what commissioning told it (an identify blink): its samples are not judged. */
export type Excused = { fromMs: number; toMs: number; why: string };

export type LampHistory = { calendars: CalendarSpan[]; overrides: OverrideRow[]; excused: Excused[] };

export type HistoryReader = {
  /**
   * History of `deviceIds` that matters for [fromMs, toMs): the calendar in force at fromMs and every later one
   * before toMs; every override in force at some point of the window, with the newer ones that cut it short.
   * A lamp with no calendar delivery before toMs has no spans (the factory calendar applies).
   */
  forLamps(deviceIds: readonly string[], fromMs: number, toMs: number): Map<string, LampHistory>;
};

type CalendarRow = { device_id: string; created_at: string; version: number };
type OverrideDbRow = {
  device_id: string;
  id: string;
  level_pct: number;
  ramp_s: number;
  starts_at: string;
  expires_at: string;
  created_at: string;
  cancelled_at: string | null;
};

/** Calendars of the lamps sent before the window's end, in the order they were sent. */
const CALENDARS_SQL = `
  SELECT d.device_id, r.created_at, r.version
    FROM schedule_deliveries d
    JOIN schedule_rollouts r ON r.id = d.rollout_id
   WHERE d.device_id IN (SELECT value FROM json_each(?)) AND r.kind = 'calendar' AND r.created_at < ?
   ORDER BY d.device_id, r.created_at, r.id`;

/**
 * Overrides that covered the lamps, created before the window's end. `live` = those still in force at the
 * window's start or later; a lamp's older ones cannot matter, but every override created after its first live
 * one can (a newer override ends an older one at its creation: the per-lamp slot of contract/commands.ts).
 */
const OVERRIDES_SQL = `
  WITH covered AS (
    SELECT d.device_id, o.id, o.level_pct, o.ramp_s, o.starts_at, o.expires_at, o.created_at, o.cancelled_at
      FROM schedule_deliveries d
      JOIN schedule_rollouts r ON r.id = d.rollout_id
      JOIN schedule_overrides o ON o.id = r.override_id
     WHERE d.device_id IN (SELECT value FROM json_each(?1)) AND r.kind = 'override' AND o.created_at < ?2
       AND d.state <> 'expired' AND NOT (d.state = 'rejected' AND coalesce(d.reason, '') = 'expired')
     GROUP BY d.device_id, o.id
  ),
  live AS (
    SELECT device_id, min(created_at) AS since FROM covered
     WHERE expires_at > ?3 AND (cancelled_at IS NULL OR cancelled_at > ?3)
     GROUP BY device_id
  )
  SELECT c.* FROM covered c JOIN live ON live.device_id = c.device_id
   WHERE c.created_at >= live.since
   ORDER BY c.device_id, c.created_at, c.id`;

/**
 * Commissioning's commands to the lamps (services/command/commissioning/runners.ts records when it sent them): a
 * test dim is an override of the schedule like any other (TALQ: the lamp's one override slot), an identify blink
 * alternates full and off for its duration. Commands whose check failed before an ack have no issued_at.
 */
const COMMISSIONING_SQL = `
  SELECT r.device_id, c.name, r.id AS run_id,
         json_extract(c.data, '$.issued_at') AS issued_at,
         json_extract(c.data, '$.duration_s') AS duration_s,
         json_extract(c.data, '$.level_pct') AS level_pct
    FROM commissioning_checks c
    JOIN commissioning_runs r ON r.id = c.run_id
   WHERE r.device_id IN (SELECT value FROM json_each(?1)) AND c.name IN ('identify', 'test_dim')
     AND json_extract(c.data, '$.issued_at') IS NOT NULL AND c.started_at < ?2
     AND c.started_at >= ?3
   ORDER BY r.device_id, issued_at`;
type CommissioningRow = {
  device_id: string;
  name: string;
  run_id: string;
  issued_at: string;
  duration_s: number;
  level_pct: number | null;
};
/** The longest commissioning command (a test dim of 3 intervals of a day + 30 s) reaching into a window. */
const LONGEST_COMMAND_MS = (3 * 86_400 + 30) * 1000;

const ms = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`registry holds a time that is not ISO 8601: ${JSON.stringify(iso)}`);
  return t;
};

export function historyReader(db: DatabaseSync): HistoryReader {
  const calendars = db.prepare(CALENDARS_SQL);
  const overrides = db.prepare(OVERRIDES_SQL);
  const documentOf = db.prepare("SELECT document FROM schedule_documents WHERE version = ?");
  const commissioning = db.prepare(COMMISSIONING_SQL);
  // A district's rollout is one document for thousands of lamps: parse each version once per reader.
  const docs = new Map<number, CalendarDocument>();
  const doc = (version: number): CalendarDocument => {
    let d = docs.get(version);
    if (!d) {
      const row = documentOf.get(version) as { document: string } | undefined;
      if (!row) throw new Error(`schedule_documents has no version ${version} (a rollout names it)`);
      d = calendarDocument.parse(JSON.parse(row.document));
      docs.set(version, d);
    }
    return d;
  };

  return {
    forLamps(deviceIds, fromMs, toMs) {
      const out = new Map<string, LampHistory>();
      const of = (id: string): LampHistory => {
        let h = out.get(id);
        if (!h) {
          h = { calendars: [], overrides: [], excused: [] };
          out.set(id, h);
        }
        return h;
      };
      for (const id of deviceIds) of(id);
      const ids = JSON.stringify(deviceIds);
      const fromIso = new Date(fromMs).toISOString();
      const toIso = new Date(toMs).toISOString();

      for (const r of calendars.all(ids, toIso) as CalendarRow[]) {
        const spans = of(r.device_id).calendars;
        const fromAt = ms(r.created_at);
        // Only the last calendar sent before the window matters; drop the one it follows.
        const last = spans.at(-1);
        if (last && last.fromMs <= fromMs && fromAt <= fromMs) spans.pop();
        spans.push({ fromMs: fromAt, version: r.version, doc: doc(r.version) });
      }
      for (const r of overrides.all(ids, toIso, fromIso) as OverrideDbRow[]) {
        of(r.device_id).overrides.push({
          id: r.id,
          createdMs: ms(r.created_at),
          startsMs: ms(r.starts_at),
          expiresMs: ms(r.expires_at),
          cancelledMs: r.cancelled_at === null ? null : ms(r.cancelled_at),
          levelPct: r.level_pct,
          rampMs: r.ramp_s * 1000,
        });
      }
      const since = new Date(fromMs - LONGEST_COMMAND_MS).toISOString();
      for (const r of commissioning.all(ids, toIso, since) as CommissioningRow[]) {
        const at = ms(r.issued_at);
        const until = at + r.duration_s * 1000;
        if (until <= fromMs) continue;
        const h = of(r.device_id);
        if (r.name === "identify") h.excused.push({ fromMs: at, toMs: until, why: "identify blink" });
        else
          h.overrides.push({
            id: `commissioning-${r.run_id}`,
            createdMs: at,
            startsMs: at,
            expiresMs: until,
            cancelledMs: null,
            levelPct: r.level_pct ?? 0,
            rampMs: 0,
          });
      }
      return out;
    },
  };
}
