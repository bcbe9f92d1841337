// GET /v1/access/changes?since=N (access:feed): who may connect to the broker, as changes. For each principal
// whose access changed after `since`, its current state (registry/access.ts). The broker follows it to
// authenticate devices and services from memory, without a database query per connect.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { accessChangesResponse } from "../../contract/access.ts";
import { requirePermission } from "../auth/guard.ts";
import { errorResponses } from "../errors.ts";
import type { ApiContext } from "./context.ts";
import { feedQuery } from "./schemas.ts";

export function accessRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      "/v1/access/changes",
      {
        preValidation: requirePermission("access:feed"),
        schema: {
          tags: ["feeds"],
          summary: "The access feed",
          description:
            "Principals (devices, service accounts) whose access changed after `since`, each with its current " +
            "state: allowed, credential generation and hash. Page with `since` = `next` until `next` ≥ `latest`.",
          querystring: feedQuery,
          response: { 200: accessChangesResponse, ...errorResponses(400) },
        },
      },
      async (req) => ctx.registry.access.changesSince(req.query.since, req.query.limit),
    );
  };
}
