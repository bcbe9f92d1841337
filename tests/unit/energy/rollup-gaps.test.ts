// rollLamp over gaps (dt > gapS = 3,600 s): bridged by the meter (spread by dark/standby weight), a reset or an
// implausible increase inside (Option A estimate), and beyond the estimate limit (missing). Hand-computed with
// the fake nights (dark 18:00–07:00 local), the 100 W / 1 W standby lamp and the fake Option A estimator
// (100 W while dark, 1 W otherwise) of rollup-fixtures.ts.
import { describe, expect, it } from "vitest";
import { rollLamp } from "../../../services/energy/rollup.ts";
import {
  expectRows,
  FAKE_DARK,
  FAKE_ESTIMATOR,
  LAMP,
  local,
  NO_ESTIMATOR,
  OPTIONS,
  reading,
  row,
} from "./rollup-fixtures.ts";

const roll = (
  prev: Parameters<typeof rollLamp>[0]["prev"],
  readings: Parameters<typeof rollLamp>[0]["readings"],
  estimator = FAKE_ESTIMATOR,
) => rollLamp({ prev, readings, lamp: LAMP, options: OPTIONS, estimator, dark: FAKE_DARK });

// An 18 h gap from 2026-01-10 16:00 to 2026-01-11 10:00 local (64,800 s), the lamp off (0 %) at its start.
// Day pieces and their weights ledW·dark + standbyW·light:
//   10th [16:00, 24:00): 8 h = 28,800 s, dark 18:00–24:00 = 21,600 s, light 7,200 s
//                        → 100 × 21,600 + 1 × 7,200 = 2,167,200 W·s
//   11th [00:00, 10:00): 10 h = 36,000 s, dark 00:00–07:00 = 25,200 s, light 10,800 s
//                        → 100 × 25,200 + 1 × 10,800 = 2,530,800 W·s
//   total 4,698,000 W·s. plausibleMaxWh(64,800 s) = 130 × 18 = 2,340 Wh.
const A = reading(local("2026-01-10T16:00"), 1000, 1, 0);
const END = local("2026-01-11T10:00");

describe("rollLamp: a long gap bridged by the meter", () => {
  it("spreads the increase by dark/standby weight: a lamp that followed the nights gets its own energy back", () => {
    // The lamp burned 13 h at 100 W and idled 5 h at 1 W: +1,305 Wh = 4,698,000 W·s / 3,600. Shares:
    // 1,305 × 2,167,200 / 4,698,000 = 602 Wh (= 6 h × 100 + 2 h × 1) and 1,305 × 2,530,800 / 4,698,000 = 703 Wh.
    // Covered seconds are metered; lit 0 (the reading opening the gap was at 0 %); the gap counts on the 11th.
    const b = reading(END, 2305, 1, 0);
    const { days } = roll(A, [b], NO_ESTIMATOR);
    expectRows(days, [
      row("2026-01-10", { meteredWh: 602, meteredS: 28_800, darkS: 21_600 }),
      row("2026-01-11", {
        meteredWh: 703,
        meteredS: 36_000,
        darkS: 25_200,
        readings: 1,
        gaps: 1,
        firstTs: END,
        lastTs: END,
      }),
    ]);
  });

  it("spreads a dimmed lamp's smaller increase in the same proportions", () => {
    // +1,000 Wh: 1,000 × 2,167,200 / 4,698,000 = 461.302682… Wh and 1,000 × 2,530,800 / 4,698,000 = 538.697318… Wh.
    const { days } = roll(A, [reading(END, 2000, 1, 0)], NO_ESTIMATOR);
    expect(days.get("2026-01-10")?.meteredWh).toBeCloseTo(461.302682, 5);
    expect(days.get("2026-01-11")?.meteredWh).toBeCloseTo(538.697318, 5);
  });

  it("meters a gap longer than the estimate limit when the meter bridges it (no reset, plausible)", () => {
    // 2026-01-10 16:00 → 2026-01-13 17:00 = 73 h > 72 h, +3,934 Wh ≤ 130 × 73 = 9,490. Weights:
    //   10th [16:00, 24:00): 2,167,200 (above)
    //   11th, 12th whole days: dark 7 h + 6 h = 46,800 s, light 39,600 s → 4,680,000 + 39,600 = 4,719,600 each
    //   13th [00:00, 17:00): dark 25,200 s, light 36,000 s → 2,520,000 + 36,000 = 2,556,000
    //   total 14,162,400 W·s = 3,934 Wh × 3,600, so the shares are the weights / 3,600: 602, 1,311, 1,311, 710 Wh.
    const end = local("2026-01-13T17:00");
    const { days } = roll(A, [reading(end, 4934, 1, 0)], NO_ESTIMATOR);
    expectRows(days, [
      row("2026-01-10", { meteredWh: 602, meteredS: 28_800, darkS: 21_600 }),
      row("2026-01-11", { meteredWh: 1311, meteredS: 86_400, darkS: 46_800 }),
      row("2026-01-12", { meteredWh: 1311, meteredS: 86_400, darkS: 46_800 }),
      row("2026-01-13", {
        meteredWh: 710,
        meteredS: 61_200,
        darkS: 25_200,
        readings: 1,
        gaps: 1,
        firstTs: end,
        lastTs: end,
      }),
    ]);
  });

  it("counts a gap ending exactly at local midnight on the day it covers, its reading on the next", () => {
    // 20:00 → 00:00 (4 h, 14,400 s, all dark): +400 Wh ≤ 520 → metered, all on the 10th (one piece, weight
    // 100 × 14,400); the gap counts on the 10th, the 00:00 reading belongs to the 11th.
    const a = reading(local("2026-01-10T20:00"), 1000, 100, 100);
    const b = reading(local("2026-01-11T00:00"), 1400, 100, 100);
    const { days } = roll(a, [b], NO_ESTIMATOR);
    expectRows(days, [
      row("2026-01-10", { meteredWh: 400, meteredS: 14_400, darkS: 14_400, gaps: 1 }),
      row("2026-01-11", { readings: 1, firstTs: b.ts, lastTs: b.ts }),
    ]);
  });

  it("counts no lit seconds over a gap: lit time is what the lamp reported, and nothing was", () => {
    // The same gap after a lit reading (dim 60 %): covered (metered) but litS stays 0 on both days.
    const lit = reading(A.ts, 1000, 100, 60);
    const { days } = roll(lit, [reading(END, 2305, 1, 0)], NO_ESTIMATOR);
    expect(days.get("2026-01-10")?.meteredS).toBe(28_800);
    expect(days.get("2026-01-10")?.litS).toBe(0);
    expect(days.get("2026-01-11")?.litS).toBe(0);
  });
});

