// The planner: after a change that may move lamps to another calendar (an assignment, an edit, group members, a
// device registered or moved), resolve each candidate lamp's calendar now, and for the lamps whose resolved
// document differs from the last one they were sent, store a new document version and a rollout (one per
// calendar), all in one transaction; the delivery engine sends them after the caller has answered.
//
// A lamp never sent a calendar holds its FACTORY_CALENDAR: it is compared with that, so a lamp with no assignment
// is not sent the factory default it already has, and one whose assignment is removed gets it back.
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "../../lib/log.ts";
import {
  buildDocumentBody,
  contentHash,
  type DocumentBody,
  storeDocument,
} from "../../registry/schedules/documents.ts";
import { resolveCalendars } from "../../registry/schedules/resolve.ts";
import type { RolloutStore } from "../../registry/schedules/rollouts.ts";
import { inTransaction } from "../../registry/sqlite.ts";
import type { Clock } from "../liveness/clock.ts";
import type { ClosedRow, DeliveryEngine } from "./delivery.ts";
import { calendarPayload, type RolloutPayload } from "./payloads.ts";
import type { Replan, ReplanInput, RolloutSummary } from "./types.ts";

export type PlannerDeps = {
  db: DatabaseSync;
  rollouts: RolloutStore;
  engine: Pick<DeliveryEngine, "add">;
  clock: Clock;
  log: Logger;
};

export type ReplanOptions = {
  /** Send even to lamps whose last calendar has the same content (a replaced controller lost what it held). */
  force?: boolean;
};

export type Planner = {
  replan: Replan;
  replanWith(input: ReplanInput, opts: ReplanOptions): RolloutSummary[];
};

type Planned = { payload: RolloutPayload; deviceIds: string[]; closed: ClosedRow[] };

export function createPlanner(deps: PlannerDeps): Planner {
  const log = deps.log.child({ module: "schedule-planner" });
  const { db, rollouts } = deps;

  function replanWith(input: ReplanInput, opts: ReplanOptions): RolloutSummary[] {
    if (input.deviceIds.length === 0) return [];
    const started = performance.now();
    const now = new Date(deps.clock.now());
    const planned: Planned[] = [];
    const summaries = inTransaction(db, () => {
      // Only live streetlights come back; others named are left out (ReplanInput's contract).
      const resolved = resolveCalendars(db, input.deviceIds);
      const byCalendar = new Map<string | null, string[]>();
      for (const [id, r] of resolved) {
        const list = byCalendar.get(r.calendar_id);
        if (list) list.push(id);
        else byCalendar.set(r.calendar_id, [id]);
      }
      const held = rollouts.latestCalendarHashes([...resolved.keys()]);
      const factoryHash = contentHash(buildDocumentBody(db, null));
      const out: RolloutSummary[] = [];
      for (const [calendarId, lamps] of byCalendar) {
        const body: DocumentBody = buildDocumentBody(db, calendarId);
        const hash = contentHash(body);
        const due = opts.force ? lamps : lamps.filter((id) => (held.get(id) ?? factoryHash) !== hash);
        if (due.length === 0) continue;
        const doc = storeDocument(db, body, now);
        const created = rollouts.create({
          kind: "calendar",
          version: doc.version,
          overrideId: null,
          cause: input.cause,
          target: input.target ?? null,
          createdBy: input.actor,
          createdAt: now.toISOString(),
          deviceIds: due,
        });
        planned.push({
          payload: calendarPayload(created.id, doc),
          deviceIds: due,
          closed: created.superseded,
        });
        out.push({
          id: created.id,
          kind: "calendar",
          version: doc.version,
          calendar_id: calendarId,
          override_id: null,
          total: created.total,
        });
      }
      return out;
    });
    // After the commit (or, inside a caller's transaction, before its commit but sent only from the next turn
    // of the event loop, after the caller's synchronous commit).
    for (const p of planned) deps.engine.add(p.payload, p.deviceIds, p.closed);
    if (summaries.length > 0)
      log.info(
        {
          cause: input.cause,
          actor: input.actor,
          candidates: input.deviceIds.length,
          rollouts: summaries.map((s) => ({
            id: s.id,
            version: s.version,
            calendar: s.calendar_id,
            lamps: s.total,
          })),
          ms: Math.round(performance.now() - started),
        },
        "calendar rollouts planned",
      );
    return summaries;
  }

  return { replan: (input) => replanWith(input, {}), replanWith };
}
