// What every command gets: the API client, where its config came from, output streams, a clock, and a signal
// that Ctrl-C aborts. Commands return their exit code.
import type { CommandSpec, ParsedArgs } from "./args.ts";
import type { CliConfig, Principal } from "./config.ts";
import { formatRefusal } from "./format/errors.ts";
import type { ApiClient, Outcome } from "./http.ts";

/** 0 ok, 1 the API refused or the operation failed, 2 usage error, 3 the API cannot be reached. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, interrupted: 130 } as const;

export type Output = { out(text: string): void; err(text: string): void };

export type Context = {
  api: ApiClient;
  config: CliConfig;
  io: Output;
  now(): Date;
  /** Resolves relative paths (--secret-out, CSV files). */
  cwd: string;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** How the user invokes the CLI, for "next step" hints. */
  invocation: string;
};

export type Command = CommandSpec & {
  /** The local token file used when no --token or CITY_API_TOKEN is given. */
  principal?: Principal;
  run(ctx: Context, args: ParsedArgs): Promise<number>;
};

/** Prints why a request did not succeed; returns the exit code for it. */
export function failure(ctx: Context, outcome: Exclude<Outcome<unknown>, { kind: "ok" }>): number {
  if (ctx.signal.aborted) {
    ctx.io.err("interrupted");
    return EXIT.interrupted;
  }
  if (outcome.kind === "unreachable") {
    ctx.io.err(`error: ${outcome.message} (URL from ${ctx.config.urlSource})`);
    return EXIT.unreachable;
  }
  ctx.io.err(formatRefusal(outcome.status, outcome.error, ctx.config, outcome.retryAfter));
  return EXIT.failed;
}

export function printJson(ctx: Context, value: unknown): void {
  ctx.io.out(JSON.stringify(value, null, 2));
}

/** `/v1/devices/sl%2Fx`: ids go into paths encoded. */
export function devicePath(id: string, rest = ""): string {
  return `/v1/devices/${encodeURIComponent(id)}${rest}`;
}

/** A usage problem found after parsing (a value of the wrong form): exit code 2. */
export function usage(ctx: Context, message: string): number {
  ctx.io.err(`usage error: ${message}`);
  return EXIT.usage;
}
