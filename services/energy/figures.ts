// Sums of daily rollup rows → the figures of a report, a lamp or a day (contract/energy.ts, energyFigures), after
// IPMVP (shared/DOMAIN.md "Auditing energy savings"): savings = baseline − reporting-period energy, split into the
// retrofit share (legacy − LED watts over the same burning hours) and the dimming share (what the schedule saved
// below full LED power). Sums are kept in full precision (watt-seconds, watt-hours, seconds); rounding to
// ENERGY_DECIMALS happens once, here, at output.
import { ENERGY_DECIMALS, type EnergyFigures } from "../contract/energy.ts";

/** Σ over lamp-days of energy_daily columns, in the rows' units. */
export type EnergySums = {
  /** Σ dark_s: astronomical night seconds over the covered stretches. */
  darkS: number;
  /** Σ legacy_w · dark_s (W·s): the baseline. */
  legacyDarkWs: number;
  /** Σ led_w · dark_s (W·s): full LED power over the same hours. */
  ledDarkWs: number;
  meteredWh: number;
  estimatedWh: number;
  meteredS: number;
  estimatedS: number;
};

export const ZERO_SUMS: Readonly<EnergySums> = Object.freeze({
  darkS: 0,
  legacyDarkWs: 0,
  ledDarkWs: 0,
  meteredWh: 0,
  estimatedWh: 0,
  meteredS: 0,
  estimatedS: 0,
});

export function addSums(a: Readonly<EnergySums>, b: Readonly<EnergySums>): EnergySums {
  return {
    darkS: a.darkS + b.darkS,
    legacyDarkWs: a.legacyDarkWs + b.legacyDarkWs,
    ledDarkWs: a.ledDarkWs + b.ledDarkWs,
    meteredWh: a.meteredWh + b.meteredWh,
    estimatedWh: a.estimatedWh + b.estimatedWh,
    meteredS: a.meteredS + b.meteredS,
    estimatedS: a.estimatedS + b.estimatedS,
  };
}

/** What money and CO2 are computed with. */
export type Prices = { tariffMadPerKwh: number; gridKgCo2PerKwh: number };

const WS_PER_KWH = 3.6e6;
const S_PER_H = 3600;

/**
 * `value` rounded to `decimals` places, halves away from zero (so −1.005 and 1.005 round alike), without binary
 * artefacts (1.005 · 100 is 100.49999…; 15 significant digits is what a double holds reliably) and without −0.
 */
export function round(value: number, decimals: number): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** decimals;
  let scaled = Math.abs(value) * f;
  // Only a near-tie can be a binary artefact; toPrecision is slow, so it is asked only then.
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-7) scaled = Number(scaled.toPrecision(15));
  const r = (Math.sign(value) * Math.round(scaled)) / f;
  return r === 0 ? 0 : r;
}

/** Rounding of each unit of the contract (ENERGY_DECIMALS). */
export const roundTo = {
  kwh: (v: number) => round(v, ENERGY_DECIMALS.kwh),
  h: (v: number) => round(v, ENERGY_DECIMALS.h),
  mad: (v: number) => round(v, ENERGY_DECIMALS.mad),
  tCo2: (v: number) => round(v, ENERGY_DECIMALS.t_co2),
  pct: (v: number) => round(v, ENERGY_DECIMALS.pct),
  w: (v: number) => round(v, ENERGY_DECIMALS.w),
} as const;

/** The unrounded figures, for callers that sum or compare before output. */
export function rawFigures(s: Readonly<EnergySums>, missingS: number, prices: Prices): EnergyFigures {
  const baseline = s.legacyDarkWs / WS_PER_KWH;
  const metered = s.meteredWh / 1000;
  const estimated = s.estimatedWh / 1000;
  const reporting = metered + estimated;
  const savings = baseline - reporting;
  return {
    burning_h: s.darkS / S_PER_H,
    baseline_kwh: baseline,
    metered_kwh: metered,
    estimated_kwh: estimated,
    reporting_kwh: reporting,
    savings_kwh: savings,
    savings_pct: baseline > 0 ? (savings / baseline) * 100 : null,
    retrofit_savings_kwh: (s.legacyDarkWs - s.ledDarkWs) / WS_PER_KWH,
    dimming_savings_kwh: s.ledDarkWs / WS_PER_KWH - reporting,
    savings_mad: savings * prices.tariffMadPerKwh,
    savings_t_co2: (savings * prices.gridKgCo2PerKwh) / 1000,
    metered_h: s.meteredS / S_PER_H,
    estimated_h: s.estimatedS / S_PER_H,
    missing_h: Math.max(0, missingS) / S_PER_H,
  };
}

/** Each figure rounded to its unit's decimals; every one from the full-precision value, none from another rounded. */
export function roundFigures(f: Readonly<EnergyFigures>): EnergyFigures {
  return {
    burning_h: roundTo.h(f.burning_h),
    baseline_kwh: roundTo.kwh(f.baseline_kwh),
    metered_kwh: roundTo.kwh(f.metered_kwh),
    estimated_kwh: roundTo.kwh(f.estimated_kwh),
    reporting_kwh: roundTo.kwh(f.reporting_kwh),
    savings_kwh: roundTo.kwh(f.savings_kwh),
    savings_pct: f.savings_pct === null ? null : roundTo.pct(f.savings_pct),
    retrofit_savings_kwh: roundTo.kwh(f.retrofit_savings_kwh),
    dimming_savings_kwh: roundTo.kwh(f.dimming_savings_kwh),
    savings_mad: roundTo.mad(f.savings_mad),
    savings_t_co2: roundTo.tCo2(f.savings_t_co2),
    metered_h: roundTo.h(f.metered_h),
    estimated_h: roundTo.h(f.estimated_h),
    missing_h: roundTo.h(f.missing_h),
  };
}

/** Sums → the figures as a report carries them (rounded). `missingS`: lamp-seconds in service without data. */
export function energyFigures(s: Readonly<EnergySums>, missingS: number, prices: Prices): EnergyFigures {
  return roundFigures(rawFigures(s, missingS, prices));
}

/** part / whole in %, rounded; null without a whole. */
export function percentOf(part: number, whole: number): number | null {
  return whole > 0 ? roundTo.pct((part / whole) * 100) : null;
}
