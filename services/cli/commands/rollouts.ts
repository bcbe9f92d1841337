// `rollouts`: the deliveries of calendars and overrides to lamps — the recent ones, one's progress (live with
// --watch), and its lamps one by one (--state rejected: which lamps refused, and why).
import { DELIVERY_STATES } from "../../contract/schedule.ts";
import type { Delivery, Rollout } from "../api-types.ts";
import { flag, num, str } from "../args.ts";
import { type Command, type Context, EXIT, failure, printJson, usage } from "../context.ts";
import { formatDeliveries, formatRollout, formatRolloutList } from "../format/rollout.ts";
import { plural } from "../format/table.ts";
import { rolloutPath, watchRollouts } from "./rollout-watch.ts";
import { parseDuration } from "./schedule-syntax.ts";

/** --watch and --timeout, shared by every verb that starts a rollout. */
export const WATCH_OPTIONS = {
  watch: { type: "boolean", description: "follow the delivery: a progress line on every change until done" },
  timeout: {
    type: "string",
    value: "<duration>",
    description: "with --watch: stop watching after this long (90s, 10m, 1h); exit code 1",
  },
} as const;

/** Reads --timeout; a usage error is returned as a message. */
export function watchTimeout(ctx: Context, raw: string | undefined): number | undefined | "bad" {
  if (raw === undefined) return undefined;
  const d = parseDuration("timeout", raw);
  if (!d.ok) {
    usage(ctx, d.message);
    return "bad";
  }
  return d.value;
}

/** "Anfa", "rue-ibnou-rochd", "3 devices": what a progress line is about. */
export function rolloutLabel(r: Pick<Rollout, "id" | "target" | "kind">): string {
  const t = r.target;
  if (t?.ids) return t.ids.length === 1 ? (t.ids[0] as string) : `${t.ids.length} devices`;
  if (t?.id) return t.id;
  return `rollout ${r.id}`;
}

const PAGE = 500;

async function listDeliveries(
  ctx: Context,
  id: string,
  state: string | undefined,
  all: boolean,
  limit?: number,
) {
  const deliveries: Delivery[] = [];
  let after: string | undefined;
  let next: string | null = null;
  do {
    const res = await ctx.api.request<{ deliveries: Delivery[]; next: string | null }>(
      "GET",
      rolloutPath(id, "/deliveries"),
      { query: { state, limit: limit ?? PAGE, after } },
    );
    if (res.kind !== "ok") return res;
    deliveries.push(...res.body.deliveries);
    next = res.body.next ?? null;
    after = next ?? undefined;
  } while (all && next);
  return { kind: "ok" as const, deliveries, next };
}

const rollouts: Command = {
  name: "rollouts",
  summary: "deliveries of calendars and overrides: recent ones, or one's progress (--watch: live)",
  positionals: ["[ID]"],
  json: true,
  options: {
    ...WATCH_OPTIONS,
    state: {
      type: "string",
      value: "<state>",
      choices: DELIVERY_STATES,
      description: `with ID: list its lamps in this state (${DELIVERY_STATES.join(" | ")})`,
    },
    lamps: { type: "boolean", description: "with ID: list its lamps, every state" },
    all: { type: "boolean", description: "with --state/--lamps: follow the pages to the end" },
    limit: { type: "integer", value: "<n>", description: "rollouts (or lamps) to show (API default)" },
  },
  details: [
    "Examples:",
    "  rollouts                          the recent rollouts, newest first",
    "  rollouts 12 --watch               Anfa: 1,204 lamps — applied 1,180 · pending 20 · rejected 4 … until done",
    "  rollouts 12 --state rejected      which lamps refused it, and why",
    "Exit code with --watch: 0 every lamp applied it, 1 some rejected it (or an override expired first, or --timeout).",
  ].join("\n"),
  async run(ctx, { values, positionals }) {
    const id = positionals[0];
    const json = flag(values, "json");
    if (id === undefined) {
      for (const f of ["watch", "state", "lamps", "timeout"])
        if (values[f] !== undefined) return usage(ctx, `--${f} needs a rollout ID`);
      const res = await ctx.api.request<{ rollouts: Rollout[] }>("GET", "/v1/rollouts", {
        query: { limit: num(values, "limit") },
      });
      if (res.kind !== "ok") return failure(ctx, res);
      if (json) printJson(ctx, res.body);
      else if (res.body.rollouts.length === 0) ctx.io.out("no rollouts yet");
      else ctx.io.out(formatRolloutList(res.body.rollouts));
      return EXIT.ok;
    }
    if (!/^\d+$/.test(id)) return usage(ctx, `ID must be a rollout number (got "${id}")`);
    const state = str(values, "state");
    if (state !== undefined || flag(values, "lamps")) {
      if (flag(values, "watch")) return usage(ctx, "--watch and --state/--lamps do not go together");
      const res = await listDeliveries(ctx, id, state, flag(values, "all"), num(values, "limit"));
      if (res.kind !== "ok") return failure(ctx, res);
      if (json) printJson(ctx, { deliveries: res.deliveries, next: res.next });
      else {
        if (res.deliveries.length > 0) ctx.io.out(formatDeliveries(res.deliveries));
        const what = plural(res.deliveries.length, "lamp");
        ctx.io.out(`${what}${state ? ` ${state}` : ""}${res.next ? "; more with --all" : ""}`);
      }
      return EXIT.ok;
    }
    const timeoutMs = watchTimeout(ctx, str(values, "timeout"));
    if (timeoutMs === "bad") return EXIT.usage;
    const res = await ctx.api.request<Rollout>("GET", rolloutPath(id));
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "watch")) {
      return watchRollouts(ctx, [res.body.id], rolloutLabel(res.body), {
        json,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
    }
    if (json) printJson(ctx, res.body);
    else ctx.io.out(formatRollout(res.body));
    return EXIT.ok;
  },
};

export const rolloutCommands: readonly Command[] = [rollouts];
