// GET /v1/registry/changes?since=N (registry:feed): the registry's change feed. The broker and the ingest keep their
// in-memory registry caches fresh from it (services/registry/cache.ts) instead of querying per message.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { registryChangesResponse } from "../../contract/devices.ts";
import { requirePermission } from "../auth/guard.ts";
import { errorResponses } from "../errors.ts";
import type { ApiContext } from "./context.ts";
import { feedQuery } from "./schemas.ts";

export function registryRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      "/v1/registry/changes",
      {
        preValidation: requirePermission("registry:feed"),
        schema: {
          tags: ["feeds"],
          summary: "The registry change feed",
          description:
            "Devices changed after `since`, in order, each with its current record. A client is fresh when it has " +
            "applied up to `latest`.",
          querystring: feedQuery,
          response: { 200: registryChangesResponse, ...errorResponses(400) },
        },
      },
      async (req) => ctx.registry.devices.changesSince(req.query.since, req.query.limit),
    );
  };
}
