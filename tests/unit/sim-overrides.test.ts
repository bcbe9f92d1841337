// Overrides and cancels on a simulated lamp (issue 4; contract commands.ts): the one override slot shared with
// a dim, a future start, refusal of an expired override, cancel of the override held or of another, a ramp
// from the level at the override's start; on the fake clock with the in-memory broker (sim-schedule-harness.ts).
import { describe, expect, it } from "vitest";
import { commandAck } from "../../services/contract/commands.ts";
import { at, HOUR, lampOnMemoryBroker, MIN, NOON, window } from "./sim-schedule-harness.ts";

describe("overrides and cancels on a simulated lamp (daytime: the program says 0 %)", () => {
  it("an override with a future start: acked at once, the program until its start, its level until expiry", async () => {
    const { clock, sendCmd, acks, readingAt, readingBefore, runtime } = await lampOnMemoryBroker();
    sendCmd({
      id: "ovr-f",
      cmd: "override",
      override_id: "f",
      level_pct: 40,
      reason: "event",
      ...window(HOUR, 2 * HOUR),
    });
    const [ack] = acks();
    expect(commandAck.safeParse(ack).success).toBe(true);
    expect(ack).toMatchObject({
      id: "ovr-f",
      status: "ok",
      level_pct: 0,
      detail: expect.stringContaining("starts at"),
    });
    await clock.advance(3 * HOUR);
    expect(readingBefore(NOON + HOUR).dim_pct).toBe(0);
    expect(readingAt(NOON + HOUR).dim_pct).toBe(40);
    expect(readingBefore(NOON + 2 * HOUR).dim_pct).toBe(40);
    expect(readingAt(NOON + 2 * HOUR).dim_pct).toBe(0);
    const truth = runtime.truth();
    expect(truth.override_h).toBeCloseTo(1, 2);
    expect(truth.overrides).toMatchObject({ applied: 1, expired: 0, missed: 0 });
  });

  it("refuses an override whose expiry has passed (never applied late) and one that ends before it starts", async () => {
    const { clock, sendCmd, acks, readingAt } = await lampOnMemoryBroker();
    sendCmd({
      id: "ovr-x",
      cmd: "override",
      override_id: "x",
      level_pct: 90,
      reason: "late",
      ...window(-HOUR, -MIN),
    });
    sendCmd({
      id: "ovr-y",
      cmd: "override",
      override_id: "y",
      level_pct: 90,
      reason: "odd",
      ...window(HOUR, MIN),
    });
    expect(acks()).toMatchObject([
      { id: "ovr-x", status: "rejected", reason: "expired" },
      { id: "ovr-y", status: "rejected", reason: "invalid", detail: expect.stringContaining("expires_at") },
    ]);
    await clock.advance(2 * HOUR);
    expect(readingAt(NOON + MIN).dim_pct).toBe(0);
    expect(readingAt(NOON + HOUR + MIN).dim_pct).toBe(0);
  });

  it("cancel ends the override it names (back to the program); a cancel of another one is acked and ignored", async () => {
    const { clock, sendCmd, acks, readingAt, runtime } = await lampOnMemoryBroker();
    sendCmd({
      id: "ovr-c",
      cmd: "override",
      override_id: "c",
      level_pct: 60,
      reason: "works",
      ...window(0, 2 * HOUR),
    });
    await clock.advance(30 * MIN);
    expect(readingAt(NOON + 20 * MIN).dim_pct).toBe(60);
    sendCmd({ id: "cxl-other", cmd: "cancel_override", override_id: "other" });
    sendCmd({ id: "cxl-c", cmd: "cancel_override", override_id: "c" });
    sendCmd({ id: "cxl-c2", cmd: "cancel_override", override_id: "c" });
    expect(acks().slice(1)).toMatchObject([
      { id: "cxl-other", status: "ok", level_pct: 60, detail: "no override other held" },
      { id: "cxl-c", status: "ok", level_pct: 0 },
      { id: "cxl-c2", status: "ok", detail: "no override c held" },
    ]);
    await clock.advance(MIN);
    expect(readingAt(NOON + 30 * MIN).dim_pct).toBe(0);
    expect(runtime.truth().overrides).toMatchObject({ applied: 1, cancelled: 1, cancel_ignored: 2 });
  });

  it("a newer override replaces the older at its arrival, even one that starts later; a dim takes the slot too", async () => {
    const { clock, sendCmd, readingAt, acks } = await lampOnMemoryBroker();
    sendCmd({
      id: "ovr-a",
      cmd: "override",
      override_id: "a",
      level_pct: 60,
      reason: "a",
      ...window(0, 3 * HOUR),
    });
    await clock.advance(10 * MIN);
    sendCmd({
      id: "ovr-b",
      cmd: "override",
      override_id: "b",
      level_pct: 20,
      reason: "b",
      ...window(HOUR, 2 * HOUR),
    });
    await clock.advance(HOUR + 10 * MIN);
    expect(readingAt(NOON + 5 * MIN).dim_pct).toBe(60);
    expect(readingAt(NOON + 20 * MIN).dim_pct).toBe(0); // a ended when b arrived; b starts later
    expect(readingAt(NOON + HOUR + MIN).dim_pct).toBe(20);
    // The commissioning test dim shares the slot: it replaces b, and at its end the program returns.
    sendCmd({ id: "d", cmd: "dim", level_pct: 70, duration_s: 60 });
    sendCmd({ id: "cxl-b", cmd: "cancel_override", override_id: "b" });
    await clock.advance(5 * MIN);
    const now = clock.now();
    expect(readingAt(now - 5 * MIN + 10_000).dim_pct).toBe(70);
    expect(readingAt(now - 2 * MIN).dim_pct).toBe(0);
    expect(acks().map((a) => [a.id, a.status, a.detail])).toEqual([
      ["ovr-a", "ok", undefined],
      ["ovr-b", "ok", `starts at ${new Date(NOON + HOUR).toISOString()}`],
      ["d", "ok", undefined],
      ["cxl-b", "ok", "no override b held"],
    ]);
  });

  it("an override's ramp starts from the program's level at its start", async () => {
    const { clock, sendCmd, readingAt, readingBefore } = await lampOnMemoryBroker();
    await clock.advance(at("20:00") - clock.now());
    // Factory calendar: 100 % at 21:30; the override ramps to 0 over 10 minutes from there.
    const start = at("21:30");
    sendCmd({
      id: "o",
      cmd: "override",
      override_id: "r",
      level_pct: 0,
      ramp_s: 600,
      reason: "r",
      ...window(start - NOON, start - NOON + HOUR),
    });
    await clock.advance(start + 20 * MIN - clock.now());
    expect(readingBefore(start).dim_pct).toBe(100);
    const mid = readingAt(start + 5 * MIN);
    expect(mid.dim_pct).toBeCloseTo(100 - (100 * (Number(mid.ts) - start)) / 600_000, 0);
    expect(readingAt(start + 11 * MIN).dim_pct).toBe(0);
  });
});
