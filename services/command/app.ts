// buildApp(deps) assembles the command service's HTTP API; main.ts is the only file that listens.
// Thin controllers (schema, one call, reply) over the registry store.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import type { Logger } from "../lib/log.ts";
import type { RegistryStore } from "../registry/store.ts";
import { ApiError } from "./errors.ts";
import { devicesRoutes } from "./routes/devices.ts";
import { registryRoutes } from "./routes/registry.ts";

/** Who is calling. Issue 3 replaces `anonymousAuth` with API tokens and roles; every change already records an actor. */
export type Authenticate = (headers: Record<string, string | string[] | undefined>) => { actor: string };
export const anonymousAuth: Authenticate = () => ({ actor: "anonymous" });

export type AppDeps = {
  registry: RegistryStore;
  log: Logger;
  metrics: Registry;
  /** Called after the registry changed, e.g. to announce it over MQTT. */
  onRegistryChange?: () => void;
  authenticate?: Authenticate;
};

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger, // Per-request lines are off: the feed is polled every few seconds; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 8 * 1024 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      req.log.info({ code: err.code, url: req.url }, err.message);
      return reply.status(err.status).send({ error: err.code, message: err.message, issues: err.issues });
    }
    const e = err as {
      validation?: { instancePath?: string; message?: string }[];
      validationContext?: string;
      statusCode?: number;
      message: string;
    };
    if (e.validation) {
      // fastify-type-provider-zod maps each zod issue to {instancePath: "/a/0/b", message}.
      const issues = e.validation.map((v) => ({
        field: [e.validationContext, ...(v.instancePath ?? "").split("/").filter(Boolean)]
          .filter(Boolean)
          .join("."),
        message: v.message ?? "invalid",
      }));
      return reply.status(400).send({ error: "validation_failed", message: "request is invalid", issues });
    }
    if (e.statusCode && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: "bad_request", message: e.message, issues: [] });
    }
    req.log.error({ err }, "request failed");
    return reply.status(500).send({ error: "internal", message: "internal error", issues: [] });
  });

  app.get("/health", async () => ({ status: "ok", devices: deps.registry.count() }));
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", deps.metrics.contentType);
    return deps.metrics.metrics();
  });
  const authenticate = deps.authenticate ?? anonymousAuth;
  app.register(devicesRoutes, { registry: deps.registry, authenticate, onChange: deps.onRegistryChange });
  app.register(registryRoutes, { registry: deps.registry });
  return app;
}
