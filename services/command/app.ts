// buildApp(deps) assembles the command service's HTTP API; main.ts is the only file that listens.
// Thin controllers (schema, one call, reply) over the registry's stores (services/registry/). Order matters:
// the OpenAPI collector and the authentication come first, so that every route declared after them is
// documented, authenticated and rate limited.
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { Counter, type Registry as MetricsRegistry } from "prom-client";
import { z } from "zod";
import type { Logger } from "../lib/log.ts";
import type { Registry } from "../registry/registry.ts";
import { setupAuth } from "./auth/setup.ts";
import type { CommandConfig } from "./config.ts";
import { ApiError, type Issue } from "./errors.ts";
import { accessRoutes } from "./routes/access.ts";
import type { ApiContext, RegistryChange } from "./routes/context.ts";
import { deviceLifecycleRoutes } from "./routes/device-lifecycle.ts";
import { devicesRoutes } from "./routes/devices.ts";
import { setupDocs } from "./routes/docs.ts";
import { importRoutes } from "./routes/import.ts";
import { registryRoutes } from "./routes/registry.ts";
import { tokensRoutes } from "./routes/tokens.ts";

export type { RegistryChange };

export type AppDeps = {
  registry: Registry;
  config: Pick<CommandConfig, "rateLimit" | "mqtt">;
  log: Logger;
  metrics: MetricsRegistry;
  /** Called after a committed change, e.g. to announce it over MQTT or stop a commissioning run. */
  onRegistryChange?: (change: RegistryChange) => void;
  /** More route plugins (commissioning, the device page), registered after authentication is set up. */
  routes?: FastifyPluginAsync[];
};

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger, // Per-request lines are off: the feeds are polled every few seconds; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 8 * 1024 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const requests = new Counter({
    name: "command_http_requests_total",
    help: "HTTP requests answered, by method, route (template) and status",
    labelNames: ["method", "route", "status"],
    registers: [deps.metrics],
  });
  const authFailures = new Counter({
    name: "command_auth_failures_total",
    help: "API requests refused: 401 by reason (missing, malformed, unknown, revoked, expired) or 403 (forbidden)",
    labelNames: ["reason"],
    registers: [deps.metrics],
  });
  app.addHook("onResponse", async (req, reply) => {
    requests.inc({
      method: req.method,
      route: req.routeOptions.url ?? "(unmatched)",
      status: reply.statusCode,
    });
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      if (err.code === "unauthorized") authFailures.inc({ reason: req.authFailure ?? "missing" });
      if (err.code === "forbidden") authFailures.inc({ reason: "forbidden" });
      req.log.info(
        { code: err.code, method: req.method, url: req.url, who: req.principal?.name },
        err.message,
      );
      return reply
        .status(err.status)
        .headers(err.headers)
        .send({ error: err.code, message: err.message, issues: err.issues });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = validationIssues(err.validation, err.validationContext, req.body);
      const rows = new Set(issues.flatMap((i) => (i.index === undefined ? [] : [i.index]))).size;
      const message = rows > 0 ? `${rows} row(s) are invalid; nothing was written` : "the request is invalid";
      req.log.info({ code: "validation_failed", url: req.url, issues: issues.slice(0, 5) }, message);
      return reply.status(400).send({ error: "validation_failed", message, issues });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) {
      const code =
        status === 415 ? "unsupported_media_type" : status === 413 ? "payload_too_large" : "bad_request";
      return reply.status(status).send({ error: code, message: (err as Error).message, issues: [] });
    }
    req.log.error({ err }, "request failed");
    return reply.status(500).send({ error: "internal", message: "internal error", issues: [] });
  });

  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}`, issues: [] }),
  );

  setupDocs(app);
  setupAuth(app, { tokens: deps.registry.tokens, rateLimit: deps.config.rateLimit });

  const ctx: ApiContext = {
    registry: deps.registry,
    mqttUrl: deps.config.mqtt.publicUrl || deps.config.mqtt.url,
    changed: (change) => deps.onRegistryChange?.(change),
  };
  app.register(operationsRoutes(deps));
  for (const routes of [
    devicesRoutes,
    importRoutes,
    deviceLifecycleRoutes,
    tokensRoutes,
    registryRoutes,
    accessRoutes,
  ])
    app.register(routes(ctx));
  for (const routes of deps.routes ?? []) app.register(routes);
  return app;
}

function operationsRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const open = { tags: ["operations"], security: [] };
    r.get(
      "/health",
      {
        schema: {
          ...open,
          summary: "Liveness",
          response: { 200: z.object({ status: z.literal("ok"), devices: z.number().int() }) },
        },
      },
      async () => ({ status: "ok" as const, devices: deps.registry.devices.count() }),
    );
    r.get("/metrics", { schema: { ...open, summary: "Prometheus metrics" } }, async (_req, reply) => {
      reply.header("content-type", deps.metrics.contentType);
      return deps.metrics.metrics();
    });
  };
}

type ZodIssueLike = {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
};

/** Body lists whose items are rows of a bulk request (devices, ids): their issues carry `index` and `id`. */
const ROW_LISTS = new Set(["devices", "ids"]);

/**
 * fastify-type-provider-zod reports each zod issue as {instancePath: "/devices/3/lat", ...}. Body fields are named
 * by their path ("lat", "switch_points.1.offset_min"); a row of a bulk body list (`devices`, `ids`) gets its `index` and, if it has one, `id`;
 * query and path parameters are prefixed ("query.limit").
 */
export function validationIssues(
  validation: readonly ZodIssueLike[],
  context: string | undefined,
  body: unknown,
): Issue[] {
  const prefix =
    context === "querystring"
      ? "query."
      : context === "params"
        ? "params."
        : context === "headers"
          ? "headers."
          : "";
  return validation.flatMap((v) => {
    const path = v.instancePath.split("/").filter(Boolean);
    const message = v.message ?? "invalid";
    const named = (field: string) => ({ field: `${prefix}${field}` || "(body)", message });
    if (v.keyword === "unrecognized_keys" && Array.isArray(v.params.keys)) {
      const base = path.length > 0 ? `${path.join(".")}.` : "";
      return v.params.keys.map((k) => ({ ...named(`${base}${String(k)}`), message: "not allowed here" }));
    }
    const [list, row, ...rest] = path;
    if (
      context === "body" &&
      list !== undefined &&
      ROW_LISTS.has(list) &&
      row !== undefined &&
      /^\d+$/.test(row)
    ) {
      const item = (body as Record<string, unknown[]> | null)?.[list]?.[Number(row)];
      const id = typeof item === "string" ? item : (item as { id?: unknown } | null)?.id;
      return [
        { ...named(rest.join(".") || list), index: Number(row), ...(typeof id === "string" ? { id } : {}) },
      ];
    }
    return [named(path.join("."))];
  });
}
