// Watching rollouts go out (`rollouts ID --watch`, `assign --watch`, `override --watch`): poll the rollouts
// every second and print a progress line whenever the counts move, until every lamp has answered. Built like
// the commissioning watch (commissioning.ts): read-only, rides out a dropped connection for a while, honours
// 429's Retry-After, and Ctrl-C stops only the watching — the delivery goes on on the platform.
import type { Rollout } from "../api-types.ts";
import { type Context, EXIT, failure, printJson } from "../context.ts";
import { count, formatRejected, openCount, progressLine, sumCounts } from "../format/rollout.ts";
import { duration, localTime } from "../format/time.ts";
import { POLL_MS, UNREACHABLE_GIVE_UP_MS } from "./commissioning.ts";

/** After this long without a change, say once why the watch may not end (lamps offline). */
export const QUIET_HINT_MS = 60_000;

export type WatchOptions = {
  /** Stop watching (exit 1) after this long; none: until done or Ctrl-C. */
  timeoutMs?: number;
  /** Print the final rollouts as JSON instead of progress lines. */
  json?: boolean;
};

export const rolloutPath = (id: number | string, rest = "") =>
  `/v1/rollouts/${encodeURIComponent(String(id))}${rest}`;

/**
 * Prints "HH:MM:SS  Anfa: 1,204 lamps — applied 1,180 · pending 20 · rejected 4" on every change until all
 * rollouts are done. Exit code: 0 when every lamp applied it, 1 when some rejected it, an override expired
 * before reaching some, or the timeout passed; 130 on Ctrl-C.
 */
export async function watchRollouts(
  ctx: Context,
  ids: readonly number[],
  label: string,
  opts: WatchOptions = {},
): Promise<number> {
  if (ids.length === 0) {
    if (opts.json) printJson(ctx, { rollouts: [] });
    else ctx.io.out(`${label}: nothing to deliver, every lamp concerned already holds it.`);
    return EXIT.ok;
  }
  const started = ctx.now().getTime();
  let unreachableSince: number | null = null;
  let lastLine = "";
  let lastChange = started;
  let hinted = false;
  let latest: Rollout[] = [];
  if (!opts.json)
    ctx.io.out(
      `Watching ${ids.map((i) => `rollout ${i}`).join(", ")} (Ctrl-C stops watching; delivery goes on)`,
    );
  while (!ctx.signal.aborted) {
    const polled = await pollAll(ctx, ids);
    if (ctx.signal.aborted) break;
    const now = ctx.now().getTime();
    if (polled.kind === "unreachable") {
      if (unreachableSince === null) {
        unreachableSince = now;
        ctx.io.err(`${localTime(now)}  ${polled.outcome.message}; still trying`);
      } else if (now - unreachableSince > UNREACHABLE_GIVE_UP_MS) return failure(ctx, polled.outcome);
    } else if (polled.kind === "busy") {
      await ctx.sleep(polled.retryS * 1000, ctx.signal);
      continue;
    } else if (polled.kind === "refused") return failure(ctx, polled.outcome);
    else {
      if (unreachableSince !== null) ctx.io.err(`${localTime(now)}  reachable again`);
      unreachableSince = null;
      latest = polled.rollouts;
      const line = progressLine(label, latest);
      if (line !== lastLine) {
        if (!opts.json) ctx.io.out(`${localTime(now)}  ${line}`);
        lastLine = line;
        lastChange = now;
      }
      if (latest.every((r) => r.done)) return finish(ctx, latest, label, now - started, opts);
      if (!hinted && !opts.json && now - lastChange >= QUIET_HINT_MS) {
        hinted = true;
        const open = openCount(sumCounts(latest));
        ctx.io.out(
          `  no change for ${duration(now - lastChange)}: ${count(open)} still open; lamps that are offline get it when they reconnect.`,
        );
      }
      if (opts.timeoutMs !== undefined && now - started >= opts.timeoutMs) {
        if (opts.json) printJson(ctx, { rollouts: latest });
        ctx.io.err(
          `Not done after ${duration(now - started)}: ${count(openCount(sumCounts(latest)))} lamps still open. The delivery goes on; follow it with: ${ctx.invocation} rollouts ${ids[0]} --watch`,
        );
        return EXIT.failed;
      }
    }
    await ctx.sleep(POLL_MS, ctx.signal);
  }
  ctx.io.err(`Stopped watching; delivery goes on. Resume with: ${ctx.invocation} rollouts ${ids[0]} --watch`);
  return EXIT.interrupted;
}

type Polled =
  | { kind: "ok"; rollouts: Rollout[] }
  | { kind: "busy"; retryS: number }
  | { kind: "unreachable"; outcome: { kind: "unreachable"; message: string } }
  | { kind: "refused"; outcome: Exclude<Parameters<typeof failure>[1], { kind: "unreachable" }> };

async function pollAll(ctx: Context, ids: readonly number[]): Promise<Polled> {
  const rollouts: Rollout[] = [];
  for (const id of ids) {
    const res = await ctx.api.request<Rollout>("GET", rolloutPath(id));
    if (res.kind === "unreachable") return { kind: "unreachable", outcome: res };
    if (res.kind === "refused" && res.status === 429)
      return { kind: "busy", retryS: Math.max(1, Number(res.retryAfter) || 1) };
    if (res.kind === "refused") return { kind: "refused", outcome: res };
    rollouts.push(res.body);
  }
  return { kind: "ok", rollouts };
}

function finish(ctx: Context, list: Rollout[], label: string, tookMs: number, opts: WatchOptions): number {
  const c = sumCounts(list);
  const failed = c.rejected + c.expired;
  if (opts.json) {
    printJson(ctx, { rollouts: list });
    return failed > 0 ? EXIT.failed : EXIT.ok;
  }
  const total = list.reduce((n, r) => n + r.total, 0);
  const parts = [`applied ${count(c.applied)}`];
  if (c.rejected > 0) parts.push(`rejected ${count(c.rejected)}`);
  if (c.expired > 0) parts.push(`expired ${count(c.expired)}`);
  if (c.superseded > 0) parts.push(`superseded ${count(c.superseded)}`);
  ctx.io.out(`Done in ${duration(tookMs)}: ${label}, ${count(total)} lamps — ${parts.join(", ")}.`);
  const sample = list.flatMap((r) => r.rejected_sample ?? []);
  if (sample.length > 0) {
    ctx.io.out(formatRejected(sample));
    const first = list.find((r) => r.counts.rejected > 0) ?? list[0];
    ctx.io.out(`Every refusal: ${ctx.invocation} rollouts ${first?.id} --state rejected`);
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}
