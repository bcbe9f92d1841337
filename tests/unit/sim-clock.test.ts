// The simulated clock (accelerated, never ahead of real time) and the fake clock used by the device tests.
import { describe, expect, it } from "vitest";
import { createFakeClock, createSimClock } from "../../simulators/clock.ts";
import { resolveStart } from "../../simulators/config.ts";

describe("createSimClock", () => {
  it("runs `speed` times faster from a start in the past, then at real time once it has caught up", () => {
    let real = 1_000_000_000;
    const clock = createSimClock({ speed: 60, startMs: real - 3_600_000, realNow: () => real });
    expect(clock.now()).toBe(real - 3_600_000);
    real += 1000; // one real second = one simulated minute
    expect(clock.now()).toBe(real - 1000 - 3_600_000 + 60_000);
    expect(clock.rate()).toBe(60);
    real += 61_000; // 61 s at ×60 covers the hour: caught up
    expect(clock.now()).toBe(real);
    expect(clock.rate()).toBe(1);
    real += 5000;
    expect(clock.now()).toBe(real);
  });

  it("never starts in the future", () => {
    const real = 2_000_000_000;
    const clock = createSimClock({ speed: 1, startMs: real + 3_600_000, realNow: () => real });
    expect(clock.now()).toBe(real);
  });

  it("fires timers after delay/speed real time", async () => {
    const clock = createSimClock({ speed: 600, startMs: Date.now() - 86_400_000, minRealDelayMs: 1 });
    const started = Date.now();
    const simStart = clock.now();
    await new Promise<void>((resolve) => clock.setTimer(60_000, () => resolve())); // a simulated minute
    const realElapsed = Date.now() - started;
    expect(realElapsed).toBeGreaterThanOrEqual(90);
    expect(realElapsed).toBeLessThan(1000);
    expect(clock.now() - simStart).toBeGreaterThanOrEqual(60_000);
  });
});

describe("createFakeClock", () => {
  it("runs due timers in time order and only those", async () => {
    const clock = createFakeClock(0);
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push("c"));
    clock.setTimer(100, () => {
      fired.push("a");
      clock.setTimer(100, () => fired.push("b"));
    });
    const cancelled = clock.setTimer(150, () => fired.push("x"));
    cancelled.cancel();
    await clock.advance(250);
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now()).toBe(250);
    await clock.advance(100);
    expect(fired).toEqual(["a", "b", "c"]);
    expect(clock.pending()).toBe(0);
  });
});

describe("resolveStart", () => {
  const now = Date.UTC(2025, 5, 1, 12);
  it("defaults to now, or a day ago for an accelerated clock", () => {
    expect(resolveStart({ speed: 1 }, now)).toBe(now);
    expect(resolveStart({ speed: 60 }, now)).toBe(now - 86_400_000);
  });
  it("accepts offsets and ISO instants, never the future", () => {
    expect(resolveStart({ speed: 60, start: "-90m" }, now)).toBe(now - 5_400_000);
    expect(resolveStart({ speed: 60, start: "-7d" }, now)).toBe(now - 7 * 86_400_000);
    expect(resolveStart({ speed: 1, start: "2025-05-31T12:00:00Z" }, now)).toBe(now - 86_400_000);
    expect(resolveStart({ speed: 1, start: "2030-01-01T00:00:00Z" }, now)).toBe(now);
  });
});
