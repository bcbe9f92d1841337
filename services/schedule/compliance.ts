// Does a lamp obey its schedule? (issue 4, "Checking that lamps obey"). Each reported sample is compared with
// the expected level (expected.ts). A sample is compliant when |reported − expected| ≤ tolerance at SOME instant
// of [ts − grace, ts]: the grace covers delivery and reporting lag after a change (a lamp that dims at 00:00:40
// and reports at 00:01 is on time). Non-compliant samples are classed (contract DEVIATION_KINDS):
//   burning_by_day  the sun is up at the lamp, the schedule says off, and the lamp reports a level or draws more
//                   than standby power (a lamp reporting 0 % while drawing power is a classic stuck relay);
//   dark            the schedule says on, the lamp reports 0 %;
//   wrong_level     anything else.
// Consecutive non-compliant samples of one kind merge into one deviation.
import type { DeviationKind } from "../contract/schedule.ts";
import type { ExpectedTimeline } from "./expected.ts";
import { isDaylight, type Site } from "./sun.ts";

export type Sample = { ts: number; dimPct: number; powerW?: number };
export type ComplianceOptions = { tolerancePct: number; graceMs: number; standbyW: number };
export type Deviation = {
  kind: DeviationKind;
  fromMs: number;
  toMs: number;
  /** Expected level at the first sample of the deviation. */
  expectedPct: number;
  reportedMin: number;
  reportedMax: number;
  samples: number;
};
export type LampCompliance = { samples: number; compliant: number; deviations: Deviation[] };

function checkOptions(opts: ComplianceOptions): void {
  if (!(opts.tolerancePct >= 0 && opts.tolerancePct <= 100))
    throw new RangeError(`tolerancePct: must be within [0, 100], got ${opts.tolerancePct}`);
  if (!(opts.graceMs >= 0 && Number.isFinite(opts.graceMs)))
    throw new RangeError(`graceMs: must be a non-negative number, got ${opts.graceMs}`);
  if (!(opts.standbyW >= 0 && Number.isFinite(opts.standbyW)))
    throw new RangeError(`standbyW: must be a non-negative number, got ${opts.standbyW}`);
}

type Verdict = { kind: DeviationKind; expected: number } | null;

function judge(s: Sample, timeline: ExpectedTimeline, site: Site, opts: ComplianceOptions): Verdict {
  const fromMs = s.ts - opts.graceMs;
  const expected = timeline.levelAt(s.ts);
  const drawing = s.powerW !== undefined && Number.isFinite(s.powerW) && s.powerW > opts.standbyW;
  // Cheapest first: most samples match the level due at their own instant.
  const levelOk =
    Math.abs(s.dimPct - expected) <= opts.tolerancePct ||
    timeline.distanceOver(fromMs, s.ts, s.dimPct) <= opts.tolerancePct;
  // Power above standby is a day burner only if the schedule said off for the whole grace window (a lamp
  // switched off at sunrise may report its last watts a little later).
  const powerOk =
    !drawing || expected > 0 || timeline.rangeOver(fromMs, s.ts).max > 0 || !isDaylight(s.ts, site);
  if (levelOk && powerOk) return null;
  if (expected === 0 && (s.dimPct > 0 || drawing) && isDaylight(s.ts, site))
    return { kind: "burning_by_day", expected };
  if (expected > 0 && s.dimPct === 0) return { kind: "dark", expected };
  return { kind: "wrong_level", expected };
}

/**
 * Compliance of one lamp's samples (any order; samples whose dimPct is not a finite number are ignored, as a
 * reading without a level says nothing about obedience). Deviations come in time order.
 */
export function assessLamp(
  samples: readonly Sample[],
  timeline: ExpectedTimeline,
  site: Site,
  opts: ComplianceOptions,
): LampCompliance {
  checkOptions(opts);
  const sorted = samples.filter((s) => Number.isFinite(s.ts) && Number.isFinite(s.dimPct));
  sorted.sort((a, b) => a.ts - b.ts);
  let compliant = 0;
  const deviations: Deviation[] = [];
  let open: Deviation | null = null;
  for (const s of sorted) {
    const v = judge(s, timeline, site, opts);
    if (!v) {
      compliant++;
      open = null;
      continue;
    }
    if (open && open.kind === v.kind) {
      open.toMs = s.ts;
      open.reportedMin = Math.min(open.reportedMin, s.dimPct);
      open.reportedMax = Math.max(open.reportedMax, s.dimPct);
      open.samples++;
      continue;
    }
    open = {
      kind: v.kind,
      fromMs: s.ts,
      toMs: s.ts,
      expectedPct: v.expected,
      reportedMin: s.dimPct,
      reportedMax: s.dimPct,
      samples: 1,
    };
    deviations.push(open);
  }
  return { samples: sorted.length, compliant, deviations };
}

/** compliance_pct of the API: compliant / samples × 100, null without samples (such a lamp is `no_data`). */
export function compliancePct(c: Pick<LampCompliance, "samples" | "compliant">): number | null {
  return c.samples === 0 ? null : (c.compliant / c.samples) * 100;
}
