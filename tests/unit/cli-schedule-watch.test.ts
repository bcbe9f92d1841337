// Following a rollout (`rollouts ID --watch`, `assign --watch`): a progress line on every change until done, the
// exit code says whether every lamp applied it; and the compliance report's deviations worst first in local time.
// A scripted API client and a sleep that only moves a fake clock stand in for the command service.
import { describe, expect, it } from "vitest";
import type { ComplianceReport, Rollout } from "../../services/cli/api-types.ts";
import { QUIET_HINT_MS, watchRollouts } from "../../services/cli/commands/rollout-watch.ts";
import { formatCompliance } from "../../services/cli/format/compliance.ts";
import { progressLine } from "../../services/cli/format/rollout.ts";
import type { ApiClient } from "../../services/cli/http.ts";
import { fakeContext, ok, scripted } from "./cli-harness.ts";

const T0 = Date.parse("2025-01-15T20:00:00Z"); // 21:00 in Casablanca (UTC+1)

const rollout = (id: number, counts: Partial<Rollout["counts"]>, total = 1204): Rollout => {
  const c = { pending: 0, delivered: 0, applied: 0, rejected: 0, expired: 0, superseded: 0, ...counts };
  return {
    id,
    kind: "calendar",
    cause: "assign",
    target: { type: "district", id: "Anfa" },
    version: 37,
    calendar_id: "anfa-2026",
    override_id: null,
    created_at: new Date(T0).toISOString(),
    created_by: "eng-fatima",
    total,
    counts: c,
    done: c.pending + c.delivered === 0,
    rejected_sample:
      c.rejected > 0
        ? [{ device_id: "sl-anfa-0007", reason: "unsupported", detail: "no ramps in firmware 1.2" }]
        : [],
  };
};

const context = (api: ApiClient, signal?: AbortSignal) => fakeContext(api, T0, signal);

describe("progressLine", () => {
  it("counts lamps in thousands, always applied · pending · rejected, the other states when not 0", () => {
    expect(progressLine("Anfa", [rollout(12, { applied: 1180, pending: 20, rejected: 4 })])).toBe(
      "Anfa: 1,204 lamps — applied 1,180 · pending 20 · rejected 4",
    );
    expect(progressLine("Anfa", [rollout(12, { applied: 2, delivered: 1200, expired: 2 })])).toBe(
      "Anfa: 1,204 lamps — applied 2 · delivered 1,200 · pending 0 · rejected 0 · expired 2",
    );
    expect(progressLine("bd-anfa", [rollout(3, { applied: 1 }, 1), rollout(4, { pending: 2 }, 2)])).toBe(
      "bd-anfa: 3 lamps in 2 rollouts — applied 1 · pending 2 · rejected 0",
    );
  });
});

describe("watchRollouts", () => {
  it("prints a line when the counts move, none when they do not, and exits 1 when some lamps rejected it", async () => {
    const polls = [
      rollout(12, { pending: 1204 }),
      rollout(12, { pending: 1204 }),
      rollout(12, { applied: 600, delivered: 600, pending: 4 }),
      rollout(12, { applied: 1200, rejected: 4 }),
    ];
    const { api, requests } = scripted(polls.map(ok));
    const { ctx, out } = context(api);
    expect(await watchRollouts(ctx, [12], "Anfa")).toBe(1);
    expect(requests).toEqual(Array(4).fill("GET /v1/rollouts/12"));
    expect(out).toEqual([
      "Watching rollout 12 (Ctrl-C stops watching; delivery goes on)",
      "21:00:00  Anfa: 1,204 lamps — applied 0 · pending 1,204 · rejected 0",
      "21:00:02  Anfa: 1,204 lamps — applied 600 · delivered 600 · pending 4 · rejected 0",
      "21:00:03  Anfa: 1,204 lamps — applied 1,200 · pending 0 · rejected 4",
      "Done in 3 s: Anfa, 1,204 lamps — applied 1,200, rejected 4.",
      "DEVICE        REASON       DETAIL\nsl-anfa-0007  unsupported  no ramps in firmware 1.2",
      "Every refusal: devices rollouts 12 --state rejected",
    ]);
  });

  it("exits 0 when every lamp applied it, and sums several rollouts of one change", async () => {
    const { api } = scripted([ok(rollout(3, { applied: 10 }, 10)), ok(rollout(4, { applied: 5 }, 5))]);
    const { ctx, out } = context(api);
    expect(await watchRollouts(ctx, [3, 4], "bd-anfa")).toBe(0);
    expect(out).toContain("21:00:00  bd-anfa: 15 lamps in 2 rollouts — applied 15 · pending 0 · rejected 0");
    expect(out.at(-1)).toBe("Done in 0 s: bd-anfa, 15 lamps — applied 15.");
  });

  it("says so when there is nothing to deliver", async () => {
    const { api, requests } = scripted([]);
    const { ctx, out } = context(api);
    expect(await watchRollouts(ctx, [], "Anfa")).toBe(0);
    expect(requests).toEqual([]);
    expect(out).toEqual(["Anfa: nothing to deliver, every lamp concerned already holds it."]);
  });

  it("explains a quiet rollout once (offline lamps) and gives up at --timeout with exit 1", async () => {
    const stuck = rollout(12, { applied: 1200, pending: 4 });
    const { api } = scripted(Array(200).fill(ok(stuck)));
    const { ctx, out, err } = context(api);
    expect(await watchRollouts(ctx, [12], "Anfa", { timeoutMs: 90_000 })).toBe(1);
    const hints = out.filter((l) => l.includes("no change for"));
    expect(hints).toEqual([
      `  no change for ${QUIET_HINT_MS / 60_000} min 00 s: 4 still open; lamps that are offline get it when they reconnect.`,
    ]);
    expect(err.at(-1)).toBe(
      "Not done after 1 min 30 s: 4 lamps still open. The delivery goes on; follow it with: devices rollouts 12 --watch",
    );
  });

  it("waits out a 429, rides out a short outage, and stops on Ctrl-C without touching the rollout", async () => {
    const controller = new AbortController();
    const { api, requests } = scripted([
      {
        kind: "refused",
        status: 429,
        error: { error: "rate_limited", message: "", issues: [] },
        retryAfter: "2",
      },
      { kind: "unreachable", message: "cannot reach the command service" },
      ok(rollout(12, { pending: 4, applied: 1200 })),
    ]);
    const { ctx, out, err } = context(api, controller.signal);
    const sleep = ctx.sleep;
    ctx.sleep = async (ms, s) => {
      await sleep(ms, s);
      if (requests.length === 3) controller.abort();
    };
    expect(await watchRollouts(ctx, [12], "Anfa")).toBe(130);
    expect(out).toContain("21:00:03  Anfa: 1,204 lamps — applied 1,200 · pending 4 · rejected 0");
    expect(err).toContain("21:00:02  cannot reach the command service; still trying");
    expect(err).toContain("21:00:03  reachable again");
    expect(err.at(-1)).toBe("Stopped watching; delivery goes on. Resume with: devices rollouts 12 --watch");
    expect(requests.every((r) => r.startsWith("GET "))).toBe(true);
  });
});

