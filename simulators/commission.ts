// Demo commissioning (issue 3: `npm start`'s fleet comes up commissioned): once the fleet is live, start
// commissioning for its devices that are not commissioned yet, follow each run until it finishes, sign off
// the passed ones and log a summary with the failed checks. Paced to stay well inside the API's rate limit.
//   POST /v1/commissioning {ids}                     → {started: [ids], issues: [{id, message}]}
//   GET  /v1/devices/:id/commissioning               → the latest run {status, checks: [{name, status, detail}]}
//   POST /v1/commissioning/sign-off {ids, note}      → {signed_off: [ids], not_ready: [{id, reason}]}
// Transient failures (unreachable, 5xx, 429) are retried with backoff (api.ts); a run already in progress is
// simply followed.
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import { RUN_STATUSES } from "../services/contract/devices.ts";
import type { Logger } from "../services/lib/log.ts";
import type { Api, RetryPolicy } from "./api.ts";
import { chunks } from "./credentials.ts";

const MAX_IDS = 1000;

export const commissioningRun = z.object({
  status: z.enum(RUN_STATUSES),
  checks: z
    .array(z.object({ name: z.string(), status: z.string(), detail: z.string().nullish() }))
    .default([]),
});
export type CommissioningRun = z.infer<typeof commissioningRun>;

export type CommissionOptions = {
  /** Polls in flight at once. */
  concurrency: number;
  /** Least time between two polls of the same device, ms. */
  pollIntervalMs: number;
  /** Polls per second across the fleet (the API limits requests per token and minute). */
  maxRequestsPerS: number;
  /** Give up following runs after this long, ms. */
  timeoutMs: number;
  note: string;
  /** Runs a device gets at most (failed ones are run again); default 3. */
  attempts?: number;
  retry: RetryPolicy;
  signal?: AbortSignal;
  /** Injected in unit tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

export type CommissionSummary = {
  requested: number;
  commissioned: string[];
  failed: { id: string; checks: { name: string; detail: string }[] }[];
  /** Not started (the API said why), cancelled, not signed off, or still running at the timeout. */
  other: { id: string; why: string }[];
};

/**
 * Commissions the devices; runs that fail are run again (up to `attempts` runs a device), as an engineer re-runs a
 * commissioning that a passing delay upset: a simulated device fails only by such chance (a late reading on a
 * loaded machine), or by a simulated fault that is still there the next time.
 */
export async function commissionFleet(
  api: Api,
  ids: readonly string[],
  log: Logger,
  opts: CommissionOptions,
): Promise<CommissionSummary> {
  let summary = await commissionOnce(api, ids, log, opts);
  for (let attempt = 2; attempt <= (opts.attempts ?? 3) && summary.failed.length > 0; attempt++) {
    if (opts.signal?.aborted) break;
    const again = summary.failed.map((f) => f.id);
    log.info({ devices: again.length, attempt }, "commissioning: running the failed ones again");
    const next = await commissionOnce(api, again, log, opts);
    summary = {
      requested: summary.requested,
      commissioned: [...summary.commissioned, ...next.commissioned],
      failed: next.failed,
      other: [...summary.other, ...next.other],
    };
  }
  if (ids.length > 0 && !opts.signal?.aborted) logSummary(summary, log);
  return summary;
}

