// GET /v1/calendars/{id}/preview: the nights a calendar makes at one place — for each night the rule that matched
// (or the default program) and the switch instants in UTC and local time. It runs the same schedule library the
// lamps run (services/schedule/) on the document a lamp would receive now (documents.ts), so what an operator
// previews is what the lamps will do. The place is a device's position, coordinates, or the city centre.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { CITY } from "../../contract/city.ts";
import { WEEKDAYS } from "../../contract/schedule.ts";
import { buildDocumentBody } from "../../registry/schedules/documents.ts";
import { matchNight } from "../../schedule/calendar.ts";
import { nightSwitches } from "../../schedule/program.ts";
import { type Site, sunEvents } from "../../schedule/sun.ts";
import { addDays, localIso, nightOf, weekdayOf } from "../../schedule/zone.ts";
import { requirePermission } from "../auth/guard.ts";
import { errorResponses, notFound, validationFailed } from "../errors.ts";
import { type ScheduleCrudDeps, scheduleIdParams, tags } from "./schedule-schemas.ts";

export const MAX_PREVIEW_NIGHTS = 62;

const query = z.object({
  device: z.string().optional().meta({ description: "Preview at this device's position." }),
  lat: z.coerce.number().min(-90).max(90).optional(),
  lon: z.coerce.number().min(-180).max(180).optional(),
  from: z.iso
    .date({ error: "must be a date YYYY-MM-DD" })
    .optional()
    .meta({ description: "First night (the date it starts); default: tonight, local time." }),
  nights: z.coerce.number().int().min(1).max(MAX_PREVIEW_NIGHTS).default(7),
});

const instant = z.object({
  at: z.string().meta({ description: "UTC, ISO 8601." }),
  local: z.string().meta({ description: `Local time in ${CITY.timeZone}, ISO 8601 with its offset.` }),
});
const previewAnswer = z.object({
  calendar: z.object({ id: z.string(), name: z.string(), revision: z.number().int() }),
  site: z.object({ lat: z.number(), lon: z.number(), source: z.enum(["device", "coordinates", "city"]) }),
  time_zone: z.string(),
  nights: z.array(
    z.object({
      night: z.string().meta({ description: "The date the night starts (local noon to noon)." }),
      weekday: z.enum(WEEKDAYS),
      rule: z
        .object({ index: z.number().int(), name: z.string().nullable() })
        .nullable()
        .meta({ description: "The first rule that matched; null: the default program." }),
      program: z.string(),
      program_name: z.string(),
      sunset: instant,
      sunrise: instant,
      switches: z.array(
        instant.extend({
          label: z.string().meta({ description: 'As the program states it: "sunset+10", "00:00".' }),
          level_pct: z.number(),
          ramp_s: z.number(),
        }),
      ),
    }),
  ),
});

const at = (ms: number) => ({ at: new Date(ms).toISOString(), local: localIso(ms) });

export function calendarPreviewRoutes(deps: ScheduleCrudDeps): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const deviceAt = deps.db.prepare("SELECT lat, lon FROM devices WHERE id = ?");
    const calendarExists = deps.db.prepare("SELECT 1 FROM schedule_calendars WHERE id = ?");

    r.get(
      "/v1/calendars/:id/preview",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "Preview a calendar's nights",
          description:
            "For each night from `from`: the rule that matched, its program and the switch instants at the place " +
            "(`device`, or `lat` and `lon`, else the city centre), computed as the lamps compute them.",
          params: scheduleIdParams,
          querystring: query,
          response: { 200: previewAnswer, ...errorResponses(400, 404) },
        },
      },
      async (req) => {
        const q = req.query;
        if (!calendarExists.get(req.params.id)) throw notFound("calendar", req.params.id);
        const site = siteOf(q, (id) => deviceAt.get(id) as Site | undefined);
        const doc = buildDocumentBody(deps.db, req.params.id);
        const first = q.from ?? nightOf(deps.now().getTime());
        const nights = Array.from({ length: q.nights }, (_, i) => {
          const night = addDays(first, i);
          const match = matchNight(doc, night);
          const program = doc.programs[match.programId] as (typeof doc.programs)[string];
          const sun = sunEvents(night, site);
          return {
            night,
            weekday: weekdayOf(night),
            rule: match.ruleIndex === null ? null : { index: match.ruleIndex, name: match.ruleName },
            program: match.programId,
            program_name: program.name,
            sunset: at(sun.sunset),
            sunrise: at(sun.sunrise),
            switches: nightSwitches(program.switch_points, night, site).map((s) => ({
              ...at(s.at),
              label: s.label,
              level_pct: s.levelPct,
              ramp_s: s.rampMs / 1000,
            })),
          };
        });
        return {
          calendar: doc.calendar,
          site: { lat: site.lat, lon: site.lon, source: site.source },
          time_zone: doc.time_zone,
          nights,
        };
      },
    );
  };
}

/** Where to preview: a device's position, the given coordinates (both), or the city centre. */
function siteOf(
  q: z.infer<typeof query>,
  device: (id: string) => Site | undefined,
): Site & { source: "device" | "coordinates" | "city" } {
  const coords = q.lat !== undefined || q.lon !== undefined;
  if (q.device !== undefined) {
    if (coords)
      throw validationFailed("give a device or coordinates, not both", [
        { field: "query.device", message: "not with lat/lon" },
      ]);
    const d = device(q.device);
    if (!d) throw notFound("device", q.device);
    return { lat: d.lat, lon: d.lon, source: "device" };
  }
  if (coords) {
    if (q.lat === undefined || q.lon === undefined)
      throw validationFailed("lat and lon go together", [
        {
          field: q.lat === undefined ? "query.lat" : "query.lon",
          message: "required with the other coordinate",
        },
      ]);
    return { lat: q.lat, lon: q.lon, source: "coordinates" };
  }
  return { lat: CITY.lat, lon: CITY.lon, source: "city" };
}
