// POST /v1/devices/import: a CSV of devices (a survey spreadsheet, a supplier's delivery note), registered all or
// nothing. The header names the columns (any order, any case; an empty cell is an absent value); every problem is
// reported with its 1-based CSV line (the header is line 1) and field, and nothing is imported while any remains.
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { deviceRegistration } from "../../contract/devices.ts";
import { parseCsv } from "../../lib/csv.ts";
import { COLUMNS } from "../../registry/lifecycle.ts";
import type { NewDevice } from "../../registry/store.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { ApiError, errorResponses, type Issue, validationFailed } from "../errors.ts";
import type { ApiContext } from "./context.ts";
import { registerMany } from "./devices.ts";
import { importMode, importResult, MAX_BULK_DEVICES } from "./schemas.ts";

export const CSV_COLUMNS = ["id", ...COLUMNS] as const;
const REQUIRED = ["id", "kind", "district", "lat", "lon", "installed_at"];
const NUMERIC = new Set(["lat", "lon", "report_interval_s", "led_watts", "legacy_watts"]);
/** The largest CSV body accepted: 10 000 rows of ~120 bytes, with room to spare. */
const MAX_CSV_BYTES = 4 * 1024 * 1024;

type Parsed = { rows: { line: number; device: NewDevice }[]; issues: Issue[] };

/** Parses and validates a device CSV; `line` of a record is the line where it ends (the same, unless quoted newlines). */
export function parseDeviceCsv(text: string): Parsed {
  const csv = parseCsv(text);
  if (!csv.ok) return { rows: [], issues: [{ line: csv.line, field: "(csv)", message: csv.message }] };
  const { header, rows: body } = csv;
  if (!header)
    return { rows: [], issues: [{ line: 1, field: "(csv)", message: "empty: expected a header row" }] };
  const columns = header.cells.map((c) => c.toLowerCase());
  const issues: Issue[] = [];
  columns.forEach((c, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(c))
      issues.push({
        line: 1,
        field: c || `(column ${i + 1})`,
        message: `unknown column; expected ${CSV_COLUMNS.join(",")}`,
      });
    else if (columns.indexOf(c) !== i) issues.push({ line: 1, field: c, message: "column appears twice" });
  });
  for (const c of REQUIRED)
    if (!columns.includes(c)) issues.push({ line: 1, field: c, message: "missing column" });
  if (body.length > MAX_BULK_DEVICES)
    issues.push({
      line: 1,
      field: "(csv)",
      message: `${body.length} rows; at most ${MAX_BULK_DEVICES} per import`,
    });
  if (issues.length > 0) return { rows: [], issues };

  const rows: Parsed["rows"] = [];
  for (const { line, cells } of body) {
    if (cells.length !== columns.length) {
      issues.push({
        line,
        field: "(row)",
        message: `expected ${columns.length} fields, got ${cells.length}`,
      });
      continue;
    }
    const obj: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      const cell = cells[i] as string;
      if (cell === "") return;
      const n = Number(cell);
      // A cell that is not a number stays a string, so that validation says "expected number".
      obj[c] = NUMERIC.has(c) && Number.isFinite(n) ? n : cell;
    });
    const parsed = deviceRegistration.safeParse(obj);
    if (parsed.success) rows.push({ line, device: parsed.data });
    else {
      const id = typeof obj.id === "string" ? { id: obj.id } : {};
      for (const i of parsed.error.issues)
        issues.push({ line, ...id, field: i.path.join(".") || "(row)", message: i.message });
    }
  }
  return { rows, issues };
}

const isCsv = (req: FastifyRequest) => /^text\/csv\b/i.test(req.headers["content-type"] ?? "");

export function importRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser(
      "text/csv",
      { parseAs: "string", bodyLimit: MAX_CSV_BYTES },
      (_req, body, done) => done(null, body),
    );
    app.withTypeProvider<ZodTypeProvider>().post(
      "/v1/devices/import",
      {
        preValidation: [
          requirePermission("devices:write"),
          async (req) => {
            if (!isCsv(req))
              throw new ApiError(
                "unsupported_media_type",
                415,
                "the body must be text/csv (Content-Type: text/csv)",
              );
          },
        ],
        schema: {
          tags: ["devices"],
          summary: "Import devices from CSV",
          description:
            `Header row with the columns ${CSV_COLUMNS.join(",")} (any order; the first ${REQUIRED.length} required), ` +
            `one device per line, an empty cell for an absent value, at most ${MAX_BULK_DEVICES} rows. All or nothing: ` +
            "every bad row is reported with its `line` (1-based, the header is line 1) and `field`.",
          consumes: ["text/csv"],
          querystring: z.object({ mode: importMode }),
          body: z.string().meta({ description: "CSV text" }),
          response: { 200: importResult, ...errorResponses(400, 415) },
        },
      },
      async (req) => {
        const { rows, issues } = parseDeviceCsv(req.body);
        if (issues.length > 0) {
          const lines = new Set(issues.map((i) => i.line)).size;
          throw validationFailed(`${lines} line(s) of the CSV are invalid; nothing was imported`, issues);
        }
        if (rows.length === 0)
          throw validationFailed("the CSV has no rows", [{ line: 2, field: "(csv)", message: "no rows" }]);
        const lineOf = rows.map((r) => r.line);
        return registerMany(
          ctx,
          rows.map((r) => r.device),
          req.query.mode,
          principalOf(req).name,
          (i) => ({
            line: lineOf[i] as number,
          }),
        );
      },
    );
  };
}