async function commissionOnce(
  api: Api,
  ids: readonly string[],
  log: Logger,
  opts: CommissionOptions,
): Promise<CommissionSummary> {
  const summary: CommissionSummary = { requested: ids.length, commissioned: [], failed: [], other: [] };
  if (ids.length === 0) return summary;
  const follow: string[] = [];
  for (const chunk of chunks(ids, MAX_IDS)) {
    const answer = await api.request({
      method: "POST",
      path: "/v1/commissioning",
      body: { ids: chunk },
      ...req(opts),
    });
    if (!answer.ok && answer.error !== "run_in_progress") {
      log.error(
        { status: answer.status, error: answer.error, message: answer.message },
        "cannot start commissioning",
      );
      for (const id of chunk) summary.other.push({ id, why: `not started: ${answer.error}` });
      continue;
    }
    const body = (answer.body ?? {}) as { issues?: { id?: unknown; message?: unknown }[] };
    const refused = new Map<string, string>();
    for (const issue of Array.isArray(body.issues) ? body.issues : []) {
      const message = String(issue.message ?? "");
      // A run already in progress is followed like a new one.
      if (typeof issue.id === "string" && !/in.progress|running/i.test(message))
        refused.set(issue.id, message);
    }
    for (const id of chunk) {
      const why = refused.get(id);
      if (why === undefined) follow.push(id);
      else summary.other.push({ id, why: `not started: ${why}` });
    }
  }
  log.info({ devices: follow.length }, "commissioning started; following the runs");
  const runs = await followRuns(api, follow, log, opts);
  if (opts.signal?.aborted) {
    log.info({ finished: runs.size, following: follow.length }, "commissioning: stopped following the runs");
    return summary;
  }
  const passed: string[] = [];
  for (const id of follow) {
    const run = runs.get(id);
    if (!run) summary.other.push({ id, why: "still running at the timeout" });
    else if (run.status === "passed") passed.push(id);
    else if (run.status === "failed") summary.failed.push({ id, checks: failedChecks(run) });
    else summary.other.push({ id, why: run.status });
  }
  for (const chunk of chunks(passed, MAX_IDS)) {
    const answer = await api.request({
      method: "POST",
      path: "/v1/commissioning/sign-off",
      body: { ids: chunk, note: opts.note },
      ...req(opts),
    });
    if (!answer.ok) {
      log.error({ status: answer.status, error: answer.error, message: answer.message }, "sign-off failed");
      for (const id of chunk) summary.other.push({ id, why: `not signed off: ${answer.error}` });
      continue;
    }
    const body = (answer.body ?? {}) as {
      signed_off?: unknown[];
      not_ready?: { id?: unknown; reason?: unknown }[];
    };
    for (const id of body.signed_off ?? []) if (typeof id === "string") summary.commissioned.push(id);
    for (const n of body.not_ready ?? [])
      summary.other.push({ id: String(n.id), why: `not signed off: ${String(n.reason)}` });
  }
  return summary;
}

function req(opts: CommissionOptions) {
  return { retry: opts.retry, ...(opts.signal ? { signal: opts.signal } : {}) };
}

export function failedChecks(run: CommissioningRun): { name: string; detail: string }[] {
  return run.checks
    .filter((c) => c.status === "failed")
    .map((c) => ({ name: c.name, detail: c.detail ?? "" }));
}

/**
 * Polls each device's latest run until it is no longer running: `concurrency` polls in flight, request starts
 * spaced by 1/maxRequestsPerS, each device at most every pollIntervalMs. Returns the finished runs.
 */
export async function followRuns(
  api: Api,
  ids: readonly string[],
  log: Logger,
  opts: CommissionOptions,
): Promise<Map<string, CommissioningRun>> {
  const now = opts.now ?? Date.now;
  const signal = opts.signal ? { signal: opts.signal } : {};
  const sleep = opts.sleep ?? ((ms: number) => delay(ms, undefined, signal).catch(() => undefined));
  const done = new Map<string, CommissioningRun>();
  const deadline = now() + opts.timeoutMs;
  const spacingMs = 1000 / opts.maxRequestsPerS;
  // Due times: nobody is polled before a run has had time to do anything.
  const queue = ids.map((id) => ({ id, due: now() + opts.pollIntervalMs }));
  let nextSlot = now();
  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      queue.sort((a, b) => a.due - b.due);
      const item = queue.shift();
      if (!item) return;
      const slot = Math.max(item.due, nextSlot, now());
      if (slot > deadline) return;
      nextSlot = slot + spacingMs;
      if (slot > now()) await sleep(slot - now());
      if (opts.signal?.aborted) return;
      const answer = await api.request({
        method: "GET",
        path: `/v1/devices/${encodeURIComponent(item.id)}/commissioning`,
        ...req(opts),
      });
      const run = answer.ok ? commissioningRun.safeParse(answer.body) : undefined;
      if (run?.success && run.data.status !== "running") {
        done.set(item.id, run.data);
        continue;
      }
      if (!answer.ok) log.debug({ deviceId: item.id, status: answer.status }, "commissioning poll failed");
      queue.push({ id: item.id, due: now() + opts.pollIntervalMs });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, ids.length)) }, worker));
  return done;
}

function logSummary(s: CommissionSummary, log: Logger): void {
  const failures = s.failed.map((f) => `${f.id} (${f.checks.map((c) => c.name).join(", ") || "?"})`);
  log.info(
    { commissioned: s.commissioned.length, failed: s.failed, other: s.other },
    `commissioning: ${s.commissioned.length}/${s.requested} commissioned` +
      (failures.length ? `; failed: ${failures.join("; ")}` : "") +
      (s.other.length ? `; ${s.other.length} other (see "other")` : ""),
  );
}
