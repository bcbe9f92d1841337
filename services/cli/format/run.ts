// Commissioning runs on screen: the check table of the device page, and the live view of `watch`, which turns
// two successive polls of a run into the transitions between them (a check starting, passing or failing).
import type { Check, CheckStatus, CommissioningRun, RunStatus } from "../api-types.ts";
import { oneLine, table, truncate } from "./table.ts";
import { duration, localDateTime, localTime } from "./time.ts";

const MARK: Record<CheckStatus, string> = {
  pending: "·",
  running: "…",
  passed: "✓",
  failed: "✗",
  skipped: "-",
};

export type WatchEvent =
  | { type: "run"; at: string; runId: string; from: RunStatus | null; to: RunStatus; by: string | null }
  | {
      type: "check";
      at: string;
      name: string;
      from: CheckStatus | null;
      to: CheckStatus;
      detail: string | null;
    };

/** Run ids are UUIDs; their first 8 hex digits tell a device's runs apart on screen (--json has the whole id). */
export function shortId(id: string): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(id) ? id.slice(0, 8) : id;
}

export function isFinished(status: RunStatus): boolean {
  return status !== "running";
}

function checkTime(check: Check, fallback: string): string {
  if (check.status === "running" || check.status === "pending") return check.started_at ?? fallback;
  return check.finished_at ?? check.started_at ?? fallback;
}

/**
 * What changed between two polls of a device's latest run. `prev` null (first poll) or another run (a re-run
 * started meanwhile): the run's start and every check already under way. A running check whose detail
 * changed (e.g. "2 of 3 readings") is reported too, so the engineer sees progress.
 */
export function transitions(prev: CommissioningRun | null, next: CommissioningRun, now: Date): WatchEvent[] {
  const nowIso = now.toISOString();
  const same = prev !== null && String(prev.id) === String(next.id);
  const events: WatchEvent[] = [];
  if (!same) {
    events.push({
      type: "run",
      at: next.started_at,
      runId: String(next.id),
      from: null,
      to: "running",
      by: next.started_by,
    });
  }
  for (const check of next.checks) {
    const before = same ? prev.checks.find((c) => c.name === check.name) : undefined;
    const from = before?.status ?? null;
    const changed = from !== check.status;
    const progressed =
      !changed && check.status === "running" && (before?.detail ?? null) !== (check.detail ?? null);
    if (!changed && !progressed) continue;
    if (from === null && check.status === "pending") continue; // nothing has happened to it yet
    events.push({
      type: "check",
      at: checkTime(check, nowIso),
      name: check.name,
      from,
      to: check.status,
      detail: check.detail ?? null,
    });
  }
  const runBefore = same ? prev.status : "running";
  if (next.status !== runBefore || (!same && next.status !== "running")) {
    events.push({
      type: "run",
      at: next.finished_at ?? nowIso,
      runId: String(next.id),
      from: runBefore,
      to: next.status,
      by: null,
    });
  }
  return events;
}

/** "21:05:09  ✓ connection   passed   connected (generation 1)" */
export function formatEvent(event: WatchEvent, nameWidth = 12): string {
  const time = localTime(event.at);
  if (event.type === "run") {
    const run = shortId(event.runId);
    if (event.from === null) return `${time}  run ${run} started${event.by ? ` by ${event.by}` : ""}`;
    return `${time}  run ${run} ${event.to}`;
  }
  const detail = event.detail ? `  ${truncate(oneLine(event.detail), 160)}` : "";
  return `${time}  ${MARK[event.to]} ${event.name.padEnd(nameWidth)} ${event.to.padEnd(7)}${detail}`.trimEnd();
}

/** The closing words of a watch: what happened, and what to do next. */
export function formatOutcome(run: CommissioningRun, cli = "npm run devices --"): string {
  const took =
    run.finished_at !== null
      ? ` in ${duration(new Date(run.finished_at).getTime() - new Date(run.started_at).getTime())}`
      : "";
  switch (run.status) {
    case "passed":
      return [
        `Commissioning passed: all ${run.checks.filter((c) => c.status === "passed").length} checks passed${took}.`,
        `Sign it off with: ${cli} sign-off ${run.device_id}`,
      ].join("\n");
    case "failed": {
      const failed = run.checks.filter((c) => c.status === "failed");
      return [
        `Commissioning failed: ${failed.length} of ${run.checks.length} checks failed${took}.`,
        ...failed.map((c) => `  ✗ ${c.name}: ${c.detail ? oneLine(c.detail) : "(no detail)"}`),
        `Fix the cause (or correct the registration), then re-run: ${cli} commission ${run.device_id}`,
      ].join("\n");
    }
    case "cancelled":
      return `Commissioning run ${shortId(run.id)} was cancelled${run.note ? ` (${run.note})` : ""}.`;
    case "running":
      return `Commissioning run ${shortId(run.id)} is still running.`;
  }
}

/** A run's header line and its checks as a table (device page, `commission --no-watch`). */
export function formatRun(run: CommissioningRun): string {
  const head = [
    `run ${shortId(run.id)}`,
    run.status,
    `started ${localDateTime(run.started_at)}${run.started_by ? ` by ${run.started_by}` : ""}`,
    run.finished_at ? `finished ${localDateTime(run.finished_at)}` : undefined,
  ].filter(Boolean);
  const lines = [head.join(" · ")];
  if (run.signed_off_at) {
    lines.push(
      `signed off ${localDateTime(run.signed_off_at)}${run.signed_off_by ? ` by ${run.signed_off_by}` : ""}${run.note ? `: ${oneLine(run.note)}` : ""}`,
    );
  } else if (run.status === "passed") lines.push("awaiting sign-off");
  const rows = run.checks.map((c) => [
    `${MARK[c.status]} ${c.name}`,
    c.status,
    c.started_at ? localTime(c.started_at) : "",
    c.finished_at ? localTime(c.finished_at) : "",
    c.detail ? truncate(oneLine(c.detail), 70) : "",
  ]);
  if (rows.length > 0) lines.push(table(["check", "status", "started", "finished", "detail"], rows));
  // The table cuts details short; a failure's whole detail is what the engineer at the pole needs.
  for (const c of run.checks) {
    if (c.status === "failed" && c.detail && oneLine(c.detail).length > 70)
      lines.push(`✗ ${c.name}: ${oneLine(c.detail)}`);
  }
  return lines.join("\n");
}
