// `watch`: successive polls of a commissioning run become transitions printed as they happen, with time and
// detail; the exit code says how the run ended; Ctrl-C stops only the watching. A scripted API client and a
// sleep that returns at once stand in for the command service and the clock.
import { describe, expect, it } from "vitest";
import type { Check, CommissioningRun } from "../../services/cli/api-types.ts";
import { watchRun } from "../../services/cli/commands/commissioning.ts";
import { formatEvent, formatOutcome, transitions } from "../../services/cli/format/run.ts";
import type { ApiClient, Outcome } from "../../services/cli/http.ts";
import { fakeContext, ok, scripted } from "./cli-harness.ts";

const T0 = "2025-01-15T12:00:00Z";
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const check = (
  name: string,
  status: Check["status"],
  start?: number,
  end?: number,
  detail?: string,
): Check => ({
  name,
  status,
  started_at: start === undefined ? null : at(start),
  finished_at: end === undefined ? null : at(end),
  detail: detail ?? null,
  data: null,
});
const run = (status: CommissioningRun["status"], checks: Check[], id = "3"): CommissioningRun => ({
  id,
  device_id: "sl-anfa-0042",
  generation: 1,
  status,
  started_at: T0,
  started_by: "local-engineer",
  finished_at: status === "running" ? null : at(95),
  signed_off_at: null,
  signed_off_by: null,
  note: null,
  checks,
});

const polls = [
  run("running", [
    check("connection", "running", 0),
    check("state", "pending"),
    check("readings", "pending"),
  ]),
  run("running", [
    check("connection", "passed", 0, 2, "connected with generation 1"),
    check("state", "running", 2),
    check("readings", "pending"),
  ]),
  run("running", [
    check("connection", "passed", 0, 2, "connected with generation 1"),
    check("state", "passed", 2, 3, 'retained {"online":true}'),
    check("readings", "running", 3, undefined, "1 of 3 readings"),
  ]),
  run("running", [
    check("connection", "passed", 0, 2, "connected with generation 1"),
    check("state", "passed", 2, 3, 'retained {"online":true}'),
    check("readings", "running", 3, undefined, "2 of 3 readings"),
  ]),
  run("passed", [
    check("connection", "passed", 0, 2, "connected with generation 1"),
    check("state", "passed", 2, 3, 'retained {"online":true}'),
    check("readings", "passed", 3, 95, "3 readings, 30 s apart"),
  ]),
];

describe("transitions", () => {
  it("reports the run's start and each check under way on the first poll, then only changes", () => {
    const now = new Date(at(1));
    expect(transitions(null, polls[0] as CommissioningRun, now).map((e) => formatEvent(e))).toEqual([
      "13:00:00  run 3 started by local-engineer",
      "13:00:00  … connection   running",
    ]);
    expect(transitions(polls[0] as CommissioningRun, polls[0] as CommissioningRun, now)).toEqual([]);
    expect(
      transitions(polls[0] as CommissioningRun, polls[1] as CommissioningRun, now).map((e) => formatEvent(e)),
    ).toEqual([
      "13:00:02  ✓ connection   passed   connected with generation 1",
      "13:00:02  … state        running",
    ]);
  });

  it("reports the progress of a running check, and the run's end", () => {
    const now = new Date(at(96));
    expect(
      transitions(polls[2] as CommissioningRun, polls[3] as CommissioningRun, now).map((e) => formatEvent(e)),
    ).toEqual(["13:00:03  … readings     running  2 of 3 readings"]);
    expect(
      transitions(polls[3] as CommissioningRun, polls[4] as CommissioningRun, now).map((e) => formatEvent(e)),
    ).toEqual(["13:01:35  ✓ readings     passed   3 readings, 30 s apart", "13:01:35  run 3 passed"]);
  });

  it("starts over when another run replaced the one being watched", () => {
    const rerun = run("running", [check("connection", "running", 100)], "4");
    const events = transitions(polls[4] as CommissioningRun, rerun, new Date(at(101)));
    expect(events.map((e) => e.type === "run" && e.runId)).toContain("4");
  });

  it("ends with what to do next", () => {
    expect(formatOutcome(polls[4] as CommissioningRun)).toBe(
      "Commissioning passed: all 3 checks passed in 1 min 35 s.\nSign it off with: npm run devices -- sign-off sl-anfa-0042",
    );
    const failed = run("failed", [
      check("connection", "passed", 0, 2),
      check("location", "failed", 2, 3, "33.70, -7.65 lies outside Anfa"),
    ]);
    expect(formatOutcome(failed)).toContain("1 of 2 checks failed");
    expect(formatOutcome(failed)).toContain("  ✗ location: 33.70, -7.65 lies outside Anfa");
    expect(formatOutcome(failed)).toContain("re-run: npm run devices -- commission sl-anfa-0042");
  });
});

