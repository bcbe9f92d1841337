// The demo fleet's commissioning (start, follow paced runs, sign off, summary) against a scripted API on the
// fake clock; and a refused CONNECT (logged once per device, retried with a growing delay).
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../services/lib/log.ts";
import type { Api, ApiAnswer, ApiRequest } from "../../simulators/api.ts";
import { createFakeClock } from "../../simulators/clock.ts";
import { type CommissionOptions, commissionFleet } from "../../simulators/commission.ts";
import { refusalDelayMs } from "../../simulators/link.ts";
import { simDevice } from "./sim-harness.ts";

const ok = (body: unknown): ApiAnswer => ({ ok: true, status: 200, body });
const fail = (status: number, error: string): ApiAnswer => ({
  ok: false,
  status,
  error,
  message: error,
  body: {},
});

/** A scripted command service: each run finishes `doneAfterMs` after it started, passed unless listed. */
function fakeApi(
  clock: { now(): number },
  opts: { doneAfterMs: number; failing?: string[]; failingOnce?: string[]; busy?: string[] },
) {
  const started = new Map<string, number>();
  const runs = new Map<string, number>();
  const calls: { at: number; req: ApiRequest }[] = [];
  const api: Api = {
    url: "http://fake",
    async request(req) {
      calls.push({ at: clock.now(), req });
      const body = req.body as { ids: string[]; note?: string };
      if (req.path === "/v1/commissioning") {
        const issues = body.ids
          .filter((id) => id.startsWith("x"))
          .map((id) => ({ id, message: "device is decommissioned" }));
        for (const id of body.ids) {
          if (id.startsWith("x")) continue;
          started.set(id, clock.now());
          runs.set(id, (runs.get(id) ?? 0) + 1);
        }
        for (const id of opts.busy ?? []) issues.push({ id, message: "a run is in progress" });
        return ok({ started: body.ids.filter((id) => !id.startsWith("x")), issues });
      }
      const m = /^\/v1\/devices\/([^/]+)\/commissioning$/.exec(req.path);
      if (m?.[1]) {
        const id = decodeURIComponent(m[1]);
        const t = started.get(id);
        if (t === undefined) return fail(404, "not_found");
        if (clock.now() - t < opts.doneAfterMs) return ok({ status: "running", checks: [] });
        const failed = opts.failing?.includes(id) || (opts.failingOnce?.includes(id) && runs.get(id) === 1);
        return ok({
          status: failed ? "failed" : "passed",
          checks: [
            { name: "connection", status: "passed", detail: null },
            {
              name: "test_dim",
              status: failed ? "failed" : "passed",
              detail: failed ? "power did not follow" : "",
            },
          ],
        });
      }
      if (req.path === "/v1/commissioning/sign-off") return ok({ signed_off: body.ids, not_ready: [] });
      return fail(404, "not_found");
    },
  };
  return { api, calls };
}

function options(
  clock: ReturnType<typeof createFakeClock>,
  over: Partial<CommissionOptions> = {},
): CommissionOptions {
  return {
    concurrency: 3,
    pollIntervalMs: 5000,
    maxRequestsPerS: 4,
    timeoutMs: 600_000,
    note: "demo fleet",
    retry: { forMs: 0 },
    now: clock.now,
    sleep: (ms) => new Promise<void>((resolve) => clock.setTimer(ms, resolve)),
    ...over,
  };
}

/** Advances the fake clock in steps until the promise settles (its timers are set as it goes). */
async function drive<T>(
  clock: ReturnType<typeof createFakeClock>,
  p: Promise<T>,
  maxMs = 3_600_000,
): Promise<T> {
  let settled = false;
  const watched = p.finally(() => {
    settled = true;
  });
  for (let t = 0; !settled && t < maxMs; t += 500) await clock.advance(500);
  return watched;
}

