// `groups …`: sets of devices a calendar can be assigned to (a street, a stadium's approach). Adding or removing
// members of a group that has a calendar moves those lamps' calendars: the rollouts are printed.
import type { Group, GroupMember, RolloutSummary } from "../api-types.ts";
import { flag, str } from "../args.ts";
import { type Command, EXIT, failure, printJson, usage } from "../context.ts";
import { formatGroup, formatGroupList } from "../format/schedule.ts";
import { plural } from "../format/table.ts";
import { idList } from "./schedule-flags.ts";
import { printRollouts, resourcePath } from "./schedule-shared.ts";

const list: Command = {
  name: "groups list",
  summary: "device groups: members, assigned calendar",
  json: true,
  async run(ctx, { values }) {
    const res = await ctx.api.request<{ groups: Group[] }>("GET", "/v1/groups");
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(res.body.groups.length === 0 ? "no groups yet" : formatGroupList(res.body.groups));
    return EXIT.ok;
  },
};

const show: Command = {
  name: "groups show",
  summary: "one group and its members",
  positionals: ["ID"],
  json: true,
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<Group & { members: GroupMember[] }>(
      "GET",
      resourcePath("groups", positionals[0] as string),
    );
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatGroup(res.body));
    return EXIT.ok;
  },
};

const create: Command = {
  name: "groups create",
  summary: "create a group, optionally with its first members",
  positionals: ["ID"],
  json: true,
  options: {
    name: { type: "string", value: "<text>", required: true, description: 'e.g. "Boulevard d\'Anfa"' },
    description: { type: "string", value: "<text>", description: "longer note" },
    devices: { type: "string", value: "<id,id,…>", description: "first members, comma-separated" },
  },
  details: 'Example: groups create bd-anfa --name "Boulevard d\'Anfa" --devices sl-anfa-0001,sl-anfa-0002',
  async run(ctx, { values, positionals }) {
    const id = positionals[0] as string;
    const devices = idList(str(values, "devices") ?? "");
    const res = await ctx.api.request<Group>("POST", "/v1/groups", {
      body: { id, name: str(values, "name"), description: str(values, "description"), devices },
    });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(`Created group ${id} with ${plural(res.body.member_count, "member")}.`);
    return EXIT.ok;
  },
};

/** "1 was a member already", "3 were not members". */
function untouchedText(n: number, op: "add" | "remove"): string {
  if (op === "add") return n === 1 ? "1 was a member already" : `${n} were members already`;
  return n === 1 ? "1 was not a member" : `${n} were not members`;
}

type MembersAnswer = { group: Group; changed: string[]; rollouts: RolloutSummary[] };

function membersCommand(op: "add" | "remove"): Command {
  return {
    name: `groups ${op}`,
    summary:
      op === "add"
        ? "add devices to a group (its calendar, if any, goes to the new lamps)"
        : "remove devices from a group (they go back to their next calendar)",
    positionals: ["GROUP", "DEVICE..."],
    json: true,
    details: `Ids may also be comma-separated. All or nothing: an unknown device refuses the request.\nExample: groups ${op} bd-anfa sl-anfa-0003 sl-anfa-0004`,
    async run(ctx, { values, positionals }) {
      const [group, ...rest] = positionals as [string, ...string[]];
      const devices = [...new Set(rest.flatMap(idList))];
      if (devices.length === 0) return usage(ctx, "missing argument DEVICE");
      const res = await ctx.api.request<MembersAnswer>(
        op === "add" ? "POST" : "DELETE",
        resourcePath("groups", group, "/members"),
        { body: { devices } },
      );
      if (res.kind !== "ok") return failure(ctx, res);
      if (flag(values, "json")) {
        printJson(ctx, res.body);
        return EXIT.ok;
      }
      const { changed, group: g } = res.body;
      const verb = op === "add" ? "Added" : "Removed";
      const untouched = devices.length - changed.length;
      ctx.io.out(
        `${verb} ${plural(changed.length, "device")} ${op === "add" ? "to" : "from"} ${group}; it has ${plural(g.member_count, "member")}.` +
          (untouched > 0 ? ` ${untouchedText(untouched, op)}.` : ""),
      );
      printRollouts(
        ctx,
        res.body.rollouts,
        g.calendar_id === null ? "The group has no calendar: no lamp's calendar changed." : undefined,
      );
      return EXIT.ok;
    },
  };
}

const remove: Command = {
  name: "groups delete",
  summary: "delete a group with its assignment; its lamps go back to their next calendar",
  positionals: ["ID"],
  json: true,
  async run(ctx, { values, positionals }) {
    const id = positionals[0] as string;
    const res = await ctx.api.request<{ rollouts: RolloutSummary[] }>("DELETE", resourcePath("groups", id));
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else {
      ctx.io.out(`Deleted group ${id}.`);
      printRollouts(ctx, res.body?.rollouts);
    }
    return EXIT.ok;
  },
};

export const groupCommands: readonly Command[] = [
  list,
  show,
  create,
  membersCommand("add"),
  membersCommand("remove"),
  remove,
];
