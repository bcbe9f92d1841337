// `assign`, `unassign`, `assignments`: a calendar on a district, a group or one streetlight. The API answers at
// once with the rollouts it started (a district of thousands of lamps is one call); --watch follows them.
import type { Assignment, AssignResult } from "../api-types.ts";
import { flag, str, type Values } from "../args.ts";
import { type Command, type Context, EXIT, failure, printJson, usage } from "../context.ts";
import { formatAssignments } from "../format/schedule.ts";
import { watchRollouts } from "./rollout-watch.ts";
import { WATCH_OPTIONS, watchTimeout } from "./rollouts.ts";
import { describeTarget, parseTarget, TARGET_OPTIONS } from "./schedule-flags.ts";
import { printRollouts } from "./schedule-shared.ts";

/** Prints the rollouts (or watches them): the end of assign and unassign. */
async function afterChange(
  ctx: Context,
  body: AssignResult,
  label: string,
  values: Values,
  timeoutMs: number | undefined,
): Promise<number> {
  const json = flag(values, "json");
  if (flag(values, "watch")) {
    if (!json) printRollouts(ctx, body.rollouts, undefined, true);
    return watchRollouts(
      ctx,
      body.rollouts.map((r) => r.id),
      label,
      { json, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    );
  }
  if (json) printJson(ctx, body);
  else
    printRollouts(ctx, body.rollouts, "Every lamp concerned already holds its calendar: nothing to deliver.");
  return EXIT.ok;
}

const assign: Command = {
  name: "assign",
  summary: "put a calendar on a district, a group or a streetlight, and deliver it (--watch: live)",
  json: true,
  options: {
    ...TARGET_OPTIONS,
    calendar: { type: "string", value: "<id>", required: true, description: "the calendar" },
    ...WATCH_OPTIONS,
  },
  details: [
    "The most specific assignment wins for each lamp: device > group > district > the lamp's factory default.",
    "Examples:",
    "  assign --district Anfa --calendar anfa-2026 --watch",
    "  assign --group bd-anfa --calendar match-nights",
    "  assign --device sl-anfa-0042 --calendar always-full",
    "Exit code with --watch: 0 every lamp applied it, 1 some rejected it (or --timeout passed).",
  ].join("\n"),
  async run(ctx, { values }) {
    const target = parseTarget(values);
    if (!target.ok) return usage(ctx, target.message);
    const timeoutMs = watchTimeout(ctx, str(values, "timeout"));
    if (timeoutMs === "bad") return EXIT.usage;
    const calendar = str(values, "calendar") as string;
    const res = await ctx.api.request<AssignResult>("PUT", "/v1/assignments", {
      body: { target: target.value, calendar },
    });
    if (res.kind !== "ok") return failure(ctx, res);
    if (!flag(values, "json"))
      ctx.io.out(`Assigned calendar ${calendar} to ${describeTarget(target.value)}.`);
    return afterChange(ctx, res.body, target.value.id, values, timeoutMs);
  },
};

const unassign: Command = {
  name: "unassign",
  summary: "remove a target's calendar; its lamps go back to their next most specific one",
  json: true,
  options: { ...TARGET_OPTIONS, ...WATCH_OPTIONS },
  details: "Example: unassign --group bd-anfa --watch",
  async run(ctx, { values }) {
    const target = parseTarget(values);
    if (!target.ok) return usage(ctx, target.message);
    const timeoutMs = watchTimeout(ctx, str(values, "timeout"));
    if (timeoutMs === "bad") return EXIT.usage;
    const { type, id } = target.value;
    const res = await ctx.api.request<AssignResult>(
      "DELETE",
      `/v1/assignments/${encodeURIComponent(type)}/${encodeURIComponent(id)}`,
    );
    if (res.kind !== "ok") return failure(ctx, res);
    if (!flag(values, "json")) ctx.io.out(`Unassigned the calendar of ${describeTarget(target.value)}.`);
    return afterChange(ctx, res.body, id, values, timeoutMs);
  },
};

const assignments: Command = {
  name: "assignments",
  summary: "which calendar is assigned where",
  json: true,
  options: { calendar: { type: "string", value: "<id>", description: "only this calendar's" } },
  async run(ctx, { values }) {
    const res = await ctx.api.request<{ assignments: Assignment[] }>("GET", "/v1/assignments", {
      query: { calendar: str(values, "calendar") },
    });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else
      ctx.io.out(
        res.body.assignments.length === 0 ? "no assignments" : formatAssignments(res.body.assignments),
      );
    return EXIT.ok;
  },
};

export const assignmentCommands: readonly Command[] = [assign, unassign, assignments];