describe("formatCompliance", () => {
  const dev = (
    device_id: string,
    kind: "dark" | "wrong_level" | "burning_by_day",
    from: string,
    to: string,
    expected: number,
    min: number,
    max: number,
    samples: number,
  ) => ({
    device_id,
    kind,
    from,
    to,
    expected_pct: expected,
    reported_min: min,
    reported_max: max,
    samples,
  });
  const report: ComplianceReport = {
    scope: { type: "district", id: "Anfa" },
    window: { from: "2025-01-14T11:00:00Z", to: "2025-01-15T11:00:00Z", basis: "night", night: "2025-01-14" },
    tolerance_pct: 5,
    grace_s: 180,
    standby_w: 2,
    lamps: 3,
    samples: 300,
    compliant: 280,
    compliance_pct: 93.33,
    deviations_by_kind: { burning_by_day: 1, wrong_level: 2 },
    deviations_total: 3,
    per_lamp: [
      { device_id: "sl-anfa-0002", samples: 100, compliant: 85, compliance_pct: 85, deviations: 2 },
      { device_id: "sl-anfa-0001", samples: 100, compliant: 95, compliance_pct: 95, deviations: 1 },
      { device_id: "sl-anfa-0003", samples: 100, compliant: 100, compliance_pct: 100, deviations: 0 },
    ],
    // Deliberately not in order: the CLI sorts worst first itself.
    deviations: [
      dev("sl-anfa-0001", "wrong_level", "2025-01-14T23:00:00Z", "2025-01-14T23:04:00Z", 50, 100, 100, 5),
      dev("sl-anfa-0002", "burning_by_day", "2025-01-15T08:00:00Z", "2025-01-15T10:59:00Z", 0, 100, 100, 12),
      dev("sl-anfa-0002", "wrong_level", "2025-01-14T22:58:00Z", "2025-01-15T00:02:00Z", 100, 40, 60, 5),
    ],
    no_data: ["sl-anfa-0009"],
  };

  it("prints the summary, the least compliant lamps, and the deviations worst first in local time", () => {
    const text = formatCompliance(report, { lamps: 10, deviations: 20 });
    expect(text).toContain(
      "Compliance of district Anfa, night 2025-01-14 (2025-01-14 12:00–2025-01-15 12:00 local)",
    );
    expect(text).toMatch(/lamps\s+3 \(1 without data, not counted\)/);
    expect(text).toMatch(/compliant\s+280 \(93\.3 %\)/);
    expect(text).toMatch(/deviations\s+3: burning_by_day 1 · wrong_level 2/);
    const rows = text.split("\n");
    const worst = rows.indexOf("Least compliant lamps:");
    expect(rows[worst + 2]).toMatch(/^sl-anfa-0002\s+85\.0 %\s+100\s+2$/);
    expect(text).not.toMatch(/sl-anfa-0003\s+100\.0 %/);
    const start = rows.indexOf("Deviations, worst first:");
    expect(rows[start + 1]).toMatch(/^LAMP\s+KIND\s+FROM–TO \(LOCAL\)\s+EXPECTED\s+REPORTED\s+SAMPLES$/);
    // Most samples first; with equal samples the furthest from the expected level (60 points off before 50).
    expect(rows.slice(start + 2, start + 5)).toEqual([
      expect.stringMatching(/^sl-anfa-0002\s+burning_by_day\s+2025-01-15 09:00–11:59\s+0 %\s+100 %\s+12$/),
      expect.stringMatching(
        /^sl-anfa-0002\s+wrong_level\s+2025-01-14 23:58–2025-01-15 01:02\s+100 %\s+40–60 %\s+5$/,
      ),
      expect.stringMatching(/^sl-anfa-0001\s+wrong_level\s+2025-01-15 00:00–00:04\s+50 %\s+100 %\s+5$/),
    ]);
    expect(text).toContain("No data in the window: sl-anfa-0009");
  });

  it("cuts the deviations to the number asked and says how many more there are", () => {
    const text = formatCompliance(report, { lamps: 1, deviations: 1 });
    expect(text).toContain("… 2 more (--deviations N to show more; --json for the API's answer)");
    expect(text).not.toContain("sl-anfa-0001  wrong_level");
  });
});