describe("rollLamp: gaps the meter cannot bridge", () => {
  // Option A under the fake nights gives the same 602 / 703 Wh as the weights above (100 W dark, 1 W light).
  const estimated = [
    row("2026-01-10", { estimatedWh: 602, estimatedS: 28_800, darkS: 21_600 }),
    row("2026-01-11", {
      estimatedWh: 703,
      estimatedS: 36_000,
      darkS: 25_200,
      readings: 1,
      resets: 1,
      gaps: 1,
      firstTs: END,
      lastTs: END,
    }),
  ];

  it("estimates a gap with a flagged reset inside with the estimator, piece by piece", () => {
    const asked: [number, number][] = [];
    const estimator = (from: number, to: number) => {
      asked.push([from, to]);
      return FAKE_ESTIMATOR(from, to);
    };
    const { days } = roll(A, [reading(END, 300, 1, 0, true)], estimator);
    expectRows(days, estimated);
    expect(asked).toEqual([
      [A.ts, local("2026-01-11T00:00")],
      [local("2026-01-11T00:00"), END],
    ]);
  });

  it("estimates a gap with an unflagged decrease the same way", () => {
    const { days } = roll(A, [reading(END, 300, 1, 0)]);
    expectRows(days, estimated);
  });

  it("estimates a gap whose increase is implausible, without counting a reset", () => {
    // 20:00 → 22:00 (7,200 s): +1,000 Wh > 130 × 2 = 260 → Option A: 2 h dark at 100 W = 200 Wh.
    const a = reading(local("2026-01-10T20:00"), 1000, 100, 100);
    const b = reading(local("2026-01-10T22:00"), 2000, 100, 100);
    const { days } = roll(a, [b]);
    expectRows(days, [
      row("2026-01-10", {
        estimatedWh: 200,
        estimatedS: 7200,
        darkS: 7200,
        readings: 1,
        gaps: 1,
        firstTs: b.ts,
        lastTs: b.ts,
      }),
    ]);
  });

  it("leaves a gap beyond the estimate limit missing: only the gap and the reading are counted", () => {
    // 73 h with a reset: over estimateMaxS (72 h = 259,200 s) → nothing covered on the 10th to 13th.
    const end = local("2026-01-13T17:00");
    const { days } = roll(A, [reading(end, 300, 1, 0, true)], NO_ESTIMATOR);
    expectRows(days, [row("2026-01-13", { readings: 1, gaps: 1, firstTs: end, lastTs: end })]);
  });

  it("estimates a gap of exactly the estimate limit", () => {
    // 2026-01-10 16:00 → 2026-01-13 16:00 = 72 h = estimateMaxS: estimated; the 13th's piece [00:00, 16:00) has
    // 7 h dark + 9 h light → 700 + 9 = 709 Wh; the 11th and 12th 1,311 Wh each (above).
    const end = local("2026-01-13T16:00");
    const { days } = roll(A, [reading(end, 300, 1, 0, true)]);
    expect([...days.values()].map((d) => Math.round(d.estimatedWh * 1e6) / 1e6)).toEqual([
      602, 1311, 1311, 709,
    ]);
  });
});