const context = (api: ApiClient, signal?: AbortSignal) => fakeContext(api, Date.parse(T0), signal);

describe("watchRun", () => {
  it("prints each transition once and exits 0 when the run passed", async () => {
    const { api, requests } = scripted(polls.map(ok));
    const { ctx, out } = context(api);
    expect(await watchRun(ctx, "sl-anfa-0042")).toBe(0);
    expect(requests).toEqual(Array(5).fill("GET /v1/devices/sl-anfa-0042/commissioning"));
    const lines = out.join("\n").split("\n");
    expect(lines.filter((l) => l.includes("✓ connection"))).toHaveLength(1);
    expect(lines).toContain("13:00:03  … readings   running  1 of 3 readings");
    expect(lines.at(-1)).toBe("Sign it off with: devices sign-off sl-anfa-0042");
  });

  it("exits 1 when the run failed or was cancelled", async () => {
    const failed = run("failed", [check("location", "failed", 0, 1, "outside Anfa")]);
    expect(await watchRun(context(scripted([ok(failed)]).api).ctx, "sl-anfa-0042")).toBe(1);
    const cancelled = { ...failed, status: "cancelled" as const, note: "controller replaced" };
    const c = context(scripted([ok(cancelled)]).api);
    expect(await watchRun(c.ctx, "sl-anfa-0042")).toBe(1);
    expect(c.out.at(-1)).toBe("Commissioning run 3 was cancelled (controller replaced).");
  });

  it("says how to start a run when there is none", async () => {
    const { api } = scripted([
      {
        kind: "refused",
        status: 404,
        retryAfter: null,
        error: { error: "not_found", message: "no run", issues: [] },
      },
    ]);
    const { ctx, err } = context(api);
    expect(await watchRun(ctx, "sl-1")).toBe(1);
    expect(err.join("\n")).toContain("error: not_found (HTTP 404): no run");
    expect(err.join("\n")).toContain("Start a run with: devices commission sl-1");
  });

  it("rides out a short outage of the API, and gives up (exit 3) after a long one", async () => {
    const down: Outcome<unknown> = { kind: "unreachable", message: "cannot reach" };
    const short = context(scripted([ok(polls[0]), down, down, ok(polls[4])]).api);
    expect(await watchRun(short.ctx, "sl-anfa-0042")).toBe(0);
    expect(short.err).toEqual(["13:00:01  cannot reach; still trying", "13:00:03  reachable again"]);
    const long = context(scripted(Array(200).fill(down)).api);
    expect(await watchRun(long.ctx, "sl-anfa-0042")).toBe(3);
  });

  it("Ctrl-C stops the watching with 130 and sends nothing but reads", async () => {
    const controller = new AbortController();
    const { api, requests } = scripted([ok(polls[0]), ok(polls[1])], () => controller.abort());
    const { ctx, err } = context(api, controller.signal);
    expect(await watchRun(ctx, "sl-anfa-0042")).toBe(130);
    expect(requests.every((r) => r.startsWith("GET "))).toBe(true);
    expect(err.at(-1)).toBe("Stopped watching; the run goes on. Resume with: devices watch sl-anfa-0042");
  });
});
