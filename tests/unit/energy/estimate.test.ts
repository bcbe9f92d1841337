// Option A estimate (IPMVP): LED watts × the level the platform asked for, standby watts while it asked for 0,
// integrated over the lamp's real expected timeline (services/schedule/expected.ts). Hand-computed for a 100 W LED
// with 1 W standby; January 2026, Casablanca on UTC+1.
import { describe, expect, it } from "vitest";
import { calendarEstimator } from "../../../services/energy/estimate.ts";
import { type ExpectedTimeline, expectedTimeline } from "../../../services/schedule/timeline.ts";
import { localInstant } from "../../../services/schedule/zone.ts";
import { CASABLANCA, doc } from "../schedule/helpers.ts";

// 100 % at 18:00, 50 % at 23:00, 100 % at 05:00, off at 07:00, every night, in force since 2026-01-01.
const fixed = doc({
  night: [
    { at: "18:00", level_pct: 100 },
    { at: "23:00", level_pct: 50 },
    { at: "05:00", level_pct: 100 },
    { at: "07:00", level_pct: 0 },
  ],
});
const t = (date: string, hhmm: string) => localInstant(date, hhmm);
const timeline = (overrides: Parameters<typeof expectedTimeline>[0]["overrides"] = []) =>
  expectedTimeline({
    calendars: [{ fromMs: t("2026-01-01", "00:00"), doc: fixed }],
    overrides,
    site: CASABLANCA,
  });
const estimate = (tl: ExpectedTimeline) => calendarEstimator({ timeline: tl, ledW: 100, standbyW: 1 });

describe("calendarEstimator", () => {
  it("integrates a night of fixed switches exactly", () => {
    // Noon to noon: 18–23 at 100 W = 500 Wh, 23–05 at 50 W = 300 Wh, 05–07 at 100 W = 200 Wh,
    // 12–18 and 07–12 (11 h) at 1 W standby = 11 Wh → 1,011 Wh.
    const est = estimate(timeline());
    expect(est(t("2026-01-10", "12:00"), t("2026-01-11", "12:00"))).toBeCloseTo(1011, 9);
    // 22:30 → 23:30: half an hour at 100 W + half an hour at 50 W = 75 Wh (switch off the hour grid).
    expect(est(t("2026-01-10", "22:30"), t("2026-01-10", "23:30"))).toBeCloseTo(75, 9);
    expect(est(t("2026-01-10", "22:30"), t("2026-01-10", "22:30"))).toBe(0);
  });

  it("integrates an override's ramp exactly (trapezoid over the straight stretch)", () => {
    // 20:00–21:00 override to 20 % with a 600 s ramp from the 100 % in effect: the ramp averages 60 W over 600 s
    // = 10 Wh, then 20 W × 3,000 s = 16.667 Wh → 26.6667 Wh.
    const est = estimate(
      timeline([
        {
          id: "o1",
          fromMs: t("2026-01-10", "20:00"),
          untilMs: t("2026-01-10", "21:00"),
          levelPct: 20,
          rampMs: 600_000,
        },
      ]),
    );
    expect(est(t("2026-01-10", "20:00"), t("2026-01-10", "21:00"))).toBeCloseTo(26.666667, 6);
    // Back on the program at 21:00: 21:00–22:00 at 100 W.
    expect(est(t("2026-01-10", "21:00"), t("2026-01-10", "22:00"))).toBeCloseTo(100, 9);
  });

  it("follows a ramp up from off: standby only at level 0 itself", () => {
    // 10:00–11:00 override to 100 % ramping from 0 over 600 s: 50 W average × 600 s = 8.3333 Wh, then 100 W ×
    // 3,000 s = 83.3333 Wh → 91.6667 Wh (the instant at 0 % weighs nothing).
    const est = estimate(
      timeline([
        {
          id: "o2",
          fromMs: t("2026-01-10", "10:00"),
          untilMs: t("2026-01-10", "11:00"),
          levelPct: 100,
          rampMs: 600_000,
        },
      ]),
    );
    expect(est(t("2026-01-10", "10:00"), t("2026-01-10", "11:00"))).toBeCloseTo(91.666667, 4);
  });

  it("is additive over cuts and costs a few dozen timeline evaluations a day", () => {
    const tl = timeline();
    let calls = 0;
    const counted: Pick<ExpectedTimeline, "levelAt" | "rangeOver"> = {
      levelAt: (x) => {
        calls++;
        return tl.levelAt(x);
      },
      rangeOver: (a, b) => {
        calls++;
        return tl.rangeOver(a, b);
      },
    };
    const est = calendarEstimator({ timeline: counted, ledW: 100, standbyW: 1 });
    const from = t("2026-01-10", "12:00");
    const to = t("2026-01-13", "12:00");
    const whole = est(from, to);
    expect(whole).toBeCloseTo(3 * 1011, 9);
    expect(calls).toBeLessThan(3 * 400);
    for (const cut of [from + 1234567, t("2026-01-11", "23:00"), t("2026-01-12", "06:17")])
      expect(est(from, cut) + est(cut, to)).toBeCloseTo(whole, 9);
  });

  it("refuses negative or non-finite watts and bounds, naming the field", () => {
    const tl = timeline();
    expect(() => calendarEstimator({ timeline: tl, ledW: -5, standbyW: 1 })).toThrow(/ledW/);
    expect(() => calendarEstimator({ timeline: tl, ledW: 100, standbyW: Number.NaN })).toThrow(/standbyW/);
    expect(() => estimate(tl)(Number.NaN, 0)).toThrow(/fromMs, toMs/);
  });
});
