// What the schedule verbs share: resource paths, reading a --file of JSON, and saying which rollouts a change
// started (the API answers at once; delivery goes on behind it).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { RolloutSummary } from "../api-types.ts";
import type { Context } from "../context.ts";
import { summaryLine } from "../format/rollout.ts";

/** `/v1/programs/midnight-dim`, ids encoded. */
export function resourcePath(
  kind: "programs" | "calendars" | "groups" | "overrides",
  id: string,
  rest = "",
): string {
  return `/v1/${kind}/${encodeURIComponent(id)}${rest}`;
}

/** The JSON object in --file (relative to where the user typed the command); an error message otherwise. */
export function readJsonFile(ctx: Context, file: string): Record<string, unknown> | { error: string } {
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    return {
      error: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    };
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    return { error: `${path} must hold a JSON object` };
  } catch (err) {
    return { error: `${path} is not JSON: ${(err as Error).message}` };
  }
}

/** "Delivery started: rollout 12: calendar midnight-dim v37 to 1,204 lamps", one line per rollout. */
export function printRollouts(
  ctx: Context,
  rollouts: readonly RolloutSummary[] | undefined,
  none?: string,
  /** Leave out the "Follow it with" hint (when the command watches them itself). */
  watching = false,
): void {
  if (!rollouts || rollouts.length === 0) {
    if (none) ctx.io.out(none);
    return;
  }
  for (const r of rollouts) ctx.io.out(`Delivery started: ${summaryLine(r)}`);
  if (watching) return;
  const ids = rollouts.map((r) => r.id);
  ctx.io.out(
    `Follow it with: ${ctx.invocation} rollouts ${ids[0]} --watch${ids.length > 1 ? ` (and ${ids.slice(1).join(", ")})` : ""}`,
  );
}

/** Answers are either the record or `{program: record, rollouts}`; both are read. */
export function unwrap<T>(body: T | Record<string, unknown>, key: string): T {
  const inner = (body as Record<string, unknown>)[key];
  return (inner && typeof inner === "object" && !Array.isArray(inner) ? inner : body) as T;
}