describe("demo commissioning", () => {
  it("starts, follows each run until it finishes, signs off the passed ones and lists the failed checks", async () => {
    const clock = createFakeClock(0);
    const { api, calls } = fakeApi(clock, { doneAfterMs: 30_000, failing: ["d3"] });
    const ids = ["d1", "d2", "d3", "d4", "xgone"];
    const running = drive(clock, commissionFleet(api, ids, silentLogger(), options(clock)));
    const summary = await running;
    expect(summary.commissioned.sort()).toEqual(["d1", "d2", "d4"]);
    expect(summary.failed).toEqual([
      { id: "d3", checks: [{ name: "test_dim", detail: "power did not follow" }] },
    ]);
    expect(summary.other).toEqual([{ id: "xgone", why: "not started: device is decommissioned" }]);
    const signOff = calls.find((c) => c.req.path === "/v1/commissioning/sign-off");
    expect(signOff?.req.body).toEqual({ ids: ["d1", "d2", "d4"], note: "demo fleet" });
    expect(calls[0]?.req).toMatchObject({ method: "POST", path: "/v1/commissioning", body: { ids } });
  });

  it("runs a failed commissioning again, up to three runs a device", async () => {
    const clock = createFakeClock(0);
    const { api, calls } = fakeApi(clock, { doneAfterMs: 10_000, failing: ["d2"], failingOnce: ["d1"] });
    const summary = await drive(
      clock,
      commissionFleet(api, ["d1", "d2", "d3"], silentLogger(), options(clock)),
    );
    expect(summary.commissioned.sort()).toEqual(["d1", "d3"]);
    expect(summary.failed.map((f) => f.id)).toEqual(["d2"]);
    const starts = calls.filter((c) => c.req.path === "/v1/commissioning").map((c) => c.req.body);
    expect(starts).toEqual([{ ids: ["d1", "d2", "d3"] }, { ids: ["d1", "d2"] }, { ids: ["d2"] }]);
  });

  it("paces its polls: at most maxRequestsPerS, each device at most every pollIntervalMs", async () => {
    const clock = createFakeClock(0);
    const { api, calls } = fakeApi(clock, { doneAfterMs: 60_000 });
    const ids = Array.from({ length: 12 }, (_, i) => `d${i}`);
    const running = drive(
      clock,
      commissionFleet(api, ids, silentLogger(), options(clock, { maxRequestsPerS: 2, pollIntervalMs: 3000 })),
    );
    expect((await running).commissioned).toHaveLength(12);
    const polls = calls.filter((c) => c.req.method === "GET");
    for (let i = 1; i < polls.length; i++)
      expect((polls[i]?.at ?? 0) - (polls[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(499);
    for (const id of ids) {
      const mine = polls.filter((c) => c.req.path.includes(`/${id}/`)).map((c) => c.at);
      expect(mine[0]).toBeGreaterThanOrEqual(3000);
      for (let i = 1; i < mine.length; i++)
        expect((mine[i] ?? 0) - (mine[i - 1] ?? 0)).toBeGreaterThanOrEqual(3000);
    }
  });

  it("follows a run already in progress, and reports runs still going at the timeout", async () => {
    const clock = createFakeClock(0);
    const { api } = fakeApi(clock, { doneAfterMs: 10 * 60_000, busy: ["d1"] });
    const running = drive(
      clock,
      commissionFleet(api, ["d1", "d2"], silentLogger(), options(clock, { timeoutMs: 60_000 })),
    );
    const summary = await running;
    expect(summary.commissioned).toEqual([]);
    expect(summary.other).toEqual([
      { id: "d1", why: "still running at the timeout" },
      { id: "d2", why: "still running at the timeout" },
    ]);
  });

  it("reports a refused start (wrong role) for every device, and does nothing more", async () => {
    const clock = createFakeClock(0);
    const api: Api = { url: "http://fake", request: async () => fail(403, "forbidden") };
    const summary = await commissionFleet(api, ["d1", "d2"], silentLogger(), options(clock));
    expect(summary.other.map((o) => o.why)).toEqual(["not started: forbidden", "not started: forbidden"]);
  });
});

describe("a refused CONNECT", () => {
  it("retries after a growing, capped, jittered delay", () => {
    expect([1, 2, 3, 4, 10].map((n) => refusalDelayMs(n, 5000, 60_000, 0.5))).toEqual([
      5000, 10_000, 20_000, 40_000, 60_000,
    ]);
    expect(refusalDelayMs(1, 5000, 60_000, 0)).toBe(3750);
    expect(refusalDelayMs(1, 5000, 60_000, 1)).toBe(6250);
  });

  it("is logged once per device with the reason, counted, and does not hold up a stop", async () => {
    const lines: { level: number; msg: string; code?: number }[] = [];
    const log = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const { broker, device, runtime } = simDevice({
      seed: "r",
      kind: "streetlight",
      startMs: Date.UTC(2025, 0, 14, 12),
      fleet: { streetlights: 1, airquality: 0, traffic: 0 },
      password: "wrong",
      maxBacklog: 1000,
      log,
    });
    broker.refuse(device.id, { code: 4, reason: "bad user name or password" });
    expect(await runtime.connect(50)).toBe(false);
    expect(runtime.stats().refused).toBe(true);
    const warnings = lines.filter((l) => l.level === 40 && l.msg.includes("refused"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain("bad user name or password (0x04)");
    await runtime.stop(1000); // no wait for a connection that will not come
    expect(broker.opened).toHaveLength(1);
  });
});
