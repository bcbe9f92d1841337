// /v1/groups: device groups a calendar can be assigned to (a street, a stadium's approach). Changing the members
// of a group that has a calendar changes the calendar of the lamps that joined or left it: they are replanned
// (cause `group_members`); a group without one changes no lamp's calendar, so nothing is planned.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DEVICE_KINDS } from "../../contract/topics.ts";
import { createGroupStore, type GroupRefusal, type MembersChanged } from "../../registry/schedules/groups.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { type ApiError, errorResponses, notFound } from "../errors.ts";
import {
  alreadyExists,
  groupRecord,
  invalidMembers,
  newId,
  replanLamps,
  reservedId,
  rollouts,
  type ScheduleCrudDeps,
  scheduleIdParams,
  tags,
} from "./schedule-schemas.ts";
import { MAX_BULK_DEVICES } from "./schemas.ts";

const facts = {
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
};
const deviceList = z.array(z.string().min(1).max(64)).max(MAX_BULK_DEVICES);
const createBody = z
  .object({ id: newId, ...facts, devices: deviceList.default([]).meta({ description: "Initial members." }) })
  .meta({ id: "NewGroup" });
const membersBody = z.object({ devices: deviceList.min(1) });
const member = z.object({
  device_id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  district: z.string(),
  status: z.string(),
  added_at: z.string(),
  added_by: z.string(),
});
const membersAnswer = z.object({
  group: groupRecord,
  changed: z.array(z.string()).meta({ description: "The devices that joined (or left) the group." }),
  rollouts,
});

function refusalError(r: GroupRefusal, id: string): ApiError {
  switch (r.reason) {
    case "not_found":
      return notFound("group", id);
    case "already_exists":
      return alreadyExists("group", id);
    case "reserved":
      return reservedId();
    case "invalid_members":
      return invalidMembers(r.refusals);
  }
}

export function groupsRoutes(deps: ScheduleCrudDeps): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const store = createGroupStore(deps.db, deps.now);

    /** The lamps whose calendar the change moved, when the group has a calendar. */
    const replanMembers = (id: string, changed: MembersChanged, actor: string) =>
      changed.calendar_id === null
        ? []
        : replanLamps(deps, {
            cause: "group_members",
            actor,
            target: { type: "group", id },
            deviceIds: changed.lamps,
          });

    r.get(
      "/v1/groups",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "List groups",
          response: { 200: z.object({ groups: z.array(groupRecord) }), ...errorResponses() },
        },
      },
      async () => ({ groups: store.list() }),
    );

    r.get(
      "/v1/groups/:id",
      {
        preValidation: requirePermission("schedules:read"),
        schema: {
          tags,
          summary: "A group and its members",
          params: scheduleIdParams,
          response: { 200: groupRecord.extend({ members: z.array(member) }), ...errorResponses(404) },
        },
      },
      async (req) => {
        const group = store.get(req.params.id);
        if (!group) throw notFound("group", req.params.id);
        return { ...group, members: store.members(group.id) };
      },
    );

    r.post(
      "/v1/groups",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Create a group",
          description:
            "Optionally with its first members; an unknown device is a 400 naming its index and id.",
          body: createBody,
          response: { 201: groupRecord, ...errorResponses(400, 409) },
        },
      },
      async (req, reply) => {
        const { id, devices, ...rest } = req.body;
        const made = store.create(id, rest, devices, principalOf(req).name);
        if (!made.ok) throw refusalError(made, id);
        return reply.status(201).send(made.group);
      },
    );

    r.put(
      "/v1/groups/:id",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Rename or describe a group",
          description: "Members are changed with POST / DELETE /v1/groups/{id}/members.",
          params: scheduleIdParams,
          body: z.object(facts),
          response: { 200: groupRecord, ...errorResponses(400, 404) },
        },
      },
      async (req) => {
        const updated = store.update(req.params.id, req.body);
        if (!updated.ok) throw refusalError(updated, req.params.id);
        return updated.group;
      },
    );

    r.delete(
      "/v1/groups/:id",
      {
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: "Delete a group",
          description:
            "Removes its members and its assignment too; its lamps go back to their next most specific calendar.",
          params: scheduleIdParams,
          response: { 200: z.object({ rollouts }), ...errorResponses(404) },
        },
      },
      async (req) => {
        const removed = store.remove(req.params.id);
        if (!removed.ok) throw refusalError(removed, req.params.id);
        return { rollouts: replanMembers(req.params.id, removed, principalOf(req).name) };
      },
    );

    for (const op of ["add", "remove"] as const) {
      const route = { url: "/v1/groups/:id/members", method: op === "add" ? "POST" : "DELETE" } as const;
      r.route({
        ...route,
        preValidation: requirePermission("schedules:write"),
        schema: {
          tags,
          summary: op === "add" ? "Add members to a group" : "Remove members from a group",
          description:
            "All or nothing: an unknown device (or one named twice) is a 400 naming its index and id. " +
            (op === "add"
              ? "Devices already members are left as they are; decommissioned devices are refused."
              : "Devices that are not members are left as they are.") +
            " When the group has a calendar, the lamps concerned are replanned.",
          params: scheduleIdParams,
          body: membersBody,
          response: { 200: membersAnswer, ...errorResponses(400, 404) },
        },
        handler: async (req) => {
          const actor = principalOf(req).name;
          const { id } = req.params;
          const changed =
            op === "add"
              ? store.addMembers(id, req.body.devices, actor)
              : store.removeMembers(id, req.body.devices);
          if (!changed.ok) throw refusalError(changed, id);
          return {
            group: store.get(id) as z.infer<typeof groupRecord>,
            changed: changed.changed,
            rollouts: replanMembers(id, changed, actor),
          };
        },
      });
    }
  };
}
