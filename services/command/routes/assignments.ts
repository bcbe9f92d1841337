// /v1/assignments: a calendar on a district, a group or one streetlight (TALQ assigns calendars to devices and
// groups; districts are this platform's third level). The most specific assignment wins for each lamp
// (registry/schedules/resolve.ts). Assigning or unassigning replans every lamp the target covers and answers the
// rollouts at once (202): a district of thousands of lamps is one call, its progress is GET /v1/rollouts/{id}.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import { ASSIGNMENT_LEVELS, assignmentTarget, scheduleId } from "../../contract/schedule.ts";
import { createAssignmentStore, type TargetRefusal } from "../../registry/schedules/assignments.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { ApiError, errorResponses, notFound, validationFailed } from "../errors.ts";
import { assignmentRecord, replanLamps, rollouts, type ScheduleCrudDeps, tags } from "./schedule-schemas.ts";

const putBody = z
  .object({
    target: assignmentTarget.meta({
      description: "district: a district name; group: a group id; device: a streetlight's id.",
    }),
    calendar: scheduleId.meta({ description: "The calendar's id." }),
  })
  .meta({ id: "AssignmentRequest" });
const listQuery = z.object({
  calendar: z.string().optional().meta({ description: "Only the assignments of this calendar." }),
});
const targetParams = z.object({
  type: z.enum(ASSIGNMENT_LEVELS),
  id: z.string().meta({ description: "District name, group id or device id" }),
});

const TARGET_MESSAGES: Record<TargetRefusal["reason"], string> = {
  unknown_district: `no such district (one of ${DISTRICT_NAMES.join(", ")})`,
  unknown_group: "no such group",
  unknown_device: "no such device",
  not_a_streetlight: "only a streetlight can take a calendar",
  decommissioned: "the device is decommissioned",
};

function targetError(r: TargetRefusal, id: string): ApiError {
  if (r.reason === "decommissioned")
    return new ApiError("decommissioned", 409, `device ${id} is decommissioned`);
  return validationFailed(`target ${id}: ${TARGET_MESSAGES[r.reason]}`, [
    { field: "target.id", id, message: TARGET_MESSAGES[r.reason] },
  ]);
}

export function assignmentsRoutes(deps: ScheduleCrudDeps): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const store = createAssignmentStore(deps.db, deps.now);

    r.get(
      "/v1/assignments",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "List assignments",
          querystring: listQuery,
          response: { 200: z.object({ assignments: z.array(assignmentRecord) }), ...errorResponses(400) },
        },
      },
      async (req) => ({ assignments: store.list({ calendar: req.query.calendar }) }),
    );

    r.put(
      "/v1/assignments",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Assign a calendar",
          description:
            "Puts the calendar on the target, replacing the target's previous one, and rolls it out to every lamp " +
            "the target covers whose resolved calendar changed. Answers at once with the rollouts.",
          body: putBody,
          response: {
            202: z.object({ assignment: assignmentRecord, rollouts }),
            ...errorResponses(400, 409),
          },
        },
      },
      async (req, reply) => {
        const actor = principalOf(req).name;
        const { target, calendar } = req.body;
        const put = store.put(target, calendar, actor);
        if (!put.ok) {
          if (put.reason === "unknown_calendar")
            throw validationFailed(`calendar ${calendar} does not exist`, [
              { field: "calendar", id: calendar, message: "no such calendar" },
            ]);
          throw targetError(put, target.id);
        }
        const started = replanLamps(deps, { cause: "assign", actor, target, deviceIds: put.lamps });
        return reply.status(202).send({ assignment: put.assignment, rollouts: started });
      },
    );

    r.delete(
      "/v1/assignments/:type/:id",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Unassign a calendar",
          description:
            "Removes the target's assignment; its lamps go back to their next most specific calendar (or the " +
            "factory default), rolled out at once.",
          params: targetParams,
          response: { 202: z.object({ rollouts }), ...errorResponses(400, 404) },
        },
      },
      async (req, reply) => {
        const target = req.params;
        const removed = store.remove(target);
        if (!removed.ok) throw notFound(`assignment of ${target.type}`, target.id);
        const started = replanLamps(deps, {
          cause: "unassign",
          actor: principalOf(req).name,
          target,
          deviceIds: removed.lamps,
        });
        return reply.status(202).send({ rollouts: started });
      },
    );
  };
}
