// GET /v1/registry/changes?since=N: the registry's change feed. The broker and the ingest keep their in-memory
// registry caches fresh from it (services/registry/cache.ts) instead of querying per message.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RegistryStore } from "../../registry/store.ts";

const query = z.object({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export const registryRoutes: FastifyPluginAsync<{ registry: RegistryStore }> = async (app, opts) => {
  app
    .withTypeProvider<ZodTypeProvider>()
    .get("/v1/registry/changes", { schema: { querystring: query } }, async (req) =>
      opts.registry.changesSince(req.query.since, req.query.limit),
    );
};
