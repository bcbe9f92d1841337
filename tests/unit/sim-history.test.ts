// The demo history of `npm start` (scripts/platform/history.ts): where it starts, what the simulator is told, and
// that it is recorded once its backfill has completed, so later starts skip it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { historyStartDate, planHistory, watchHistory } from "../../scripts/platform/history.ts";
import { localInstant } from "../../services/schedule/zone.ts";

const NOW = Date.parse("2026-11-23T05:00:00Z");

describe("demo history", () => {
  it("starts the day before the 1st of last month, local time", () => {
    expect(historyStartDate(NOW)).toBe("2026-09-30");
    expect(historyStartDate(Date.parse("2027-01-15T12:00:00Z"))).toBe("2026-11-30");
    expect(historyStartDate(Date.parse("2026-03-01T00:30:00Z"))).toBe("2026-01-31");
  });

  it("tells the simulator to backfill at 900 s into a truth file, then is recorded and skipped", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sim-history-"));
    const plan = planHistory({ dataDir, nowMs: NOW, enabled: true, env: {} });
    if (plan.kind !== "backfill") throw new Error(plan.kind);
    // 2026-09-30 00:00 local is 00:00Z (UTC+0 since 2026-09-20); to 05:00Z on 11-23 is 54 days 5 h, + 1 h.
    expect(plan.fromMs).toBe(localInstant("2026-09-30", "00:00"));
    expect(plan.days).toBeCloseTo(54 + 6 / 24, 3);
    expect(plan.env).toEqual({
      SIM_BACKFILL_DAYS: String(plan.days),
      SIM_BACKFILL_INTERVAL_S: "900",
      SIM_TRUTH_FILE: join(dataDir, "simulator", "history-truth.json"),
    });
    const recorded: unknown[] = [];
    const startedMs = Date.now();
    const watch = watchHistory(plan, 320, startedMs, (r) => recorded.push(r), 60_000);
    watch.stop();
    const truth = (written_at: string, completed: boolean) =>
      writeFileSync(
        plan.truthFile,
        JSON.stringify({
          written_at,
          backfill: { from_ts: plan.fromMs, to_ts: NOW, interval_s: 900, completed },
        }),
      );
    expect(watch.check()).toBe(false); // no file yet
    truth(new Date(startedMs - 60_000).toISOString(), true);
    expect(watch.check()).toBe(false); // an earlier run's file
    truth(new Date(startedMs + 1000).toISOString(), false);
    expect(watch.check()).toBe(false); // interrupted
    truth(new Date(startedMs + 2000).toISOString(), true);
    expect(watch.check()).toBe(true);
    expect(recorded).toHaveLength(1);
    expect(JSON.parse(readFileSync(plan.recordFile, "utf8"))).toMatchObject({
      version: 1,
      from: "2026-09-30T00:00:00.000Z",
      interval_s: 900,
      devices: 320,
    });
    expect(planHistory({ dataDir, nowMs: NOW + 86_400_000, enabled: true, env: {} }).kind).toBe("recorded");
  });

  it("is skipped when asked, or when the environment sets its own backfill", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sim-history-"));
    expect(planHistory({ dataDir, nowMs: NOW, enabled: false, env: {} })).toEqual({
      kind: "skipped",
      why: "--no-history",
    });
    expect(planHistory({ dataDir, nowMs: NOW, enabled: true, env: { SIM_BACKFILL_DAYS: "3" } }).kind).toBe(
      "skipped",
    );
    expect(existsSync(join(dataDir, "simulator", "history.json"))).toBe(false);
  });
});
