// Overrides over HTTP (TALQ override: a level for devices, a group or a district, with a start, an expiry and a
// reason). Creating or cancelling answers 202 at once with the rollout that carries it; its progress is
// GET /v1/rollouts/{id} (or the override's own page). `overrides:write` to write, `schedules:read` to read.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import type { RolloutStore } from "../../registry/schedules/rollouts.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { ApiError, conflict, errorResponses, notFound, validationFailed } from "../errors.ts";
import { type OverrideOutcome, type OverrideService, overrideView } from "../schedules/overrides.ts";
import { rolloutProgress, rolloutProgressOf } from "./rollouts.ts";

/** Most lamps one `devices` target may name (a district or a group for more). */
export const MAX_OVERRIDE_DEVICES = 10_000;

const tags = ["schedules"];
const iso = z.iso.datetime({ offset: true, error: "must be an ISO 8601 time with a zone (Z or ±hh:mm)" });

const target = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("devices"),
    ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_OVERRIDE_DEVICES),
  }),
  z.object({ type: z.literal("group"), id: z.string().min(1).max(64) }),
  z.object({
    type: z.literal("district"),
    id: z
      .string()
      .min(1)
      .max(64)
      .meta({ description: `One of ${DISTRICT_NAMES.join(", ")}` }),
  }),
]);

const overrideBody = z
  .object({
    target,
    level_pct: z.number().min(0).max(100),
    ramp_s: z.number().int().min(0).max(3600).default(0),
    starts_at: iso.optional().meta({ description: "Default: now" }),
    expires_at: iso.optional(),
    duration_min: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional()
      .meta({ description: "Instead of expires_at: minutes after starts_at" }),
    reason: z.string().trim().min(1).max(200),
  })
  .strict();

export const overrideSchema = z
  .object({
    id: z.string(),
    target,
    level_pct: z.number(),
    ramp_s: z.number().int(),
    starts_at: z.string(),
    expires_at: z.string(),
    reason: z.string(),
    created_at: z.string(),
    created_by: z.string(),
    cancelled_at: z.string().nullable(),
    cancelled_by: z.string().nullable(),
    status: z.enum(["scheduled", "active", "expired", "cancelled"]),
  })
  .meta({ id: "Override" });

const summary = z.object({
  id: z.number().int(),
  kind: z.string(),
  version: z.number().int().nullable(),
  calendar_id: z.string().nullable(),
  override_id: z.string().nullable(),
  total: z.number().int(),
});

export type OverridesRoutesOptions = {
  overrides: OverrideService;
  rollouts: RolloutStore;
  now: () => number;
};

function failure(r: Exclude<OverrideOutcome, { ok: true }>): ApiError {
  if (r.reason === "not_found") return new ApiError("not_found", 404, r.message);
  if (r.reason === "override_ended") return conflict("override_ended", r.message);
  return validationFailed(r.message, r.issues);
}

export function overridesRoutes(opts: OverridesRoutesOptions): FastifyPluginAsync {
  const { overrides, rollouts } = opts;
  const write = requirePermission("overrides:write");
  const read = requirePermission("schedules:read");
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.post(
      "/v1/overrides",
      {
        preValidation: write,
        schema: {
          tags,
          summary: "Override the schedule of devices, a group or a district",
          description:
            "Sends the level to the target's streetlights now (connected ones at once, others when they connect) and " +
            "answers 202 with the rollout. A lamp holds one override: this one replaces an older one. Give expires_at " +
            "or duration_min (at most 7 days); the lamp returns to its program after it, and never applies it late.",
          body: overrideBody,
          response: {
            202: z.object({ override: overrideSchema, rollout: summary }),
            ...errorResponses(400, 404),
          },
        },
      },
      async (req, reply) => {
        const done = overrides.create(req.body, principalOf(req).name);
        if (!done.ok) throw failure(done);
        return reply.status(202).send({ override: done.override, rollout: done.rollout });
      },
    );
    r.get(
      "/v1/overrides",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "Overrides, newest first",
          querystring: z.object({
            active: z
              .enum(["true", "false"])
              .optional()
              .transform((v) => v === "true")
              .meta({ description: "Only those neither cancelled nor expired" }),
            device: z.string().max(64).optional().meta({ description: "Only those sent to this lamp" }),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: { 200: z.object({ overrides: z.array(overrideSchema) }), ...errorResponses(400) },
        },
      },
      async (req) => {
        const nowMs = opts.now();
        const rows = overrides.store.list({
          activeAt: req.query.active ? new Date(nowMs).toISOString() : undefined,
          deviceId: req.query.device,
          limit: req.query.limit,
        });
        return { overrides: rows.map((o) => overrideView(o, nowMs)) };
      },
    );
    r.get(
      "/v1/overrides/:id",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "An override with the progress of its rollout (and of its cancel, if any)",
          params: z.object({ id: z.string().min(1).max(64) }),
          response: {
            200: overrideSchema.extend({
              progress: rolloutProgress.nullable(),
              cancel_progress: rolloutProgress.nullable(),
            }),
            ...errorResponses(404),
          },
        },
      },
      async (req) => {
        const o = overrides.store.get(req.params.id);
        if (!o) throw notFound("override", req.params.id);
        const of = rollouts.ofOverride(o.id);
        const progress = (kind: string) => {
          const row = of.find((x) => x.kind === kind);
          return row ? rolloutProgressOf(rollouts, row) : null;
        };
        return {
          ...overrideView(o, opts.now()),
          progress: progress("override"),
          cancel_progress: progress("cancel_override"),
        };
      },
    );
    r.delete(
      "/v1/overrides/:id",
      {
        preValidation: write,
        schema: {
          tags,
          summary: "Cancel an override: its lamps return to their program",
          description:
            "Answers 202 with the cancel's rollout (to the lamps that may hold it); 409 override_ended when it was " +
            "already cancelled or has expired.",
          params: z.object({ id: z.string().min(1).max(64) }),
          response: {
            202: z.object({ override: overrideSchema, rollout: summary }),
            ...errorResponses(404, 409),
          },
        },
      },
      async (req, reply) => {
        const done = overrides.cancel(req.params.id, principalOf(req).name);
        if (!done.ok) throw failure(done);
        return reply.status(202).send({ override: done.override, rollout: done.rollout });
      },
    );
  };
}
