// GET /v1/devices/{id}/schedule: for one lamp, which calendar applies and why (the assignment that wins and
// those it shadows), how far its latest calendar delivery got, the override in effect, the level the platform
// expects now, and tonight's switch instants in local time — the operator's "why is this lamp at 50 %?".
import type { DatabaseSync } from "node:sqlite";
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type CalendarDocument, DELIVERY_STATES, FACTORY_CALENDAR } from "../../contract/schedule.ts";
import { getDocument } from "../../registry/schedules/documents.ts";
import type { OverrideStore } from "../../registry/schedules/overrides.ts";
import { resolveCalendars } from "../../registry/schedules/resolve.ts";
import type { RolloutStore } from "../../registry/schedules/rollouts.ts";
import { clipOverrides } from "../../schedule/overrides.ts";
import { createLampSchedule, expectedTimeline } from "../../schedule/timeline.ts";
import { localIso, nightBounds } from "../../schedule/zone.ts";
import { requirePermission } from "../auth/guard.ts";
import { conflict, errorResponses, notFound } from "../errors.ts";
import type { DeliveryEngine } from "../schedules/delivery.ts";
import { overrideView } from "../schedules/overrides.ts";
import { overrideSchema } from "./overrides.ts";

export type DeviceScheduleOptions = {
  db: DatabaseSync;
  rollouts: RolloutStore;
  overrides: OverrideStore;
  engine: Pick<DeliveryEngine, "isOnline">;
  now: () => number;
};

const switchInstant = z.object({
  at: z.string().meta({ description: "UTC, ISO 8601" }),
  local: z.string().meta({ description: "Africa/Casablanca local time with its offset" }),
  level_pct: z.number(),
  ramp_s: z.number(),
  label: z.string().meta({ description: 'As the program states it: "sunset+10", "00:00"' }),
});

const deviceSchedule = z
  .object({
    device_id: z.string(),
    online: z.boolean(),
    resolution: z.object({
      calendar_id: z.string().nullable(),
      level: z.enum(["device", "group", "district", "factory"]),
      target_id: z.string().nullable(),
      assigned_at: z.string().nullable(),
      assigned_by: z.string().nullable(),
      shadowed: z.array(z.object({ level: z.string(), target_id: z.string(), calendar_id: z.string() })),
    }),
    delivery: z
      .object({
        rollout_id: z.number().int(),
        version: z.number().int(),
        state: z.enum(DELIVERY_STATES),
        attempts: z.number().int(),
        created_at: z.string(),
        sent_at: z.string().nullable(),
        delivered_at: z.string().nullable(),
        acked_at: z.string().nullable(),
        state_at: z.string(),
        reason: z.string().nullable(),
        detail: z.string().nullable(),
      })
      .nullable()
      .meta({ description: "The lamp's latest calendar delivery; null: never sent one (factory default)" }),
    override: overrideSchema.nullable().meta({ description: "The override in effect now, if any" }),
    level_now: z.number().meta({ description: "The level the platform expects now, %" }),
    expected_from: z.union([
      z.object({ kind: z.literal("calendar"), version: z.number().int(), program: z.string() }),
      z.object({ kind: z.literal("override"), id: z.string() }),
    ]),
    tonight: z.object({
      night: z.string(),
      program: z.string(),
      rule_index: z.number().int().nullable(),
      rule_name: z.string().nullable(),
      switches: z.array(switchInstant),
    }),
  })
  .meta({ id: "DeviceSchedule" });

export function deviceScheduleRoutes(opts: DeviceScheduleOptions): FastifyPluginAsync {
  const { db, rollouts } = opts;
  const read = requirePermission("schedules:read");
  const deviceOf = db.prepare("SELECT id, kind, status, lat, lon FROM devices WHERE id = ?");
  return async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      "/v1/devices/:id/schedule",
      {
        preValidation: read,
        schema: {
          tags: ["schedules"],
          summary: "A lamp's schedule: which calendar and why, its delivery, the override in effect, tonight",
          params: z.object({ id: z.string().min(1).max(64) }),
          response: { 200: deviceSchedule, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const id = req.params.id;
        const d = deviceOf.get(id) as
          | { id: string; kind: string; status: string; lat: number; lon: number }
          | undefined;
        if (d?.kind !== "streetlight") throw notFound("streetlight", id);
        if (d.status === "decommissioned") throw conflict("decommissioned", `device ${id} is decommissioned`);
        const nowMs = opts.now();
        const site = { lat: d.lat, lon: d.lon };
        const resolution = resolveCalendars(db, [id]).get(id);
        if (!resolution) throw notFound("streetlight", id);
        const latest = rollouts.latestCalendarDelivery(id);
        const held = rollouts.expectedVersion(id);
        const doc: CalendarDocument = (held && getDocument(db, held.version)) || FACTORY_CALENDAR;
        // The lamp's overrides it did not refuse, clipped by the one-slot rule (newer replaces older, cancel, expiry).
        const sent = opts.overrides
          .list({ deviceId: id, limit: 50 })
          .filter((o) => o.delivery_state !== "rejected" && o.delivery_state !== "expired");
        const spans = clipOverrides(
          sent.map((o) => ({
            id: o.id,
            createdMs: Date.parse(o.created_at),
            startsMs: Date.parse(o.starts_at),
            expiresMs: Date.parse(o.expires_at),
            cancelledMs: o.cancelled_at ? Date.parse(o.cancelled_at) : null,
            levelPct: o.level_pct,
            rampMs: o.ramp_s * 1000,
          })),
        );
        const timeline = expectedTimeline({ calendars: [{ fromMs: 0, doc }], overrides: spans, site });
        const source = timeline.sourceAt(nowMs);
        const inEffect = spans.find((s) => s.fromMs <= nowMs && nowMs < s.untilMs);
        const override = inEffect ? sent.find((o) => o.id === inEffect.id) : undefined;
        const schedule = createLampSchedule(doc, site);
        const explained = schedule.explain(nowMs);
        const { startMs, endMs } = nightBounds(explained.night);
        return {
          device_id: id,
          online: opts.engine.isOnline(id),
          resolution,
          delivery: latest
            ? {
                rollout_id: latest.rollout_id,
                version: latest.version,
                state: latest.state,
                attempts: latest.attempts,
                created_at: latest.created_at,
                sent_at: latest.sent_at,
                delivered_at: latest.delivered_at,
                acked_at: latest.acked_at,
                state_at: latest.state_at,
                reason: latest.reason,
                detail: latest.detail,
              }
            : null,
          override: override ? overrideView(override, nowMs) : null,
          level_now: Math.round(timeline.levelAt(nowMs) * 10) / 10,
          expected_from:
            source.kind === "calendar"
              ? { kind: "calendar" as const, version: source.version, program: source.programId }
              : { kind: "override" as const, id: source.id },
          tonight: {
            night: explained.night,
            program: explained.programId,
            rule_index: explained.ruleIndex,
            rule_name: explained.ruleName,
            switches: schedule.switchesBetween(startMs, endMs).map((s) => ({
              at: new Date(s.at).toISOString(),
              local: localIso(s.at),
              level_pct: s.levelPct,
              ramp_s: s.rampMs / 1000,
              label: s.label,
            })),
          },
        };
      },
    );
  };
}
