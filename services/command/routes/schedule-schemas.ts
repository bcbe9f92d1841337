// What the schedule CRUD routes (programs, calendars, groups, assignments) share: their deps, the schemas of the
// records they answer (also the OpenAPI components), the store refusals as API errors, and the one way they ask
// the planner for rollouts after a committed change.
import type { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import {
  ASSIGNMENT_LEVELS,
  calendarRule,
  FACTORY_PROGRAM_ID,
  ROLLOUT_KINDS,
  scheduleId,
  switchPoint,
} from "../../contract/schedule.ts";
import type { MissingProgram } from "../../registry/schedules/calendars.ts";
import type { MemberRefusal } from "../../registry/schedules/groups.ts";
import { ApiError, conflict, type Issue, validationFailed } from "../errors.ts";
import type { Replan, ReplanInput, RolloutSummary } from "../schedules/types.ts";

export type ScheduleCrudDeps = { db: DatabaseSync; now: () => Date; replan: Replan };

export const tags = ["schedules"];

export const scheduleIdParams = z.object({
  id: z.string().meta({ description: "Program, calendar or group id" }),
});

const audit = {
  created_at: z.string(),
  created_by: z.string().meta({ description: "The API token's name that created it." }),
  updated_at: z.string(),
};

export const programRecord = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    switch_points: z.array(switchPoint),
    revision: z.number().int(),
    ...audit,
    updated_by: z.string(),
  })
  .meta({ id: "Program", description: "A dimming program: switch points at local or astronomical times." });

export const calendarRecord = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    rules: z.array(calendarRule),
    default_program: z.string(),
    revision: z.number().int(),
    ...audit,
    updated_by: z.string(),
  })
  .meta({
    id: "Calendar",
    description: "Ordered rules naming programs (the first match wins), and a default.",
  });

export const assignmentRef = z.object({ type: z.enum(ASSIGNMENT_LEVELS), id: z.string() });

export const assignmentRecord = z
  .object({
    target: assignmentRef,
    calendar: z.string(),
    assigned_at: z.string(),
    assigned_by: z.string(),
  })
  .meta({ id: "Assignment", description: "A calendar on a district, a group or one streetlight." });

export const groupRecord = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    ...audit,
    calendar_id: z.string().nullable().meta({ description: "The calendar assigned to the group, if any." }),
    member_count: z.number().int(),
  })
  .meta({ id: "Group", description: "A set of devices a calendar can be assigned to." });

export const rolloutSummary = z
  .object({
    id: z.number().int(),
    kind: z.enum(ROLLOUT_KINDS),
    version: z.number().int().nullable(),
    calendar_id: z.string().nullable(),
    override_id: z.string().nullable(),
    total: z.number().int(),
  })
  .meta({
    id: "RolloutSummary",
    description: "A rollout just created; its progress is GET /v1/rollouts/{id}.",
  }) satisfies z.ZodType<RolloutSummary>;

export const rollouts = z.array(rolloutSummary).meta({
  description:
    "The rollouts the change started, one per calendar document (empty when no lamp's calendar changed).",
});

/** A new program, calendar or group: its id, which cannot be changed later. */
export const newId = scheduleId.refine((id) => id !== FACTORY_PROGRAM_ID, {
  error: `"${FACTORY_PROGRAM_ID}" is reserved for the lamps' built-in program`,
});

/**
 * Asks the planner for rollouts after a committed change. No lamps: nothing to plan. The change is committed
 * already, so a planner failure is a 500 that the log explains; the change can be redelivered (cause `redeliver`).
 */
export function replanLamps(deps: ScheduleCrudDeps, input: ReplanInput): RolloutSummary[] {
  return input.deviceIds.length === 0 ? [] : deps.replan(input);
}

// Store refusals as API errors.

export const alreadyExists = (what: string, id: string) =>
  conflict("already_exists", `${what} ${id} already exists`);

export const reservedId = () =>
  validationFailed("the id is reserved", [
    { field: "id", message: `"${FACTORY_PROGRAM_ID}" is reserved for the lamps' built-in program` },
  ]);

export const unknownPrograms = (missing: readonly MissingProgram[]) =>
  validationFailed(
    `${missing.length} program(s) named do not exist`,
    missing.map((m) => ({ field: m.field, id: m.program, message: `program ${m.program} does not exist` })),
  );

const MEMBER_MESSAGES: Record<MemberRefusal["reason"], string> = {
  unknown_device: "no such device",
  decommissioned: "the device is decommissioned",
  duplicate: "named twice in the request",
};

export const invalidMembers = (refusals: readonly MemberRefusal[]) =>
  validationFailed(
    `${refusals.length} device(s) cannot be used; nothing was changed`,
    refusals.map(
      (r): Issue => ({ field: "devices", index: r.index, id: r.id, message: MEMBER_MESSAGES[r.reason] }),
    ),
  );

export const inUse = (message: string) => new ApiError("in_use", 409, message);
