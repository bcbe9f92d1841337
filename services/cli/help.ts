// Help texts, generated from the command specs so that they cannot drift from what is parsed.
import { type CommandSpec, type OptionSpec, optionsOf } from "./args.ts";

const GROUPS: readonly { title: string; names: readonly string[] }[] = [
  { title: "Register", names: ["register", "import"] },
  { title: "Look", names: ["list", "show", "history"] },
  { title: "Commission", names: ["commission", "watch", "identify", "sign-off"] },
  { title: "Maintain", names: ["correct", "rotate", "replace", "decommission"] },
  { title: "Access", names: ["tokens create", "tokens list", "tokens revoke", "whoami"] },
  {
    title: "Dimming programs and calendars",
    names: [
      "programs list",
      "programs show",
      "programs create",
      "programs update",
      "programs delete",
      "calendars list",
      "calendars show",
      "calendars create",
      "calendars update",
      "calendars delete",
      "calendars preview",
    ],
  },
  {
    title: "Groups and assignment",
    names: [
      "groups list",
      "groups show",
      "groups create",
      "groups add",
      "groups remove",
      "groups delete",
      "assign",
      "unassign",
      "assignments",
      "rollouts",
      "schedule",
    ],
  },
  { title: "Overrides", names: ["override", "overrides", "cancel-override"] },
  { title: "Check", names: ["compliance"] },
  { title: "Energy and savings", names: ["energy report", "energy rollups", "energy rebuild"] },
];

/** "show ID" */
function usageOf(c: CommandSpec): string {
  return [c.name, ...(c.positionals ?? [])].join(" ");
}

function optionLine(name: string, opt: OptionSpec): [string, string] {
  const value = opt.type === "boolean" ? "" : ` ${opt.value ?? "<value>"}`;
  return [`--${name}${value}`, `${opt.required ? "(required) " : ""}${opt.description}`];
}

function columns(rows: readonly [string, string][], indent = "  ", minWidth = 0): string {
  const width = Math.max(minWidth, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`).join("\n");
}

export function toolHelp(commands: readonly CommandSpec[], invocation: string): string {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const width = Math.max(...commands.map((c) => usageOf(c).length));
  const groups = GROUPS.map(({ title, names }) => {
    const rows = names
      .map((n) => byName.get(n))
      .filter((c): c is CommandSpec => c !== undefined)
      .map((c): [string, string] => [usageOf(c), c.summary]);
    return `${title}:\n${columns(rows, "  ", width)}`;
  });
  return [
    "Field and operations tool of the city telemetry platform: register devices, commission them, sign them off;",
    "put dimming calendars on streetlights, override them, watch the delivery, check that lamps obey;",
    "report the energy the LED retrofit and the dimming saved.",
    "",
    `Usage: ${invocation} <command> [arguments] [flags]`,
    `       ${invocation} <command> --help`,
    "",
    ...groups.flatMap((g) => [g, ""]),
    "Every command takes:",
    columns(Object.entries(optionsOf({ name: "", summary: "" })).map(([n, o]) => optionLine(n, o))),
    "",
    "Where the API and the token come from, first found wins:",
    "  URL    --url, CITY_API_URL, .data/platform.json (written by npm start), http://127.0.0.1:8080",
    "  token  --token, CITY_API_TOKEN, .data/secrets/engineer.token (admin.token: tokens …; energy-manager.token: energy …)",
    "Roles: operators may read schedules and override; engineers and admins may also edit programs, calendars,",
    "groups and assignments; energy managers (and admins) read energy reports and rebuild their rollups.",
    "",
    "Exit codes: 0 ok, 1 refused by the API or failed, 2 usage error, 3 API unreachable, 130 Ctrl-C.",
    "Times are Casablanca local time.",
  ].join("\n");
}

export function commandHelp(spec: CommandSpec, invocation: string): string {
  const options = optionsOf(spec);
  const required = Object.entries(options)
    .filter(([, o]) => o.required)
    .map(([n, o]) => `--${n} ${o.value ?? "<value>"}`);
  const usage = [invocation, spec.name, ...(spec.positionals ?? []), ...required, "[flags]"].join(" ");
  return [
    `${spec.name}: ${spec.summary}`,
    "",
    `Usage: ${usage}`,
    "",
    "Flags:",
    columns(Object.entries(options).map(([n, o]) => optionLine(n, o))),
    ...(spec.details ? ["", spec.details] : []),
  ].join("\n");
}

/** The tokens group's own help (`tokens --help`). */
export function groupHelp(prefix: string, commands: readonly CommandSpec[], invocation: string): string {
  const rows = commands
    .filter((c) => c.name.startsWith(`${prefix} `))
    .map((c): [string, string] => [usageOf(c), c.summary]);
  return [`Usage: ${invocation} ${prefix} <command> [flags]`, "", columns(rows)].join("\n");
}
