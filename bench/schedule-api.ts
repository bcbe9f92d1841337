// Section K's calls to the command service's schedule API (design .design/issue4.md): programs and the calendar
// created first, then the measured PUT /v1/assignments, then GET /v1/rollouts/{id} every 200 ms until every
// lamp has applied the calendar (or rejected it, or the time is up).
import { setTimeout as sleep } from "node:timers/promises";
import type { RolloutSummary } from "../services/command/schedules/types.ts";
import { K_CALENDAR, K_DISTRICT, K_PROGRAMS } from "./schedule-fleet.ts";

export type Api = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

export function apiClient(baseUrl: string, token: string): Api {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text for the error message
    }
    return { status: res.status, body: parsed };
  };
}

const brief = (body: unknown) => JSON.stringify(body)?.slice(0, 400);

/** Creates the section's programs and calendar (not measured). A 404 means the routes are not there yet. */
export async function createCalendar(api: Api): Promise<void> {
  for (const p of K_PROGRAMS) {
    const r = await api("POST", "/v1/programs", p);
    if (r.status !== 201 && r.status !== 200)
      throw new Error(`POST /v1/programs ${p.id}: HTTP ${r.status} ${brief(r.body)}`);
  }
  const r = await api("POST", "/v1/calendars", K_CALENDAR);
  if (r.status !== 201 && r.status !== 200)
    throw new Error(`POST /v1/calendars ${K_CALENDAR.id}: HTTP ${r.status} ${brief(r.body)}`);
}

/** The measured call: the calendar on the whole district. Answers the rollouts it started and its latency. */
export async function assignDistrict(api: Api): Promise<{ rollouts: RolloutSummary[]; latencyMs: number }> {
  const t0 = performance.now();
  const r = await api("PUT", "/v1/assignments", {
    target: { type: "district", id: K_DISTRICT },
    calendar: K_CALENDAR.id,
  });
  const latencyMs = performance.now() - t0;
  if (r.status !== 202) throw new Error(`PUT /v1/assignments: HTTP ${r.status} ${brief(r.body)}`);
  const rollouts = (r.body as { rollouts?: RolloutSummary[] }).rollouts ?? [];
  if (rollouts.length === 0) throw new Error(`PUT /v1/assignments started no rollout: ${brief(r.body)}`);
  return { rollouts, latencyMs };
}

export type RolloutCounts = {
  pending: number;
  delivered: number;
  applied: number;
  rejected: number;
  expired: number;
  superseded: number;
};
type RolloutView = { id: number; total: number; done: boolean; counts: RolloutCounts };

export type RolloutProgress = {
  /** Until every lamp applied (ms since the PUT started), or undefined when the time ran out first. */
  allAppliedMs: number | undefined;
  total: number;
  counts: RolloutCounts;
  /** Lamps applied at the end of each second since the PUT started. */
  appliedPerSecond: number[];
  polls: number;
  /** Slowest GET /v1/rollouts/{id}, ms. */
  slowestPollMs: number;
};

/**
 * Polls every rollout every `everyMs` until applied = total for all (the target), or all are done (some
 * rejected: the target is missed), or `timeoutMs` passed. `t0` is performance.now() before the PUT.
 */
export async function followRollouts(
  api: Api,
  ids: readonly number[],
  t0: number,
  opts: {
    everyMs: number;
    timeoutMs: number;
    onSecond?: (second: number, applied: number, total: number) => void;
  },
): Promise<RolloutProgress> {
  const appliedPerSecond: number[] = [];
  let polls = 0;
  let slowestPollMs = 0;
  let last: RolloutView[] = [];
  const sum = (k: keyof RolloutCounts) => last.reduce((n, r) => n + (r.counts[k] ?? 0), 0);
  for (;;) {
    const p0 = performance.now();
    last = await Promise.all(
      ids.map(async (id) => {
        const r = await api("GET", `/v1/rollouts/${id}`);
        if (r.status !== 200) throw new Error(`GET /v1/rollouts/${id}: HTTP ${r.status} ${brief(r.body)}`);
        return r.body as RolloutView;
      }),
    );
    const now = performance.now();
    polls++;
    slowestPollMs = Math.max(slowestPollMs, now - p0);
    const total = last.reduce((n, r) => n + r.total, 0);
    const applied = sum("applied");
    // The trace: the applied count as last seen at each whole second (a poll is at most 200 ms old).
    const second = Math.floor((now - t0) / 1000);
    while (appliedPerSecond.length < second) {
      appliedPerSecond.push(applied);
      opts.onSecond?.(appliedPerSecond.length, applied, total);
    }
    const counts: RolloutCounts = {
      pending: sum("pending"),
      delivered: sum("delivered"),
      applied,
      rejected: sum("rejected"),
      expired: sum("expired"),
      superseded: sum("superseded"),
    };
    if (applied >= total && total > 0) {
      // The second in which the last lamp applied, so that the trace ends on the total.
      if (appliedPerSecond.at(-1) !== applied) appliedPerSecond.push(applied);
      return { allAppliedMs: now - t0, total, counts, appliedPerSecond, polls, slowestPollMs };
    }
    if (last.every((r) => r.done) || now - t0 > opts.timeoutMs)
      return { allAppliedMs: undefined, total, counts, appliedPerSecond, polls, slowestPollMs };
    await sleep(Math.max(0, opts.everyMs - (performance.now() - p0)));
  }
}
