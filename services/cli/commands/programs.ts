// `programs …`: dimming programs (TALQ program: switch points at local or astronomical times, with ramps).
// Points are given as --point "sunset+10=100" --point "00:00=50@300" --point "sunrise-15=0", or as a JSON file.
import type { ProgramBody, SwitchPoint } from "../../contract/schedule.ts";
import type { Program, RolloutSummary } from "../api-types.ts";
import { flag, type OptionSpec, str, strs, type Values } from "../args.ts";
import { type Command, type Context, EXIT, failure, printJson, usage } from "../context.ts";
import { formatProgram, formatProgramList } from "../format/schedule.ts";
import { printRollouts, readJsonFile, resourcePath, unwrap } from "./schedule-shared.ts";
import { parseSwitchPoint } from "./schedule-syntax.ts";

const POINT_HELP = [
  "Switch points: AT=LEVEL[@RAMP], AT = sunset or sunrise with an offset in minutes, or a local time HH:MM;",
  "LEVEL 0–100 %; RAMP seconds (or 5m) to move from the level in effect. A time before 12:00 belongs to the",
  "morning after the night's sunset. Examples: sunset+10=100  00:00=50@300  05:00=100  sunrise-15=0",
].join("\n");

const FIELD_OPTIONS: Record<string, OptionSpec> = {
  name: { type: "string", value: "<text>", description: 'what the program is, e.g. "Midnight dimming"' },
  description: { type: "string", value: "<text>", description: "longer note" },
  point: {
    type: "string",
    value: "<AT=LEVEL[@RAMP]>",
    multiple: true,
    description: "a switch point, repeat for each, in any order: sunset+10=100, 00:00=50@300, sunrise-15=0",
  },
  file: {
    type: "string",
    value: "<file.json>",
    description: "the program as JSON {name, description, switch_points}; flags given override it",
  },
};

/** --point values → switch points; the first bad one is a usage error naming its position. */
export function parsePoints(
  raw: readonly string[],
): { ok: true; points: SwitchPoint[] } | { ok: false; message: string } {
  const points: SwitchPoint[] = [];
  for (const [i, text] of raw.entries()) {
    const p = parseSwitchPoint(text);
    if (!p.ok) return { ok: false, message: `--point ${raw.length > 1 ? `#${i + 1} ` : ""}${p.message}` };
    points.push(p.value);
  }
  return { ok: true, points };
}

/** The body from --file, then the flags on top; null (and the reason printed) when it cannot be made. */
function programBody(
  ctx: Context,
  values: Values,
  base: Partial<ProgramBody>,
): Partial<ProgramBody> | number {
  let body: Partial<ProgramBody> = { ...base };
  const file = str(values, "file");
  if (file) {
    const json = readJsonFile(ctx, file);
    if ("error" in json) {
      ctx.io.err(`error: ${json.error}`);
      return EXIT.failed;
    }
    const { id: _id, ...rest } = json;
    body = { ...body, ...(rest as Partial<ProgramBody>) };
  }
  const name = str(values, "name");
  const description = str(values, "description");
  if (name !== undefined) body.name = name;
  if (description !== undefined) body.description = description;
  const raw = strs(values, "point");
  if (raw.length > 0) {
    const points = parsePoints(raw);
    if (!points.ok) return usage(ctx, points.message);
    body.switch_points = points.points;
  }
  return body;
}

const list: Command = {
  name: "programs list",
  summary: "dimming programs and their switch points",
  json: true,
  async run(ctx, { values }) {
    const res = await ctx.api.request<{ programs: Program[] }>("GET", "/v1/programs");
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else
      ctx.io.out(res.body.programs.length === 0 ? "no programs yet" : formatProgramList(res.body.programs));
    return EXIT.ok;
  },
};

const show: Command = {
  name: "programs show",
  summary: "one program: its switch points, and the calendars naming it",
  positionals: ["ID"],
  json: true,
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<Program>("GET", resourcePath("programs", positionals[0] as string));
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatProgram(unwrap(res.body, "program")));
    return EXIT.ok;
  },
};

const create: Command = {
  name: "programs create",
  summary: "create a program from --point flags or a JSON file",
  positionals: ["ID"],
  json: true,
  options: FIELD_OPTIONS,
  details: `${POINT_HELP}\n\nExample: programs create midnight-dim --name "Midnight dimming" \\\n  --point "sunset+10=100" --point "00:00=50@300" --point "05:00=100" --point "sunrise-15=0"`,
  async run(ctx, { values, positionals }) {
    const id = positionals[0] as string;
    const body = programBody(ctx, values, {});
    if (typeof body === "number") return body;
    if (body.name === undefined) return usage(ctx, "give --name (or a name in --file)");
    if (!body.switch_points?.length)
      return usage(ctx, "give at least one --point (or switch_points in --file)");
    const res = await ctx.api.request<Program>("POST", "/v1/programs", { body: { id, ...body } });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(`Created program ${id}.\n${formatProgram(unwrap(res.body, "program"))}`);
    return EXIT.ok;
  },
};

const update: Command = {
  name: "programs update",
  summary: "change a program (revision + 1); lamps whose calendar uses it get the new version",
  positionals: ["ID"],
  json: true,
  options: FIELD_OPTIONS,
  details: `Only what is given changes; --point flags replace all the switch points.\n${POINT_HELP}`,
  async run(ctx, { values, positionals }) {
    const id = positionals[0] as string;
    if (!["name", "description", "point", "file"].some((f) => values[f] !== undefined))
      return usage(ctx, "give at least one of --name, --description, --point, --file");
    const path = resourcePath("programs", id);
    const current = await ctx.api.request<Program>("GET", path);
    if (current.kind !== "ok") return failure(ctx, current);
    const p = unwrap<Program>(current.body, "program");
    const base: Partial<ProgramBody> = { name: p.name, switch_points: p.switch_points };
    if (p.description) base.description = p.description;
    const body = programBody(ctx, values, base);
    if (typeof body === "number") return body;
    const res = await ctx.api.request<Program & { rollouts?: RolloutSummary[] }>("PUT", path, { body });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) {
      printJson(ctx, res.body);
      return EXIT.ok;
    }
    const updated = unwrap<Program>(res.body, "program");
    ctx.io.out(`Updated program ${id} to revision ${updated.revision}.`);
    printRollouts(ctx, res.body.rollouts, "No lamp's calendar uses it: nothing to deliver.");
    return EXIT.ok;
  },
};

const remove: Command = {
  name: "programs delete",
  summary: "delete a program no calendar names",
  positionals: ["ID"],
  async run(ctx, { positionals }) {
    const id = positionals[0] as string;
    const res = await ctx.api.request<unknown>("DELETE", resourcePath("programs", id));
    if (res.kind !== "ok") return failure(ctx, res);
    ctx.io.out(`Deleted program ${id}.`);
    return EXIT.ok;
  },
};

export const programCommands: readonly Command[] = [list, show, create, update, remove];
