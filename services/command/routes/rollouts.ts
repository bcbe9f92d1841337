// Rollouts over HTTP: how far a calendar, override or cancel has got, lamp by lamp. Progress is counted from the
// deliveries as stored (the engine writes them every ~100 ms), so it moves while a push of thousands goes out.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DELIVERY_STATES, FACTORY_PROGRAM_ID, ROLLOUT_KINDS } from "../../contract/schedule.ts";
import type { OverrideTargetType } from "../../registry/schedules/overrides.ts";
import type { RolloutRow, RolloutStore } from "../../registry/schedules/rollouts.ts";
import { requirePermission } from "../auth/guard.ts";
import { errorResponses, notFound } from "../errors.ts";
import { targetOf } from "../schedules/overrides.ts";

/** Rejected lamps shown with a rollout's progress (the rest: GET …/deliveries?state=rejected). */
export const REJECTED_SAMPLE = 20;

const counts = z.object(
  Object.fromEntries(DELIVERY_STATES.map((s) => [s, z.number().int()])) as {
    [K in (typeof DELIVERY_STATES)[number]]: z.ZodNumber;
  },
);

export const rolloutTarget = z
  .union([
    z.object({ type: z.literal("devices"), ids: z.array(z.string()) }),
    z.object({ type: z.enum(["device", "group", "district"]), id: z.string() }),
  ])
  .nullable();

export const rolloutProgress = z
  .object({
    id: z.number().int(),
    kind: z.enum(ROLLOUT_KINDS),
    cause: z.string(),
    target: rolloutTarget,
    version: z.number().int().nullable(),
    calendar_id: z.string().nullable().meta({ description: "null: the factory default (or not a calendar)" }),
    override_id: z.string().nullable(),
    created_at: z.string(),
    created_by: z.string(),
    total: z.number().int(),
    counts,
    done: z.boolean().meta({ description: "No delivery is pending or delivered-without-ack any more." }),
    rejected_sample: z.array(
      z.object({ device_id: z.string(), reason: z.string().nullable(), detail: z.string().nullable() }),
    ),
  })
  .meta({ id: "RolloutProgress" });
export type RolloutProgress = z.infer<typeof rolloutProgress>;

const delivery = z
  .object({
    device_id: z.string(),
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
  .meta({ id: "Delivery" });

export function rolloutProgressOf(store: RolloutStore, r: RolloutRow): RolloutProgress {
  const c = store.counts(r.id);
  return {
    id: r.id,
    kind: r.kind,
    cause: r.cause,
    target:
      r.target_type && r.target_id !== null
        ? r.target_type === "device"
          ? { type: "device", id: r.target_id }
          : targetOf(r.target_type as OverrideTargetType, r.target_id)
        : null,
    version: r.version,
    calendar_id: r.calendar_id === FACTORY_PROGRAM_ID ? null : r.calendar_id,
    override_id: r.override_id,
    created_at: r.created_at,
    created_by: r.created_by,
    total: r.total,
    counts: c,
    done: c.pending + c.delivered === 0,
    rejected_sample: c.rejected > 0 ? store.rejectedSample(r.id, REJECTED_SAMPLE) : [],
  };
}

const tags = ["schedules"];
const idParams = z.object({ id: z.coerce.number().int().positive() });

export function rolloutsRoutes(opts: { rollouts: RolloutStore }): FastifyPluginAsync {
  const store = opts.rollouts;
  const read = requirePermission("schedules:read");
  const found = (id: number) => {
    const r = store.get(id);
    if (!r) throw notFound("rollout", String(id));
    return r;
  };
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      "/v1/rollouts",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "Rollouts, newest first, with their progress",
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(200).default(20),
            before: z.coerce
              .number()
              .int()
              .positive()
              .optional()
              .meta({ description: "The previous page's last id" }),
          }),
          response: { 200: z.object({ rollouts: z.array(rolloutProgress) }), ...errorResponses(400) },
        },
      },
      async (req) => ({
        rollouts: store.list(req.query.limit, req.query.before).map((row) => rolloutProgressOf(store, row)),
      }),
    );
    r.get(
      "/v1/rollouts/:id",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "A rollout's progress: counts by delivery state and a sample of rejections",
          params: idParams,
          response: { 200: rolloutProgress, ...errorResponses(400, 404) },
        },
      },
      async (req) => rolloutProgressOf(store, found(req.params.id)),
    );
    r.get(
      "/v1/rollouts/:id/deliveries",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "A rollout's deliveries lamp by lamp (by device id; page with `after`)",
          params: idParams,
          querystring: z.object({
            state: z.enum(DELIVERY_STATES).optional(),
            limit: z.coerce.number().int().min(1).max(5000).default(500),
            after: z.string().max(64).optional().meta({ description: "The previous page's last device id" }),
          }),
          response: {
            200: z.object({ deliveries: z.array(delivery), next: z.string().nullable() }),
            ...errorResponses(400, 404),
          },
        },
      },
      async (req) => {
        const { state, limit, after } = req.query;
        found(req.params.id);
        const rows = store.deliveries(req.params.id, { state, limit, after });
        const next = rows.length === limit ? (rows[rows.length - 1]?.device_id ?? null) : null;
        return { deliveries: rows, next };
      },
    );
  };
}
