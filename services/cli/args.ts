// Argument parsing with node:util parseArgs, one spec per command. Usage errors are values (exit code 2), and
// every message names the flag or argument at fault.
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

export type OptionType = "string" | "boolean" | "number" | "integer";
export type OptionSpec = {
  type: OptionType;
  description: string;
  /** Shown in help: `--lat <degrees>`. */
  value?: string;
  required?: boolean;
  /** Allowed values of a string option. */
  choices?: readonly string[];
  /** A string flag that may be given several times (`--point a --point b`): its value is a string[]. */
  multiple?: boolean;
};

export type CommandSpec = {
  /** "list", "tokens create". */
  name: string;
  summary: string;
  /**
   * Positional arguments, in order, e.g. ["ID"]: required, except "[ID]" (optional, only at the end); a last
   * "DEVICE..." takes one or more.
   */
  positionals?: readonly string[];
  options?: Readonly<Record<string, OptionSpec>>;
  /** Accepts --json. */
  json?: boolean;
  /** Extra help text (examples, notes). */
  details?: string;
};

export type Value = string | number | boolean | readonly string[] | undefined;
export type Values = Readonly<Record<string, Value>>;
export type ParsedArgs = { ok: true; values: Values; positionals: string[]; help: boolean };
export type UsageError = { ok: false; message: string };

/** Options every command takes. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: {
    type: "string",
    value: "<url>",
    description: "command service URL (else CITY_API_URL, .data/platform.json)",
  },
  token: {
    type: "string",
    value: "<token>",
    description: "API token (else CITY_API_TOKEN, .data/secrets/*.token); visible to other local users in ps",
  },
  help: { type: "boolean", description: "show this help" },
};

export const JSON_OPTION: OptionSpec = { type: "boolean", description: "print the API's JSON answer" };

export function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...(spec.options ?? {}), ...(spec.json ? { json: JSON_OPTION } : {}), ...COMMON_OPTIONS };
}

const NEGATIVE_NUMBER = /^-\d/;

/**
 * parseArgs refuses `--lon -7.61` as ambiguous, yet every longitude in Casablanca is negative: a negative
 * number after an option that takes a value is joined to it (`--lon=-7.61`).
 */
export function joinNegativeValues(argv: readonly string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith("--") && !arg.includes("=") ? arg.slice(2) : undefined;
    const opt = name ? options[name] : undefined;
    if (opt && opt.type !== "boolean" && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedArgs | UsageError {
  const options = optionsOf(spec);
  const config: ParseArgsOptionsConfig = {};
  for (const [name, opt] of Object.entries(options)) {
    config[name] = { type: opt.type === "boolean" ? "boolean" : "string", multiple: opt.multiple === true };
  }
  (config.help as { short?: string }).short = "h";
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, options),
      options: config,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    return { ok: false, message: usageMessage(err as Error & { code?: string }) };
  }
  const help = parsed.values.help === true;
  if (help) return { ok: true, values: parsed.values, positionals: parsed.positionals, help };

  const arity = positionalArity(spec.positionals ?? []);
  if (parsed.positionals.length < arity.min) {
    return { ok: false, message: `missing argument ${arity.names[parsed.positionals.length]}` };
  }
  if (parsed.positionals.length > arity.max) {
    return { ok: false, message: `unexpected argument "${parsed.positionals[arity.max]}"` };
  }
  const values: Record<string, Value> = {};
  for (const [name, opt] of Object.entries(options)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      if (opt.required) return { ok: false, message: `missing required flag --${name}` };
      continue;
    }
    if (Array.isArray(raw)) {
      const list: string[] = [];
      for (const item of raw) {
        const value = convert(name, opt, item);
        if (typeof value === "object") return value;
        list.push(String(value));
      }
      values[name] = list;
      continue;
    }
    const value = convert(name, opt, raw);
    if (typeof value === "object") return value;
    values[name] = value;
  }
  return { ok: true, values, positionals: parsed.positionals, help: false };
}

/** How many positionals a spec takes: "[ID]" is optional, a last "DEVICE..." repeats. */
export function positionalArity(names: readonly string[]): { min: number; max: number; names: string[] } {
  const bare = names.map((n) => n.replace(/^\[|\]$/g, "").replace(/\.\.\.$/, ""));
  const min = names.filter((n) => !n.startsWith("[")).length;
  const max = names.at(-1)?.endsWith("...") ? Number.POSITIVE_INFINITY : names.length;
  return { min, max, names: bare };
}

function convert(
  name: string,
  opt: OptionSpec,
  raw: string | boolean,
): string | number | boolean | UsageError {
  if (typeof raw === "boolean") return raw;
  if (opt.type === "number" || opt.type === "integer") {
    const n = raw.trim() === "" ? Number.NaN : Number(raw);
    if (!Number.isFinite(n) || (opt.type === "integer" && !Number.isInteger(n))) {
      return {
        ok: false,
        message: `--${name} must be ${opt.type === "integer" ? "a whole number" : "a number"} (got "${raw}")`,
      };
    }
    return n;
  }
  if (raw.trim() === "") return { ok: false, message: `--${name} needs a value` };
  if (opt.choices && !opt.choices.includes(raw)) {
    return { ok: false, message: `--${name} must be one of ${opt.choices.join(", ")} (got "${raw}")` };
  }
  return raw;
}

/** parseArgs' messages, reworded to name the flag first. */
function usageMessage(err: Error & { code?: string }): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${flag ?? err.message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (flag && /does not take an argument/.test(err.message)) return `flag ${flag} takes no value`;
      if (flag && /argument missing|argument is ambiguous/.test(err.message))
        return `flag ${flag} needs a value`;
      return err.message;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return err.message;
    default:
      return err.message;
  }
}

/** Typed readers of parsed values (the spec guarantees the type). */
export const str = (v: Values, name: string): string | undefined => v[name] as string | undefined;
export const num = (v: Values, name: string): number | undefined => v[name] as number | undefined;
export const flag = (v: Values, name: string): boolean => v[name] === true;
/** A `multiple` flag's values (none given: []). */
export const strs = (v: Values, name: string): readonly string[] =>
  (v[name] as readonly string[] | undefined) ?? [];
