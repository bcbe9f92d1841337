// The CLI as a function: arguments and I/O in, exit code out, so that tests run it without a process.
import { setTimeout as delay } from "node:timers/promises";
import { parseCommand } from "./args.ts";
import { assignmentCommands } from "./commands/assignments.ts";
import { calendarCommands } from "./commands/calendars.ts";
import { commissioningCommands } from "./commands/commissioning.ts";
import { complianceCommands } from "./commands/compliance.ts";
import { deviceScheduleCommands } from "./commands/device-schedule.ts";
import { deviceCommands } from "./commands/devices.ts";
import { energyCommands } from "./commands/energy.ts";
import { groupCommands } from "./commands/groups.ts";
import { lifecycleCommands } from "./commands/lifecycle.ts";
import { overrideCommands } from "./commands/overrides.ts";
import { programCommands } from "./commands/programs.ts";
import { registerCommands } from "./commands/register.ts";
import { rolloutCommands } from "./commands/rollouts.ts";
import { tokenCommands } from "./commands/tokens.ts";
import { resolveConfig } from "./config.ts";
import { type Command, EXIT, type Output } from "./context.ts";
import { commandHelp, groupHelp, toolHelp } from "./help.ts";
import { createClient } from "./http.ts";

export const COMMANDS: readonly Command[] = [
  ...registerCommands,
  ...deviceCommands,
  ...commissioningCommands,
  ...lifecycleCommands,
  ...tokenCommands,
  ...programCommands,
  ...calendarCommands,
  ...groupCommands,
  ...assignmentCommands,
  ...rolloutCommands,
  ...deviceScheduleCommands,
  ...overrideCommands,
  ...complianceCommands,
  ...energyCommands,
];

/** Commands of two words (`tokens create`, `programs list`, `energy report`). */
const GROUPS = ["tokens", "programs", "calendars", "groups", "energy"];

export type CliIo = {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  io: Output;
  now?: () => Date;
  fetch?: typeof fetch;
  /** Aborted by Ctrl-C (main.ts). */
  signal?: AbortSignal;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  invocation?: string;
  /** The folder of platform.json and secrets/ (default: the repository's .data). */
  dataDir?: string;
};

const HELP = new Set(["--help", "-h", "help"]);
const VALUE_FLAGS = new Set(["--url", "--token"]);

/** Splits off the command's name, wherever --url/--token stand: `--url X list --kind y` → list. */
export function splitCommand(argv: readonly string[]): { words: string[]; rest: string[] } {
  const rest = [...argv];
  const words: string[] = [];
  for (let i = 0; i < rest.length && words.length < 2; ) {
    const arg = rest[i] as string;
    if (VALUE_FLAGS.has(arg)) i += 2;
    else if (arg.startsWith("-")) i += 1;
    else {
      words.push(arg);
      rest.splice(i, 1);
      if (!GROUPS.includes(arg)) break;
    }
  }
  return { words, rest };
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the caller looks at the signal
  }
}

export async function runCli(argv: readonly string[], opts: CliIo): Promise<number> {
  const invocation = opts.invocation ?? "npm run devices --";
  const { io } = opts;
  const { words, rest } = splitCommand(argv);
  const [first, second] = words;
  if (first === undefined || first === "help") {
    const topic = first === "help" ? rest.filter((a) => !a.startsWith("-")).join(" ") : "";
    const cmd = COMMANDS.find((c) => c.name === topic);
    if (cmd) io.out(commandHelp(cmd, invocation));
    else if (argv.some((a) => HELP.has(a)) || first === "help") io.out(toolHelp(COMMANDS, invocation));
    else {
      io.err(toolHelp(COMMANDS, invocation));
      return EXIT.usage;
    }
    return EXIT.ok;
  }
  if (GROUPS.includes(first) && (second === undefined || second === "help")) {
    const asked = rest.some((a) => HELP.has(a)) || second === "help";
    (asked ? io.out : io.err)(groupHelp(first, COMMANDS, invocation));
    return asked ? EXIT.ok : EXIT.usage;
  }
  const name = GROUPS.includes(first) ? `${first} ${second}` : first;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`usage error: unknown command "${name}". Run ${invocation} --help for the list.`);
    return EXIT.usage;
  }
  const parsed = parseCommand(command, rest);
  if (!parsed.ok) {
    io.err(`usage error: ${parsed.message}\nRun ${invocation} ${command.name} --help for its flags.`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.out(commandHelp(command, invocation));
    return EXIT.ok;
  }
  const config = resolveConfig({
    flags: { url: parsed.values.url as string | undefined, token: parsed.values.token as string | undefined },
    env: opts.env,
    principal: command.principal ?? "engineer",
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
  });
  const signal = opts.signal ?? new AbortController().signal;
  const api = createClient({
    url: config.url,
    token: config.token,
    signal,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  return command.run(
    {
      api,
      config,
      io,
      now: opts.now ?? (() => new Date()),
      cwd: opts.cwd,
      signal,
      sleep: opts.sleep ?? abortableSleep,
      invocation,
    },
    parsed,
  );
}
