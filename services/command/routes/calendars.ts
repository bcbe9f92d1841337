// /v1/calendars: calendars (TALQ's calendar: ordered rules — date ranges, weekdays, nth weekday of a month, fixed
// dates — each naming a program, plus a default program; the first matching rule wins). Every program named must
// exist. An edit reaches the lamps resolved to the calendar (replan cause `calendar_edit`). The preview of the
// nights a calendar makes is routes/calendar-preview.ts.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { calendarBody } from "../../contract/schedule.ts";
import { type CalendarRefusal, createCalendarStore } from "../../registry/schedules/calendars.ts";
import { devicesUsingCalendars } from "../../registry/schedules/resolve.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { type ApiError, errorResponses, notFound } from "../errors.ts";
import {
  alreadyExists,
  assignmentRef,
  calendarRecord,
  inUse,
  newId,
  replanLamps,
  reservedId,
  rollouts,
  type ScheduleCrudDeps,
  scheduleIdParams,
  tags,
  unknownPrograms,
} from "./schedule-schemas.ts";

const createBody = calendarBody.extend({ id: newId }).meta({ id: "NewCalendar" });
const calendarDetail = calendarRecord.extend({
  assignments: z.array(assignmentRef).meta({ description: "Where the calendar is assigned." }),
  lamps: z.number().int().meta({ description: "Lamps whose resolved calendar this is now." }),
});

function refusalError(r: CalendarRefusal, id: string): ApiError {
  switch (r.reason) {
    case "not_found":
      return notFound("calendar", id);
    case "already_exists":
      return alreadyExists("calendar", id);
    case "reserved":
      return reservedId();
    case "unknown_program":
      return unknownPrograms(r.missing);
    case "in_use":
      return inUse(
        `calendar ${id} is assigned to ${r.assignments.map((a) => `${a.type} ${a.id}`).join(", ")}: unassign it first`,
      );
  }
}

export function calendarsRoutes(deps: ScheduleCrudDeps): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const store = createCalendarStore(deps.db, deps.now);

    r.get(
      "/v1/calendars",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "List calendars",
          response: { 200: z.object({ calendars: z.array(calendarRecord) }), ...errorResponses() },
        },
      },
      async () => ({ calendars: store.list() }),
    );

    r.get(
      "/v1/calendars/:id",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "A calendar",
          description: "With its assignments and how many lamps it reaches now.",
          params: scheduleIdParams,
          response: { 200: calendarDetail, ...errorResponses(404) },
        },
      },
      async (req) => {
        const calendar = store.get(req.params.id);
        if (!calendar) throw notFound("calendar", req.params.id);
        return {
          ...calendar,
          assignments: store.assignmentsOf(calendar.id),
          lamps: devicesUsingCalendars(deps.db, [calendar.id]).length,
        };
      },
    );

    r.post(
      "/v1/calendars",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Create a calendar",
          description:
            "Every program named (default_program, each rule's program) must exist: a missing one is a 400 naming " +
            "its field (`rules.3.program`). A new calendar reaches no lamp until it is assigned.",
          body: createBody,
          response: { 201: calendarRecord, ...errorResponses(400, 409) },
        },
      },
      async (req, reply) => {
        const { id, ...body } = req.body;
        const made = store.create(id, body, principalOf(req).name);
        if (!made.ok) throw refusalError(made, id);
        return reply.status(201).send(made.calendar);
      },
    );

    r.put(
      "/v1/calendars/:id",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Replace a calendar",
          description:
            "Replaces its rules and default program (revision + 1) and rolls it out to every lamp resolved to it; " +
            "`rollouts` answers at once, progress is GET /v1/rollouts/{id}.",
          params: scheduleIdParams,
          body: calendarBody,
          response: { 200: z.object({ calendar: calendarRecord, rollouts }), ...errorResponses(400, 404) },
        },
      },
      async (req) => {
        const actor = principalOf(req).name;
        const updated = store.update(req.params.id, req.body, actor);
        if (!updated.ok) throw refusalError(updated, req.params.id);
        const lamps = devicesUsingCalendars(deps.db, [req.params.id]);
        return {
          calendar: updated.calendar,
          rollouts: replanLamps(deps, { cause: "calendar_edit", actor, deviceIds: lamps }),
        };
      },
    );

    r.delete(
      "/v1/calendars/:id",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Delete a calendar",
          description: "Refused (409 in_use) while it is assigned anywhere.",
          params: scheduleIdParams,
          response: { 204: z.null(), ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        const removed = store.remove(req.params.id);
        if (!removed.ok) throw refusalError(removed, req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
