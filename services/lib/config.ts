// One zod schema per service, parsed once at start-up from `config/<service>.json` (optional) and the
// environment, every error reported together, the result deep-frozen and passed in as an argument.
// No other module reads process.env (STYLE.md, habit 2).
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";

/** Maps an environment variable to a dotted path in the config object, e.g. `INFLUX_URL` → `influx.url`. */
export type EnvMap = Readonly<Record<string, string>>;

export class ConfigError extends Error {
  readonly issues: readonly string[];
  constructor(service: string, issues: readonly string[]) {
    super(`invalid configuration for ${service}:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export type LoadOptions = {
  /** Environment to read (pass `process.env` from main.ts only). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folder of `<service>.json` files; default `config/` at the repository root. */
  configDir?: string;
  /** Extra values, highest precedence (tests, programmatic use). */
  overrides?: Record<string, unknown>;
};

const REPO_ROOT = resolve(import.meta.dirname, "../..");

export function loadConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  envMap: EnvMap,
  opts: LoadOptions = {},
): Readonly<z.infer<S>> {
  const issues: string[] = [];
  const configDir = opts.configDir ?? resolve(REPO_ROOT, "config");
  const file = resolve(configDir, `${service}.json`);
  let base: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      base = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (err) {
      issues.push(`${file}: not valid JSON (${(err as Error).message})`);
    }
  }
  const merged = structuredClone(base);
  for (const [name, path] of Object.entries(envMap)) {
    const raw = opts.env?.[name];
    const fromFile = opts.env?.[`${name}_FILE`];
    if (raw !== undefined && raw !== "") setPath(merged, path, coerce(raw));
    else if (fromFile) {
      // Docker's secrets convention: X_FILE names a file holding X (a token, a password), so secrets stay out
      // of the environment and of `docker inspect`. Kept as a string, trailing newline removed.
      try {
        setPath(merged, path, readFileSync(fromFile, "utf8").replace(/\r?\n$/, ""));
      } catch (err) {
        issues.push(
          `${path} (env ${name}_FILE): cannot read ${fromFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
      }
    }
  }
  if (opts.overrides) deepMerge(merged, opts.overrides);
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const envByPath = new Map(Object.entries(envMap).map(([k, v]) => [v, k]));
    for (const issue of parsed.error.issues) {
      const path = issue.path.join(".");
      // A missing section names the variables that would fill it (e.g. influx → INFLUX_URL, INFLUX_TOKEN, …).
      const env =
        envByPath.get(path) ??
        (Object.entries(envMap)
          .filter(([, p]) => p.startsWith(`${path}.`))
          .map(([name]) => name)
          .join(", ") ||
          undefined);
      issues.push(`${path || "(root)"}${env ? ` (env ${env})` : ""}: ${issue.message}`);
    }
  }
  if (issues.length > 0) throw new ConfigError(service, issues);
  return deepFreeze(parsed.data as z.infer<S>);
}

/** Environment values are strings; numbers and booleans are recognised so that zod sees their real type. */
function coerce(raw: string): unknown {
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(raw) && raw.length < 16) return Number(raw);
  return raw;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== "object" || next === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1] as string] = value;
}

function deepMerge(target: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(src)) {
    const t = target[k];
    if (isPlainObject(v) && isPlainObject(t)) deepMerge(t, v);
    else target[k] = v;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Common schema pieces. */
export const portSchema = z.number().int().min(0).max(65535);
export const logLevelSchema = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
