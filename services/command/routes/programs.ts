// /v1/programs: dimming programs (TALQ's program: switch points at fixed local times or at sunset / sunrise with an
// offset, each with an optional ramp). An edit reaches every lamp whose resolved calendar names the program: the
// planner stores new calendar documents for them and pushes them (replan cause `program_edit`).
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { programBody } from "../../contract/schedule.ts";
import { createProgramStore, type ProgramRefusal } from "../../registry/schedules/programs.ts";
import { devicesUsingCalendars } from "../../registry/schedules/resolve.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { type ApiError, errorResponses, notFound } from "../errors.ts";
import {
  alreadyExists,
  inUse,
  newId,
  programRecord,
  replanLamps,
  reservedId,
  rollouts,
  type ScheduleCrudDeps,
  scheduleIdParams,
  tags,
} from "./schedule-schemas.ts";

const createBody = programBody.extend({ id: newId }).meta({ id: "NewProgram" });
const programDetail = programRecord.extend({
  calendars: z.array(z.string()).meta({ description: "The calendars naming this program." }),
});

function refusalError(r: ProgramRefusal, id: string): ApiError {
  switch (r.reason) {
    case "not_found":
      return notFound("program", id);
    case "already_exists":
      return alreadyExists("program", id);
    case "reserved":
      return reservedId();
    case "in_use":
      return inUse(`program ${id} is named by calendar(s) ${r.calendars.join(", ")}: change them first`);
  }
}

export function programsRoutes(deps: ScheduleCrudDeps): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const store = createProgramStore(deps.db, deps.now);

    r.get(
      "/v1/programs",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "List programs",
          response: { 200: z.object({ programs: z.array(programRecord) }), ...errorResponses() },
        },
      },
      async () => ({ programs: store.list() }),
    );

    r.get(
      "/v1/programs/:id",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "A program",
          description: "With the calendars that name it.",
          params: scheduleIdParams,
          response: { 200: programDetail, ...errorResponses(404) },
        },
      },
      async (req) => {
        const program = store.get(req.params.id);
        if (!program) throw notFound("program", req.params.id);
        return { ...program, calendars: store.calendarsUsing(program.id) };
      },
    );

    r.post(
      "/v1/programs",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Create a program",
          description: "A new program reaches no lamp until a calendar names it.",
          body: createBody,
          response: { 201: programRecord, ...errorResponses(400, 409) },
        },
      },
      async (req, reply) => {
        const { id, ...body } = req.body;
        const made = store.create(id, body, principalOf(req).name);
        if (!made.ok) throw refusalError(made, id);
        return reply.status(201).send(made.program);
      },
    );

    r.put(
      "/v1/programs/:id",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Replace a program",
          description:
            "Replaces its name, description and switch points (revision + 1) and rolls the new content out to " +
            "every lamp whose calendar names it; `rollouts` answers at once, progress is GET /v1/rollouts/{id}.",
          params: scheduleIdParams,
          body: programBody,
          response: { 200: z.object({ program: programRecord, rollouts }), ...errorResponses(400, 404) },
        },
      },
      async (req) => {
        const actor = principalOf(req).name;
        const updated = store.update(req.params.id, req.body, actor);
        if (!updated.ok) throw refusalError(updated, req.params.id);
        const lamps = devicesUsingCalendars(deps.db, store.calendarsUsing(req.params.id));
        return {
          program: updated.program,
          rollouts: replanLamps(deps, { cause: "program_edit", actor, deviceIds: lamps }),
        };
      },
    );

    r.delete(
      "/v1/programs/:id",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Delete a program",
          description:
            "Refused (409 in_use) while a calendar names it. Documents already sent keep their copy.",
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
