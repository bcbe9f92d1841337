// `calendars …`: TALQ calendars — ordered rules naming programs (first match wins) and a default program — and
// `calendars preview`, the nights a calendar makes at a lamp's position, before it is assigned anywhere.
import type { CalendarBody, CalendarRule } from "../../contract/schedule.ts";
import { nightOf } from "../../schedule/zone.ts";
import type { Calendar, PreviewNight, RolloutSummary } from "../api-types.ts";
import { flag, num, type OptionSpec, str, strs, type Values } from "../args.ts";
import { type Command, type Context, EXIT, failure, printJson, usage } from "../context.ts";
import { formatCalendar, formatCalendarList, formatPreview } from "../format/schedule.ts";
import { printRollouts, readJsonFile, resourcePath, unwrap } from "./schedule-shared.ts";
import { parseRule } from "./schedule-syntax.ts";

const RULE_HELP = [
  'Rules: --rule "key=value;key=value", repeat in priority order (the first that matches a night wins). Keys:',
  "  program (required)  from, to (YYYY-MM-DD, inclusive)  weekdays (fri,sat or mon-fri)",
  "  nth (1:sat, last:fri) with months (6,7 or jun,jul)  dates (2026-11-28,2026-12-05)  name",
  "A night is named by the date its evening falls on; all keys given must hold.",
].join("\n");

const FIELD_OPTIONS: Record<string, OptionSpec> = {
  name: { type: "string", value: "<text>", description: 'what the calendar is, e.g. "Anfa 2026"' },
  description: { type: "string", value: "<text>", description: "longer note" },
  default: { type: "string", value: "<program>", description: "program for nights no rule matches" },
  rule: {
    type: "string",
    value: "<rule>",
    multiple: true,
    description: 'a rule, repeat in priority order: "program=match;dates=2026-11-28;name=match night"',
  },
  "no-rules": { type: "boolean", description: "update: remove every rule (only the default remains)" },
  file: {
    type: "string",
    value: "<file.json>",
    description: "the calendar as JSON {name, description, rules, default_program}; flags given override it",
  },
};

export function parseRules(
  raw: readonly string[],
): { ok: true; rules: CalendarRule[] } | { ok: false; message: string } {
  const rules: CalendarRule[] = [];
  for (const [i, text] of raw.entries()) {
    const r = parseRule(text);
    if (!r.ok) return { ok: false, message: `--rule ${raw.length > 1 ? `#${i + 1} ` : ""}${r.message}` };
    rules.push(r.value);
  }
  return { ok: true, rules };
}

function calendarBody(
  ctx: Context,
  values: Values,
  base: Partial<CalendarBody>,
): Partial<CalendarBody> | number {
  let body: Partial<CalendarBody> = { ...base };
  const file = str(values, "file");
  if (file) {
    const json = readJsonFile(ctx, file);
    if ("error" in json) {
      ctx.io.err(`error: ${json.error}`);
      return EXIT.failed;
    }
    const { id: _id, ...rest } = json;
    body = { ...body, ...(rest as Partial<CalendarBody>) };
  }
  for (const [flagName, field] of [
    ["name", "name"],
    ["description", "description"],
    ["default", "default_program"],
  ] as const) {
    const v = str(values, flagName);
    if (v !== undefined) body[field] = v;
  }
  const raw = strs(values, "rule");
  if (raw.length > 0 && flag(values, "no-rules"))
    return usage(ctx, "--rule and --no-rules do not go together");
  if (flag(values, "no-rules")) body.rules = [];
  if (raw.length > 0) {
    const rules = parseRules(raw);
    if (!rules.ok) return usage(ctx, rules.message);
    body.rules = rules.rules;
  }
  return body;
}

const list: Command = {
  name: "calendars list",
  summary: "calendars: rules, default program, revision",
  json: true,
  async run(ctx, { values }) {
    const res = await ctx.api.request<{ calendars: Calendar[] }>("GET", "/v1/calendars");
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else
      ctx.io.out(
        res.body.calendars.length === 0 ? "no calendars yet" : formatCalendarList(res.body.calendars),
      );
    return EXIT.ok;
  },
};

const show: Command = {
  name: "calendars show",
  summary: "one calendar: its rules in order, where it is assigned, how many lamps it reaches",
  positionals: ["ID"],
  json: true,
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<Calendar>("GET", resourcePath("calendars", positionals[0] as string));
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatCalendar(res.body));
    return EXIT.ok;
  },
};

