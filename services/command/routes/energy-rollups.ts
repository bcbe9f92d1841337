// GET /v1/energy/rollups (how far the daily energy rollups are computed) and POST /v1/energy/rollups/rebuild
// (recompute lamps from InfluxDB from a date on, in the background): thin controllers over the energy service
// (services/command/energy/service.ts). The report itself is GET /v1/energy/report (routes/energy.ts).
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  type RollupRebuildBody,
  rollupRebuildAnswer,
  rollupRebuildBody,
  rollupStatus,
} from "../../contract/energy.ts";
import { requirePermission } from "../auth/guard.ts";
import type { RebuildCheck } from "../energy/rebuild.ts";
import type { EnergyStatus } from "../energy/service.ts";
import { errorResponses, notFound, validationFailed } from "../errors.ts";

export type EnergyRollupRoutesDeps = {
  status(): EnergyStatus;
  rebuild(body: RollupRebuildBody): RebuildCheck;
};

const tags = ["energy"];

const statusSchema = rollupStatus.meta({ id: "EnergyRollupStatus" });
const rebuildAnswer = rollupRebuildAnswer.meta({ id: "EnergyRollupRebuild" });

export function energyRollupRoutes(deps: EnergyRollupRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      "/v1/energy/rollups",
      {
        preValidation: requirePermission("reports:read"),
        schema: {
          tags,
          summary: "State of the daily energy rollups",
          description:
            "The energy reports read daily rollups of each lamp's readings, kept up to date as readings arrive " +
            "(late ones included) and checked against InfluxDB by a periodic reconcile sweep. computed_through: " +
            "every reading the ingest announced before this instant is in the rollups; pending_lamps: lamps whose " +
            "newer readings are still waiting (a few seconds in normal operation).",
          response: { 200: statusSchema, ...errorResponses() },
        },
      },
      async () => deps.status(),
    );

    r.post(
      "/v1/energy/rollups/rebuild",
      {
        preValidation: requirePermission("reports:rebuild"),
        schema: {
          tags,
          summary: "Recompute the energy rollups from InfluxDB from a date on",
          description:
            "For lamps given by id, a district's or every streetlight: their daily rollups from `from` on are " +
            "deleted and computed again from the readings in InfluxDB (after an outage or a restore, or when " +
            "wattages were corrected). Answers 202 at once; GET /v1/energy/rollups shows the lamps pending.",
          body: rollupRebuildBody,
          response: { 202: rebuildAnswer, ...errorResponses(400, 404) },
        },
      },
      async (req, reply) => {
        // The service logs the queued rebuild.
        const plan = deps.rebuild(req.body);
        if (!plan.ok) {
          if (plan.reason === "not_found") throw notFound("device", plan.id);
          throw validationFailed("the rebuild request is invalid", plan.issues);
        }
        return reply.status(202).send({
          from: plan.from,
          lamps: plan.lamps.length,
          lamps_without_wattages: plan.withoutWattages.length,
        });
      },
    );
  };
}
