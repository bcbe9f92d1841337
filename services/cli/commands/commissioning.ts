// Commissioning from the field: start a run and watch its checks pass or fail as they happen.
import type { CommissioningRun } from "../api-types.ts";
import { flag } from "../args.ts";
import { type Command, type Context, devicePath, EXIT, failure } from "../context.ts";
import { formatEvent, formatOutcome, formatRun, isFinished, transitions } from "../format/run.ts";
import { localTime } from "../format/time.ts";

export const POLL_MS = 1000;
/** How long the watch rides out an unreachable API (a phone hotspot dropping) before giving up. */
export const UNREACHABLE_GIVE_UP_MS = 120_000;

/**
 * Polls the device's latest run every second and prints each check's transitions with time and detail.
 * Returns 0 when the run passed, 1 when it failed or was cancelled, 130 when Ctrl-C stopped the watching
 * (the run itself goes on: watching is read-only).
 */
export async function watchRun(ctx: Context, id: string): Promise<number> {
  let prev: CommissioningRun | null = null;
  let unreachableSince: number | null = null;
  ctx.io.out(`Watching the commissioning of ${id} (Ctrl-C stops watching; the run goes on)`);
  while (!ctx.signal.aborted) {
    const res = await ctx.api.request<CommissioningRun>("GET", devicePath(id, "/commissioning"));
    if (ctx.signal.aborted) break;
    const now = ctx.now();
    if (res.kind === "unreachable") {
      if (unreachableSince === null) {
        unreachableSince = now.getTime();
        ctx.io.err(`${localTime(now)}  ${res.message}; still trying`);
      } else if (now.getTime() - unreachableSince > UNREACHABLE_GIVE_UP_MS) return failure(ctx, res);
    } else if (res.kind === "refused" && res.status === 429) {
      await ctx.sleep(Math.max(1, Number(res.retryAfter) || 1) * 1000, ctx.signal);
      continue;
    } else if (res.kind === "refused") {
      const code = failure(ctx, res);
      if (res.status === 404) ctx.io.err(`Start a run with: ${ctx.invocation} commission ${id}`);
      return code;
    } else {
      if (unreachableSince !== null) ctx.io.err(`${localTime(now)}  reachable again`);
      unreachableSince = null;
      const run = res.body;
      const width = Math.max(8, ...run.checks.map((c) => c.name.length));
      for (const event of transitions(prev, run, now)) ctx.io.out(formatEvent(event, width));
      prev = run;
      if (isFinished(run.status)) {
        ctx.io.out(formatOutcome(run, ctx.invocation));
        return run.status === "passed" ? EXIT.ok : EXIT.failed;
      }
    }
    await ctx.sleep(POLL_MS, ctx.signal);
  }
  ctx.io.err(`Stopped watching; the run goes on. Resume with: ${ctx.invocation} watch ${id}`);
  return EXIT.interrupted;
}

const commission: Command = {
  name: "commission",
  summary: "start (or re-run) commissioning, then watch it live",
  positionals: ["ID"],
  options: { "no-watch": { type: "boolean", description: "start the run and return at once" } },
  details:
    "Exit code: 0 when every check passed (then sign it off), 1 when a check failed or the run was cancelled.",
  async run(ctx, { values, positionals }) {
    const id = positionals[0] as string;
    const noWatch = flag(values, "no-watch");
    const res = await ctx.api.request<CommissioningRun>("POST", devicePath(id, "/commissioning"));
    if (res.kind === "refused" && res.error.error === "run_in_progress" && !noWatch) {
      ctx.io.out(`A run is already in progress for ${id}; watching it.`);
      return watchRun(ctx, id);
    }
    if (res.kind !== "ok") return failure(ctx, res);
    if (noWatch) {
      ctx.io.out(formatRun(res.body));
      ctx.io.out(`Watch it with: ${ctx.invocation} watch ${id}`);
      return EXIT.ok;
    }
    return watchRun(ctx, id);
  },
};

const watch: Command = {
  name: "watch",
  summary: "live view of the device's latest commissioning run",
  positionals: ["ID"],
  details: "Exit code: 0 passed, 1 failed or cancelled, 130 stopped with Ctrl-C (the run goes on).",
  run: (ctx, { positionals }) => watchRun(ctx, positionals[0] as string),
};

export const commissioningCommands: readonly Command[] = [commission, watch];