const create: Command = {
  name: "calendars create",
  summary: "create a calendar from --default and --rule flags, or a JSON file",
  positionals: ["ID"],
  json: true,
  options: FIELD_OPTIONS,
  details: `${RULE_HELP}\n\nExample: calendars create anfa-2026 --name "Anfa 2026" --default midnight-dim \\\n  --rule "program=match;dates=2026-11-28,2026-12-05;name=match night" \\\n  --rule "program=weekend;weekdays=fri,sat;name=weekend"`,
  async run(ctx, { values, positionals }) {
    const id = positionals[0] as string;
    if (flag(values, "no-rules"))
      return usage(ctx, "--no-rules is for update; a new calendar without --rule has none");
    const body = calendarBody(ctx, values, {});
    if (typeof body === "number") return body;
    if (body.name === undefined) return usage(ctx, "give --name (or a name in --file)");
    if (body.default_program === undefined)
      return usage(ctx, "give --default PROGRAM (or default_program in --file)");
    const res = await ctx.api.request<Calendar>("POST", "/v1/calendars", { body: { id, ...body } });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else {
      ctx.io.out(`Created calendar ${id}.\n${formatCalendar(res.body)}`);
      ctx.io.out(`Check its nights with: ${ctx.invocation} calendars preview ${id}`);
    }
    return EXIT.ok;
  },
};

const update: Command = {
  name: "calendars update",
  summary: "change a calendar (revision + 1); lamps resolved to it get the new version",
  positionals: ["ID"],
  json: true,
  options: FIELD_OPTIONS,
  details: `Only what is given changes; --rule flags replace all the rules.\n${RULE_HELP}`,
  async run(ctx, { values, positionals }) {
    const id = positionals[0] as string;
    if (!["name", "description", "default", "rule", "no-rules", "file"].some((f) => values[f] !== undefined))
      return usage(ctx, "give at least one of --name, --description, --default, --rule, --no-rules, --file");
    const path = resourcePath("calendars", id);
    const current = await ctx.api.request<Calendar>("GET", path);
    if (current.kind !== "ok") return failure(ctx, current);
    const c = current.body;
    const base: Partial<CalendarBody> = { name: c.name, rules: c.rules, default_program: c.default_program };
    if (c.description) base.description = c.description;
    const body = calendarBody(ctx, values, base);
    if (typeof body === "number") return body;
    const res = await ctx.api.request<{ calendar: Calendar; rollouts?: RolloutSummary[] }>("PUT", path, {
      body,
    });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) {
      printJson(ctx, res.body);
      return EXIT.ok;
    }
    ctx.io.out(`Updated calendar ${id} to revision ${unwrap<Calendar>(res.body, "calendar").revision}.`);
    printRollouts(ctx, res.body.rollouts, "No lamp is resolved to it: nothing to deliver.");
    return EXIT.ok;
  },
};

const remove: Command = {
  name: "calendars delete",
  summary: "delete a calendar that is not assigned anywhere",
  positionals: ["ID"],
  async run(ctx, { positionals }) {
    const id = positionals[0] as string;
    const res = await ctx.api.request<unknown>("DELETE", resourcePath("calendars", id));
    if (res.kind !== "ok") return failure(ctx, res);
    ctx.io.out(`Deleted calendar ${id}.`);
    return EXIT.ok;
  },
};

const preview: Command = {
  name: "calendars preview",
  summary: "the nights a calendar makes: matched rule, program, switch times (local) at a lamp or a position",
  positionals: ["ID"],
  json: true,
  options: {
    device: { type: "string", value: "<id>", description: "at this streetlight's position" },
    lat: { type: "number", value: "<degrees>", description: "or at this latitude (with --lon)" },
    lon: { type: "number", value: "<degrees>", description: "and longitude" },
    from: { type: "string", value: "<YYYY-MM-DD>", description: "first night (default: tonight)" },
    nights: { type: "integer", value: "<n>", description: "how many nights (default 7)" },
  },
  details:
    "Without --device or --lat/--lon, the city centre's position is used.\nExample: calendars preview anfa-2026 --from 2026-11-27 --nights 3 --device sl-anfa-0042",
  async run(ctx, { values, positionals }) {
    const lat = num(values, "lat");
    const lon = num(values, "lon");
    if ((lat === undefined) !== (lon === undefined)) return usage(ctx, "give --lat and --lon together");
    if (lat !== undefined && str(values, "device"))
      return usage(ctx, "give --device or --lat/--lon, not both");
    const from = str(values, "from") ?? nightOf(ctx.now().getTime());
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from))
      return usage(ctx, `--from must be a date YYYY-MM-DD (got "${from}")`);
    const nights = num(values, "nights");
    if (nights !== undefined && (nights < 1 || nights > 366))
      return usage(ctx, `--nights must be 1 to 366 (got ${nights})`);
    const res = await ctx.api.request<{ nights: PreviewNight[] }>(
      "GET",
      resourcePath("calendars", positionals[0] as string, "/preview"),
      { query: { device: str(values, "device"), lat, lon, from, nights } },
    );
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatPreview(res.body.nights));
    return EXIT.ok;
  },
};

export const calendarCommands: readonly Command[] = [list, show, create, update, remove, preview];
