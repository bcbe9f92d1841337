// Adds up lamp by lamp what assessLamp (services/schedule/compliance.ts) found into the answer of
// GET /v1/compliance, pure. Lamps arrive chunk by chunk; only per-lamp counts and the worst deviations are kept,
// so a district's month costs memory in lamps, not in samples.
import type { DeviationKind } from "../../contract/schedule.ts";
import type { Deviation, LampCompliance } from "../../schedule/compliance.ts";

/** Deviations listed in one answer (the rest are counted): the worst first. */
export const MAX_LISTED_DEVIATIONS = 500;

export type DeviationOut = {
  device_id: string;
  kind: DeviationKind;
  from: string;
  to: string;
  expected_pct: number;
  reported_min: number;
  reported_max: number;
  samples: number;
};

export type LampOut = {
  device_id: string;
  samples: number;
  compliant: number;
  compliance_pct: number;
  /** How many deviations the lamp had (the worst of all lamps are listed in `deviations`). */
  deviations: number;
};

export type ReportTotals = {
  /** Lamps in the scope, with or without data. */
  lamps: number;
  samples: number;
  compliant: number;
  /** null when no lamp reported anything in the window. */
  compliance_pct: number | null;
  deviations_by_kind: Record<DeviationKind, number>;
  deviations_total: number;
  /** The lamps, least compliant first. */
  per_lamp: LampOut[];
  deviations: DeviationOut[];
  /** Lamps with no sample in the window: not counted in the percentages. */
  no_data: string[];
};

export type ReportBuilder = {
  addLamp(deviceId: string, result: LampCompliance): void;
  addNoData(deviceId: string): void;
  finish(): ReportTotals;
};

/** Percent with two decimals (100 × 2/3 → 66.67); null for nothing to count. */
export function percent(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 100;
}

/** The largest distance between the expected level and a reported one. */
const gapOf = (d: DeviationOut) =>
  Math.max(Math.abs(d.expected_pct - d.reported_min), Math.abs(d.expected_pct - d.reported_max));

/**
 * Worst first: the longest (most samples) first, then the furthest from the schedule, then the earliest. A lamp
 * burning all day outranks a level a few percent off for one reading, which is what an operator acts on first.
 */
export function worstFirst(a: DeviationOut, b: DeviationOut): number {
  return (
    b.samples - a.samples ||
    gapOf(b) - gapOf(a) ||
    a.from.localeCompare(b.from) ||
    a.device_id.localeCompare(b.device_id)
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

function deviationOut(deviceId: string, d: Deviation): DeviationOut {
  return {
    device_id: deviceId,
    kind: d.kind,
    from: iso(d.fromMs),
    to: iso(d.toMs),
    expected_pct: d.expectedPct,
    reported_min: d.reportedMin,
    reported_max: d.reportedMax,
    samples: d.samples,
  };
}

export function createReportBuilder(lampsInScope: number, maxListed = MAX_LISTED_DEVIATIONS): ReportBuilder {
  const perLamp: LampOut[] = [];
  const noData: string[] = [];
  const byKind: Record<DeviationKind, number> = { burning_by_day: 0, dark: 0, wrong_level: 0 };
  let listed: DeviationOut[] = [];
  let samples = 0;
  let compliant = 0;
  let total = 0;

  /** Keeps the list bounded: sort and cut whenever it has grown to twice what is kept (amortised). */
  const trim = () => {
    listed.sort(worstFirst);
    listed = listed.slice(0, maxListed);
  };

  return {
    addLamp(deviceId, r) {
      samples += r.samples;
      compliant += r.compliant;
      total += r.deviations.length;
      for (const d of r.deviations) {
        byKind[d.kind] += 1;
        listed.push(deviationOut(deviceId, d));
      }
      if (listed.length > 2 * maxListed) trim();
      perLamp.push({
        device_id: deviceId,
        samples: r.samples,
        compliant: r.compliant,
        compliance_pct: percent(r.compliant, r.samples) ?? 0,
        deviations: r.deviations.length,
      });
    },
    addNoData(deviceId) {
      noData.push(deviceId);
    },
    finish() {
      trim();
      perLamp.sort((a, b) => a.compliance_pct - b.compliance_pct || a.device_id.localeCompare(b.device_id));
      noData.sort();
      return {
        lamps: lampsInScope,
        samples,
        compliant,
        compliance_pct: percent(compliant, samples),
        deviations_by_kind: byKind,
        deviations_total: total,
        per_lamp: perLamp,
        deviations: listed,
        no_data: noData,
      };
    },
  };
}
