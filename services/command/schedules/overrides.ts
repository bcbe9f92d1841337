// Overrides (TALQ override: a level with a start, an expiry and a reason) and their cancels: validate the
// request, find the target's streetlights, store the override and its rollout in one transaction, and hand the
// rollout to the delivery engine. Expected failures come back as values with a reason code; the route turns them
// into 400 / 404 / 409.
import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "../../lib/log.ts";
import {
  createOverrideStore,
  type OverrideRow,
  type OverrideTargetType,
} from "../../registry/schedules/overrides.ts";
import type { RolloutStore } from "../../registry/schedules/rollouts.ts";
import { inTransaction } from "../../registry/sqlite.ts";
import type { Issue } from "../errors.ts";
import type { Clock } from "../liveness/clock.ts";
import type { DeliveryEngine } from "./delivery.ts";
import { cancelPayload, overridePayload } from "./payloads.ts";
import type { RolloutSummary } from "./types.ts";

/** The longest override (the contract's dim duration bound as well). */
export const MAX_OVERRIDE_MS = 7 * 86_400_000;

export type OverrideTarget =
  | { type: "devices"; ids: string[] }
  | { type: "group"; id: string }
  | { type: "district"; id: string };

export type OverrideRequest = {
  target: OverrideTarget;
  level_pct: number;
  ramp_s: number;
  starts_at?: string | undefined;
  expires_at?: string | undefined;
  duration_min?: number | undefined;
  reason: string;
};

export type OverrideStatus = "scheduled" | "active" | "expired" | "cancelled";

export type OverrideView = Omit<OverrideRow, "target_type" | "target_id"> & {
  target: OverrideTarget;
  status: OverrideStatus;
};

export type OverrideFailure =
  | { ok: false; reason: "validation_failed"; message: string; issues: Issue[] }
  | { ok: false; reason: "not_found"; message: string }
  | { ok: false; reason: "override_ended"; message: string };

export type OverrideOutcome = { ok: true; override: OverrideView; rollout: RolloutSummary } | OverrideFailure;

/** When an override runs, or which field is wrong (pure: `nowMs` given). */
export function overrideWindow(
  req: Pick<OverrideRequest, "starts_at" | "expires_at" | "duration_min">,
  nowMs: number,
): { ok: true; startsMs: number; expiresMs: number } | { ok: false; field: string; message: string } {
  if (req.expires_at !== undefined && req.duration_min !== undefined)
    return { ok: false, field: "duration_min", message: "give expires_at or duration_min, not both" };
  if (req.expires_at === undefined && req.duration_min === undefined)
    return { ok: false, field: "expires_at", message: "required (or duration_min): an override must end" };
  const startsMs = req.starts_at === undefined ? nowMs : Date.parse(req.starts_at);
  if (Number.isNaN(startsMs)) return { ok: false, field: "starts_at", message: "must be an ISO 8601 time" };
  const expiresMs =
    req.expires_at !== undefined
      ? Date.parse(req.expires_at)
      : startsMs + (req.duration_min as number) * 60_000;
  const field = req.expires_at !== undefined ? "expires_at" : "duration_min";
  if (Number.isNaN(expiresMs)) return { ok: false, field, message: "must be an ISO 8601 time" };
  if (expiresMs <= startsMs) return { ok: false, field, message: "must end after starts_at" };
  if (expiresMs <= nowMs) return { ok: false, field, message: "must end in the future" };
  if (expiresMs - startsMs > MAX_OVERRIDE_MS)
    return { ok: false, field, message: "an override lasts at most 7 days" };
  return { ok: true, startsMs, expiresMs };
}

export function statusOf(o: OverrideRow, nowMs: number): OverrideStatus {
  if (o.cancelled_at) return "cancelled";
  if (Date.parse(o.expires_at) <= nowMs) return "expired";
  return Date.parse(o.starts_at) > nowMs ? "scheduled" : "active";
}

export function overrideView(o: OverrideRow, nowMs: number): OverrideView {
  const { target_type, target_id, ...rest } = o;
  return { ...rest, target: targetOf(target_type, target_id), status: statusOf(o, nowMs) };
}

/** A stored target (overrides and rollouts: `devices` keeps its ids as a JSON array). */
export function targetOf(type: OverrideTargetType, id: string): OverrideTarget {
  return type === "devices" ? { type, ids: JSON.parse(id) as string[] } : { type, id };
}

const storedTarget = (t: OverrideTarget) =>
  t.type === "devices" ? { type: t.type, id: JSON.stringify(t.ids) } : { type: t.type, id: t.id };

export type OverrideServiceDeps = {
  db: DatabaseSync;
  rollouts: RolloutStore;
  engine: Pick<DeliveryEngine, "add">;
  clock: Clock;
  log: Logger;
};

