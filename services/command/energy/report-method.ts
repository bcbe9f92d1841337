// How an energy report was computed, in words an auditor can check (issue 5: "every report states which tariff,
// factor, baseline wattages and method it used"). The texts follow the rollup rules of .design/issue5.md and the
// formulas of contract/energy.ts; the numbers in them are the ones this report used.
import { COVERAGE, ENERGY_TIME_ZONE, type EnergyReport } from "../../contract/energy.ts";

export type MethodInput = {
  tariffMadPerKwh: number;
  tariffSource: "config" | "query";
  gridKgCo2PerKwh: number;
  gridFactorSource: "config" | "query";
  gapS: number;
  estimateMaxH: number;
  standbyW?: number | undefined;
  wattages: EnergyReport["method"]["wattages"];
};

const TARIFF_SOURCES = {
  config:
    "configured (ENERGY_TARIFF_MAD_PER_KWH; the platform's default 1.28 MAD/kWh is Casablanca's public-lighting " +
    "average: about 1,070 MAD and 841 kWh per light point a year, L'Economiste article 1046815)",
  query: "given with this request (tariff_mad_per_kwh)",
} as const;

const FACTOR_SOURCES = {
  config:
    "configured (ENERGY_GRID_KG_CO2_PER_KWH; the platform's default 0.70 kg CO2/kWh is a placeholder: no official " +
    "Moroccan grid emission factor was found, coal was about 69 % of 2021 generation)",
  query: "given with this request (grid_kg_co2_per_kwh)",
} as const;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function methodOf(m: MethodInput): EnergyReport["method"] {
  const standby = m.standbyW === undefined ? "standby" : `standby (${m.standbyW} W, ENERGY_STANDBY_W)`;
  const classes =
    m.wattages.length === 0
      ? "none (no lamp of the scope has data or registered wattages)"
      : m.wattages
          .map((w) => `${w.legacy_w} W legacy / ${w.led_w} W LED: ${plural(w.lamps, "lamp")}`)
          .join("; ");
  return {
    protocol:
      "IPMVP (International Performance Measurement and Verification Protocol): Option B, every luminaire " +
      "metered, with Option A estimates (LED watts × level, hours stipulated by the calendar) where a lamp has " +
      "no usable meter data. Savings = baseline energy − reporting-period energy, without adjustments. Figures " +
      `are summed from daily rollups per lamp and local day (${ENERGY_TIME_ZONE}); rounded only for output.`,
    baseline:
      "Per lamp and day: the legacy system watts (lamp + ballast, from the registry when the day was computed) × " +
      "the burning hours over the stretches with data; summed over lamps and days. Wattage classes of the " +
      `scope: ${classes}.`,
    reporting:
      "Metered (Option B): the increase of the lamp's cumulative energy_wh between consecutive readings; after a " +
      "meter restart (meter_reset, or a reading below the previous one) the energy since the restart. An " +
      `interval longer than gap_s = ${m.gapS} s that the meter bridges plausibly is metered too, spread over the ` +
      `gap in proportion to burning hours (LED watts by night, ${standby} by day). Estimated (Option A): a short ` +
      "interval whose increase is implausible (above (1.25 × LED W + 5 W) × time) takes the reported power held " +
      "until the next reading; a gap with a restart or an implausible increase, up to estimate_max_h = " +
      `${m.estimateMaxH} h, takes the LED watts × the level the lamp's calendars and overrides asked for, ` +
      `${standby} when off. Longer gaps are missing. Energy of an interval crossing midnight is split in ` +
      "proportion to time.",
    savings:
      "savings = baseline − reporting = retrofit + dimming; retrofit = (legacy W − LED W) × burning hours; " +
      "dimming = LED W × burning hours − reporting (what the schedule saved below full LED power). " +
      `Cost: savings kWh × ${m.tariffMadPerKwh} MAD/kWh, ${TARIFF_SOURCES[m.tariffSource]}. ` +
      `CO2: savings kWh × ${m.gridKgCo2PerKwh} kg CO2/kWh / 1000 = tonnes, ${FACTOR_SOURCES[m.gridFactorSource]}. ` +
      "savings_pct = savings / baseline × 100. Hours without data count in neither baseline nor reporting.",
    burning_hours:
      "The astronomical night at each lamp's own latitude and longitude: sunset to sunrise (the sun's upper limb " +
      "at −0.833°, refraction included; suncalc, the NOAA definition), split at local midnights of " +
      `${ENERGY_TIME_ZONE} days (a day may be 23, 24 or 25 h long), counted only over the stretches with ` +
      "metered or estimated data.",
    coverage: { ...COVERAGE },
    tariff_mad_per_kwh: m.tariffMadPerKwh,
    tariff_source: m.tariffSource,
    grid_kg_co2_per_kwh: m.gridKgCo2PerKwh,
    grid_factor_source: m.gridFactorSource,
    gap_s: m.gapS,
    estimate_max_h: m.estimateMaxH,
    wattages: m.wattages,
  };
}

/** Wattage classes: the lamps' (legacy, LED) pairs, most common first. Lamps without wattages are left out. */
export function wattageClasses(
  lamps: readonly { legacy_w: number | null; led_w: number | null }[],
): EnergyReport["method"]["wattages"] {
  const counts = new Map<string, { legacy_w: number; led_w: number; lamps: number }>();
  for (const l of lamps) {
    if (l.legacy_w === null || l.led_w === null) continue;
    const key = `${l.legacy_w}/${l.led_w}`;
    const c = counts.get(key);
    if (c) c.lamps++;
    else counts.set(key, { legacy_w: l.legacy_w, led_w: l.led_w, lamps: 1 });
  }
  return [...counts.values()].sort(
    (a, b) => b.lamps - a.lamps || b.legacy_w - a.legacy_w || b.led_w - a.led_w,
  );
}
