// Option A estimate for a stretch without usable meter data (IPMVP Option A: measure the key parameter — the LED
// luminaire's watts — and stipulate the rest): the lamp drew its LED watts × the level the platform's calendars and
// overrides asked for (services/schedule/expected.ts), and its standby watts while that level was 0.
//
// The expected level is piecewise linear between breakpoints that ExpectedTimeline keeps to itself, so the integral
// bisects: a stretch over which rangeOver says the level is constant is exact; a stretch where the level is one
// straight line above 0 (a ramp; power is linear in it there) is exact by the trapezoid rule; anything else is
// halved, down to a millisecond, where the midpoint decides. A breakpoint then costs at most half a millisecond of
// LED power (0.014 mWh at 100 W), far under the minute grid the design allows, and a night about a hundred
// timeline evaluations (every switch is found by ~22 halvings of its hour block).
import type { ExpectedTimeline } from "../schedule/expected.ts";
import type { Estimator } from "./rollup.ts";

export type CalendarEstimatorInput = {
  timeline: Pick<ExpectedTimeline, "levelAt" | "rangeOver">;
  ledW: number;
  standbyW: number;
};

/** Smallest stretch the bisection splits (ms): a breakpoint inside it costs at most half a millisecond of power. */
const LEAF_MS = 1;
/** The integral starts from blocks this long (ms), aligned to the epoch so equal stretches split alike. */
const BLOCK_MS = 3_600_000;
const EPS = 1e-9;

export function calendarEstimator(input: CalendarEstimatorInput): Estimator {
  const { timeline, ledW, standbyW } = input;
  if (!(Number.isFinite(ledW) && ledW >= 0))
    throw new RangeError(`ledW: must be a non-negative finite number of watts, got ${ledW}`);
  if (!(Number.isFinite(standbyW) && standbyW >= 0))
    throw new RangeError(`standbyW: must be a non-negative finite number of watts, got ${standbyW}`);
  const watts = (levelPct: number) => (levelPct > 0 ? (ledW * levelPct) / 100 : standbyW);

  /** Watt-milliseconds over [s, e]. */
  const integrate = (s: number, e: number): number => {
    const { min, max } = timeline.rangeOver(s, e);
    const span = e - s;
    if (max - min <= EPS) return watts(min) * span;
    if (min > 0) {
      // One straight line? Then power (linear in the level above 0) integrates exactly by the trapezoid rule.
      const l0 = timeline.levelAt(s);
      const l1 = timeline.levelAt(e);
      const straight = [0.25, 0.5, 0.75].every(
        (f) => Math.abs(timeline.levelAt(s + f * span) - (l0 + f * (l1 - l0))) <= EPS,
      );
      if (straight && Math.abs(Math.min(l0, l1) - min) <= EPS && Math.abs(Math.max(l0, l1) - max) <= EPS)
        return ((watts(l0) + watts(l1)) / 2) * span;
    }
    if (span <= LEAF_MS) return watts(timeline.levelAt(s + span / 2)) * span;
    const mid = s + Math.floor(span / 2);
    return integrate(s, mid) + integrate(mid, e);
  };

  return (fromMs, toMs) => {
    if (!(Number.isFinite(fromMs) && Number.isFinite(toMs)))
      throw new RangeError(`fromMs, toMs: must be finite epoch ms, got ${fromMs}, ${toMs}`);
    let wms = 0;
    for (let s = fromMs; s < toMs; ) {
      const e = Math.min(toMs, (Math.floor(s / BLOCK_MS) + 1) * BLOCK_MS);
      wms += integrate(s, e);
      s = e;
    }
    return wms / 3_600_000;
  };
}