export function createOverrideService(deps: OverrideServiceDeps) {
  const log = deps.log.child({ module: "schedule-overrides" });
  const store = createOverrideStore(deps.db);
  const { rollouts } = deps;

  function create(req: OverrideRequest, actor: string): OverrideOutcome {
    const nowMs = deps.clock.now();
    const when = overrideWindow(req, nowMs);
    if (!when.ok)
      return {
        ok: false,
        reason: "validation_failed",
        message: `${when.field} ${when.message}`,
        issues: [{ field: when.field, message: when.message }],
      };
    const lamps = store.lamps(req.target);
    if (!lamps.ok) {
      if (lamps.reason === "bad_devices")
        return {
          ok: false,
          reason: "validation_failed",
          message: `${lamps.issues.length} device(s) cannot take an override`,
          issues: lamps.issues.map((i) => ({ field: `target.ids.${i.index}`, ...i })),
        };
      if (lamps.reason === "unknown_group") return { ok: false, reason: "not_found", message: lamps.message };
      return {
        ok: false,
        reason: "validation_failed",
        message: lamps.message,
        issues: [{ field: "target.id", message: lamps.message }],
      };
    }
    if (lamps.deviceIds.length === 0)
      return {
        ok: false,
        reason: "validation_failed",
        message: "the target has no streetlights",
        issues: [{ field: "target", message: "names no live streetlight" }],
      };
    const now = new Date(nowMs).toISOString();
    const target = storedTarget(req.target);
    const row: OverrideRow = {
      id: randomUUID(),
      target_type: req.target.type,
      target_id: target.id,
      level_pct: req.level_pct,
      ramp_s: req.ramp_s,
      starts_at: new Date(when.startsMs).toISOString(),
      expires_at: new Date(when.expiresMs).toISOString(),
      reason: req.reason,
      created_at: now,
      created_by: actor,
      cancelled_at: null,
      cancelled_by: null,
    };
    const created = inTransaction(deps.db, () => {
      store.insert(row);
      return rollouts.create({
        kind: "override",
        version: null,
        overrideId: row.id,
        cause: "override",
        target,
        createdBy: actor,
        createdAt: now,
        deviceIds: lamps.deviceIds,
      });
    });
    deps.engine.add(overridePayload(created.id, row), lamps.deviceIds, created.superseded);
    log.info({ overrideId: row.id, actor, lamps: created.total, level: row.level_pct }, "override created");
    return {
      ok: true,
      override: overrideView(row, nowMs),
      rollout: summary(created.id, "override", row.id, created.total),
    };
  }

  function cancel(id: string, actor: string): OverrideOutcome {
    const nowMs = deps.clock.now();
    const now = new Date(nowMs).toISOString();
    const result = inTransaction(
      deps.db,
      ():
        | OverrideFailure
        | {
            ok: true;
            row: OverrideRow;
            id: number;
            lamps: string[];
            closed: { rollout_id: number; device_id: string }[];
          } => {
        const o = store.get(id);
        if (!o) return { ok: false, reason: "not_found", message: `override ${id} not found` };
        if (o.cancelled_at)
          return {
            ok: false,
            reason: "override_ended",
            message: `override ${id} was cancelled at ${o.cancelled_at}`,
          };
        if (Date.parse(o.expires_at) <= nowMs)
          return {
            ok: false,
            reason: "override_ended",
            message: `override ${id} expired at ${o.expires_at}`,
          };
        store.cancel(id, actor, now);
        const sent = rollouts.ofOverride(id).find((r) => r.kind === "override");
        const lamps = sent ? rollouts.holders(sent.id) : [];
        const created = rollouts.create({
          kind: "cancel_override",
          version: null,
          overrideId: id,
          cause: "cancel",
          target: { type: o.target_type, id: o.target_id },
          createdBy: actor,
          createdAt: now,
          deviceIds: lamps,
        });
        return {
          ok: true,
          row: { ...o, cancelled_at: now, cancelled_by: actor },
          id: created.id,
          lamps,
          closed: created.superseded,
        };
      },
    );
    if (!result.ok) return result;
    deps.engine.add(cancelPayload(result.id, result.row, now), result.lamps, result.closed);
    log.info({ overrideId: id, actor, lamps: result.lamps.length }, "override cancelled");
    return {
      ok: true,
      override: overrideView(result.row, nowMs),
      rollout: summary(result.id, "cancel_override", id, result.lamps.length),
    };
  }

  return { store, create, cancel };
}

export type OverrideService = ReturnType<typeof createOverrideService>;

function summary(
  id: number,
  kind: "override" | "cancel_override",
  overrideId: string,
  total: number,
): RolloutSummary {
  return { id, kind, version: null, calendar_id: null, override_id: overrideId, total };
}
