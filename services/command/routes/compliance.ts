// GET /v1/compliance: do the lamps of a device, group or district obey their schedule over a window? A thin
// controller over services/command/schedules/compliance.ts (history from the registry, samples from InfluxDB).
import type { DatabaseSync } from "node:sqlite";
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import { DEVIATION_KINDS, type DeviationKind } from "../../contract/schedule.ts";
import type { InfluxClient } from "../../lib/influx/index.ts";
import { requirePermission } from "../auth/guard.ts";
import { errorResponses, type Issue, notFound, validationFailed } from "../errors.ts";
import type { Clock } from "../liveness/clock.ts";
import { type ComplianceConfig, createComplianceCheck } from "../schedules/compliance.ts";
import { MAX_LISTED_DEVIATIONS } from "../schedules/compliance-report.ts";
import type { SampleReader } from "../schedules/compliance-samples.ts";
import { type ComplianceScope, SCOPE_TYPES, type ScopeRefusal } from "../schedules/compliance-scope.ts";
import { MAX_WINDOW_DAYS, resolveWindow } from "../schedules/compliance-window.ts";

export type ComplianceRoutesDeps = {
  db: DatabaseSync;
  influx: InfluxClient;
  options: Readonly<ComplianceConfig>;
  clock: Pick<Clock, "now">;
  /** Where samples come from (default: InfluxDB through `influx`). */
  samples?: SampleReader;
};

const tags = ["schedules"];
const id = z.string().min(1).max(64);

const complianceQuery = z.object({
  device: id.optional().meta({ description: "One streetlight." }),
  group: id.optional().meta({ description: "The streetlights of a device group." }),
  district: id.optional().meta({ description: "The streetlights of a district (not decommissioned)." }),
  night: z
    .string()
    .optional()
    .meta({ description: "One night YYYY-MM-DD: local noon of that date to local noon the next day." }),
  from: z.string().max(40).optional().meta({
    description: "Window start: ISO 8601 time with a zone, or a date (its local noon). With `to`.",
  }),
  to: z.string().max(40).optional().meta({ description: "Window end (exclusive), like `from`." }),
  tolerance_pct: z.coerce
    .number()
    .min(0)
    .max(100)
    .optional()
    .meta({ description: "Percentage points a reported level may differ (default: the service's setting)." }),
});

const deviationKind = z.enum(Object.keys(DEVIATION_KINDS) as [DeviationKind, ...DeviationKind[]]);
const deviation = z.object({
  device_id: z.string(),
  kind: deviationKind,
  from: z.string(),
  to: z.string(),
  expected_pct: z.number(),
  reported_min: z.number(),
  reported_max: z.number(),
  samples: z.number().int(),
});

const complianceReport = z
  .object({
    scope: z.object({ type: z.enum(SCOPE_TYPES), id: z.string() }),
    window: z.object({
      from: z.string(),
      to: z.string(),
      basis: z.enum(["last_night", "night", "range"]),
      night: z.string().nullable(),
    }),
    tolerance_pct: z.number(),
    grace_s: z.number(),
    standby_w: z.number(),
    lamps: z.number().int().meta({ description: "Lamps in the scope, with or without data." }),
    samples: z.number().int(),
    compliant: z.number().int(),
    compliance_pct: z.number().nullable().meta({ description: "null when no lamp reported in the window." }),
    deviations_by_kind: z.record(deviationKind, z.number().int()),
    deviations_total: z.number().int(),
    per_lamp: z
      .array(
        z.object({
          device_id: z.string(),
          samples: z.number().int(),
          compliant: z.number().int(),
          compliance_pct: z.number(),
          deviations: z.number().int(),
        }),
      )
      .meta({ description: "Lamps with samples, least compliant first." }),
    deviations: z
      .array(deviation)
      .meta({ description: `The ${MAX_LISTED_DEVIATIONS} worst deviations: longest first.` }),
    no_data: z.array(z.string()).meta({ description: "Lamps without a sample in the window (not counted)." }),
  })
  .meta({ id: "ComplianceReport" });

/** Exactly one of device, group, district: the scope, or the issues naming what is wrong. */
function scopeOf(q: z.infer<typeof complianceQuery>): ComplianceScope | Issue[] {
  const given = SCOPE_TYPES.flatMap((type) => {
    const value = q[type];
    return value === undefined ? [] : [{ type, id: value }];
  });
  if (given.length === 1) return given[0] as ComplianceScope;
  if (given.length === 0)
    return [{ field: "query", message: "one of device, group or district is required" }];
  return given.map((g) => ({
    field: `query.${g.type}`,
    message: "only one of device, group or district may be given",
  }));
}

function refusal(r: ScopeRefusal): Error {
  switch (r.reason) {
    case "not_found":
      return notFound(r.what, r.id);
    case "not_streetlight":
      return validationFailed("the device is not a streetlight", [
        {
          field: "query.device",
          id: r.id,
          message: `is a ${r.kind} device; only streetlights have schedules`,
        },
      ]);
    case "unknown_district":
      return validationFailed("no such district", [
        { field: "query.district", message: `must be one of ${DISTRICT_NAMES.join(", ")}` },
      ]);
  }
}

export function complianceRoutes(deps: ComplianceRoutesDeps): FastifyPluginAsync {
  const check = createComplianceCheck({
    db: deps.db,
    influx: deps.influx,
    config: deps.options,
    ...(deps.samples ? { samples: deps.samples } : {}),
  });
  const read = requirePermission("schedules:read");

  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      "/v1/compliance",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "Schedule compliance of a device, group or district",
          description:
            "For each streetlight, the level its schedule (the calendars and overrides the platform sent it) " +
            "asked for at each reported sample, against the dim_pct and power_w it reported. A sample complies " +
            `when it is within the tolerance of the expected level at some instant of the grace before it. ` +
            `Default window: the last complete night (local noon to noon, Africa/Casablanca); at most ` +
            `${MAX_WINDOW_DAYS} days.`,
          querystring: complianceQuery,
          response: { 200: complianceReport, ...errorResponses(400, 404) },
        },
      },
      async (req) => {
        const q = req.query;
        const scope = scopeOf(q);
        const window = resolveWindow({ from: q.from, to: q.to, night: q.night }, deps.clock.now());
        const issues = [...(Array.isArray(scope) ? scope : []), ...(window.ok ? [] : window.issues)];
        if (Array.isArray(scope) || !window.ok) throw validationFailed("the request is invalid", issues);
        const started = performance.now();
        const result = await check.run({ scope, window: window.window, tolerancePct: q.tolerance_pct });
        if (!result.ok) throw refusal(result);
        req.log.info(
          {
            scope,
            from: result.report.window.from,
            to: result.report.window.to,
            lamps: result.report.lamps,
            samples: result.report.samples,
            ms: Math.round(performance.now() - started),
          },
          "compliance checked",
        );
        return result.report;
      },
    );
  };
}
