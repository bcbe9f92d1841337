// GET /v1/energy/report: the energy and savings report an energy manager signs (issue 5), as JSON or as one of its
// CSV tables. A thin controller over services/command/energy/report.ts; the query, the JSON and the CSV columns
// are the contract's (contract/energy.ts), so the OpenAPI document shows them as they are.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import {
  CSV_TABLES,
  ENERGY_CSV_COLUMNS,
  energyReport,
  energyReportQuery,
  MAX_REPORT_DAYS,
} from "../../contract/energy.ts";
import { energyCsv, energyFileName } from "../../energy/csv.ts";
import { requirePermission } from "../auth/guard.ts";
import { createEnergyReports, type EnergyReportDeps, type ReportRefusal } from "../energy/report.ts";
import { ApiError, errorResponses, notFound, validationFailed } from "../errors.ts";

export type EnergyReportRoutesDeps = EnergyReportDeps;

const tags = ["energy"];
const reportSchema = energyReport.meta({ id: "EnergyReport" });

function refusal(r: ReportRefusal): ApiError {
  switch (r.reason) {
    case "not_found":
      if (r.what === "district")
        return new ApiError("not_found", 404, `district ${r.id} not found`, [
          { field: "query.district", message: `must be one of ${DISTRICT_NAMES.join(", ")}` },
        ]);
      return notFound(r.what, r.id);
    case "not_streetlight":
      return validationFailed("the device is not a streetlight", [
        {
          field: "query.lamp",
          id: r.id,
          message: `is a ${r.kind} device; only streetlights have energy reports`,
        },
      ]);
    case "invalid_period":
      return validationFailed("the period is invalid", [{ field: `query.${r.field}`, message: r.message }]);
  }
}

/** `attachment; filename="…"` with an ASCII name and its UTF-8 form (RFC 6266). */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const csvDescription = Object.entries(ENERGY_CSV_COLUMNS)
  .map(([table, cols]) => `${table}: ${cols.map((c) => c.name).join(", ")}`)
  .join("\n");

export function energyReportRoutes(deps: EnergyReportRoutesDeps): FastifyPluginAsync {
  const reports = createEnergyReports(deps);
  const read = requirePermission("reports:read");
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.get(
      "/v1/energy/report",
      {
        // 403 before any 400: a caller without the permission learns nothing about the query.
        preValidation: read,
        schema: {
          tags,
          summary: "Energy and savings report (IPMVP) of a lamp, group, district or the city",
          description:
            "Baseline (legacy watts × astronomical burning hours at each lamp) against the reporting-period " +
            "energy (metered from each lamp's cumulative meter, IPMVP Option B, estimated where the meter has no " +
            "usable data, Option A), per local day (Africa/Casablanca) and per lamp, with cost, CO2, the " +
            "completeness of the data and the method in words. Give one of lamp, group, district (none: the " +
            `whole city) and a period or from/to (at most ${MAX_REPORT_DAYS} days). format=csv answers one ` +
            `table (table=${CSV_TABLES.join("|")}) as text/csv, UTF-8 with a BOM, CRLF, columns:\n${csvDescription}`,
          querystring: energyReportQuery,
          response: {
            200: {
              description: "The report (JSON), or one of its tables (format=csv).",
              content: {
                "application/json": { schema: reportSchema },
                "text/csv": { schema: z.string() },
              },
            },
            ...errorResponses(400, 404),
          },
        },
      },
      async (req, reply) => {
        const q = req.query;
        const started = performance.now();
        const result = reports.report(q);
        if (!result.ok) throw refusal(result);
        const { report } = result;
        req.log.info(
          {
            scope: report.scope.kind,
            id: report.scope.id,
            from: report.period.from,
            to: report.period.to,
            lamps: report.scope.lamps,
            format: q.format,
            ms: Math.round(performance.now() - started),
          },
          "energy report",
        );
        if (q.format === "csv") {
          return reply
            .header("content-type", "text/csv; charset=utf-8")
            .header("content-disposition", attachment(energyFileName(report, `${q.table}.csv`)))
            .send(energyCsv(report, q.table));
        }
        return reply.header("content-type", "application/json; charset=utf-8").send(report);
      },
    );
  };
}
