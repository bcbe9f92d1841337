// The simulator's TRUE savings figures for a scope and a period (issue 5), from a truth file's per-day records
// (truth-days.ts), with the energy report's formulas (services/contract/energy.ts header, after IPMVP):
//   baseline  = legacy watts × dark hours        reporting = energy drawn (the truth: every interval, delivered
//   savings   = baseline − reporting                          or not; the report meters what arrived)
//   retrofit  = (legacy − LED watts) × dark hours
//   dimming   = LED watts × dark hours − reporting
// The dark hours are the simulator's own count (darkness.ts), not the platform's sunset/sunrise. What the truth
// cannot know (the hours the platform has data for) it states instead: the hours of the period the simulation
// covered, so a reader sees when a report and the truth are not about the same hours.
// Pure: the CLI (truth-report.ts) reads the file; tests pass a truth built in memory.
import { z } from "zod";
import { DISTRICT_NAMES } from "../services/contract/city.ts";
import { addDays, localInstant } from "../services/schedule/zone.ts";
import { round } from "./prng.ts";

const day = z.object({
  energy_wh: z.number(),
  burn_h: z.number(),
  covered_h: z.number(),
  dark_h: z.number({
    error: "missing: the truth file predates dark hours, or was not written by writeTruthFile",
  }),
});

/** The parts of a truth file (truth.ts FleetTruth) the figures need; the rest passes through unchecked. */
export const truthFileSchema = z.looseObject({
  seed: z.union([z.string(), z.number()]),
  written_at: z.string(),
  phase: z.enum(["backfill", "final"]).optional(),
  backfill: z
    .object({ from_ts: z.number(), to_ts: z.number(), interval_s: z.number(), completed: z.boolean() })
    .nullable()
    .optional(),
  devices: z.array(
    z.looseObject({
      id: z.string(),
      kind: z.string(),
      district: z.string(),
      led_watts: z.number().optional(),
      legacy_watts: z.number().optional(),
      days: z.record(z.string(), day).optional(),
    }),
  ),
});
export type TruthFile = z.infer<typeof truthFileSchema>;

export type TruthScope = { kind: "city" } | { kind: "district"; name: string } | { kind: "lamp"; id: string };
export type DateRange = { from: string; to: string };

export type TruthFigures = {
  burning_h: number;
  baseline_kwh: number;
  reporting_kwh: number;
  savings_kwh: number;
  savings_pct: number | null;
  retrofit_savings_kwh: number;
  dimming_savings_kwh: number;
  /** Hours the lamps actually burned (light on). */
  lit_h: number;
  /** Lamp-hours the simulation covered, of `lamp_h` (24 per lamp and day). */
  covered_h: number;
  lamp_h: number;
};
export type TruthLampRow = TruthFigures & { id: string; district: string; legacy_w: number; led_w: number };
export type TruthReport = {
  scope: TruthScope;
  period: DateRange & { days: number };
  lamps: number;
  totals: TruthFigures;
  /** Per district (always; one row for a district or lamp scope). */
  districts: (TruthFigures & { district: string; lamps: number })[];
  rows: TruthLampRow[];
  /** Lamp-days of the period the simulation did not cover in full (at most 50 listed). */
  uncovered: { id: string; day: string; covered_h: number }[];
};

export type Failure = { ok: false; field: string; reason: "invalid" | "unknown" | "empty"; message: string };
const fail = (field: string, reason: Failure["reason"], message: string): Failure => ({
  ok: false,
  field,
  reason,
  message,
});

/** The district as the registry spells it, from any case or a slug ("ben-msick"). */
export function districtNamed(text: string): string | undefined {
  const key = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  return DISTRICT_NAMES.find((d) => key(d) === key(text));
}

/** The truth's figures for `scope` over [from, to] (inclusive local dates). */
export function truthFigures(
  truth: TruthFile,
  scope: TruthScope,
  period: DateRange,
): ({ ok: true } & TruthReport) | Failure {
  const lamps = truth.devices.filter((d) => d.kind === "streetlight");
  const inScope = lamps.filter((d) =>
    scope.kind === "city" ? true : scope.kind === "district" ? d.district === scope.name : d.id === scope.id,
  );
  if (inScope.length === 0)
    return scope.kind === "lamp"
      ? fail("lamp", "unknown", `no streetlight ${scope.id} in the truth file`)
      : fail(scope.kind, "empty", "no streetlight of the truth file in this scope");
  const dates: string[] = [];
  for (let d = period.from; d <= period.to; d = addDays(d, 1)) dates.push(d);
  const rows: TruthLampRow[] = [];
  const uncovered: TruthReport["uncovered"] = [];
  for (const lamp of inScope) {
    const acc = { energyWh: 0, darkH: 0, litH: 0, coveredH: 0, lampH: 0 };
    for (const date of dates) {
      const length = (localInstant(addDays(date, 1), "00:00") - localInstant(date, "00:00")) / 3_600_000;
      const rec = lamp.days?.[date];
      acc.lampH += length;
      if (!rec || rec.covered_h < length - 1e-6)
        uncovered.push({ id: lamp.id, day: date, covered_h: round(rec?.covered_h ?? 0, 2) });
      if (!rec) continue;
      acc.energyWh += rec.energy_wh;
      acc.darkH += rec.dark_h;
      acc.litH += rec.burn_h;
      acc.coveredH += rec.covered_h;
    }
    const legacy = lamp.legacy_watts ?? 0;
    const led = lamp.led_watts ?? 0;
    rows.push({
      id: lamp.id,
      district: lamp.district,
      legacy_w: legacy,
      led_w: led,
      ...figures(
        acc.darkH,
        legacy * acc.darkH,
        led * acc.darkH,
        acc.energyWh,
        acc.litH,
        acc.coveredH,
        acc.lampH,
      ),
    });
  }
  const byDistrict = new Map<string, TruthLampRow[]>();
  for (const r of rows) byDistrict.set(r.district, [...(byDistrict.get(r.district) ?? []), r]);
  const districts = [...byDistrict.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([district, rs]) => ({ district, lamps: rs.length, ...sum(rs) }));
  return {
    ok: true,
    scope,
    period: { ...period, days: dates.length },
    lamps: rows.length,
    totals: sum(rows),
    districts,
    rows,
    uncovered: uncovered.slice(0, 50),
  };
}

function figures(
  darkH: number,
  baselineWh: number,
  ledDarkWh: number,
  energyWh: number,
  litH: number,
  coveredH: number,
  lampH: number,
): TruthFigures {
  const savingsWh = baselineWh - energyWh;
  return {
    burning_h: darkH,
    baseline_kwh: baselineWh / 1000,
    reporting_kwh: energyWh / 1000,
    savings_kwh: savingsWh / 1000,
    savings_pct: baselineWh > 0 ? (100 * savingsWh) / baselineWh : null,
    retrofit_savings_kwh: (baselineWh - ledDarkWh) / 1000,
    dimming_savings_kwh: (ledDarkWh - energyWh) / 1000,
    lit_h: litH,
    covered_h: coveredH,
    lamp_h: lampH,
  };
}

/** Sums of lamp rows; sums stay in full precision (rounding is the output's business). */
function sum(rows: readonly TruthLampRow[]): TruthFigures {
  const t = (k: keyof TruthFigures) => rows.reduce((s, r) => s + (r[k] ?? 0), 0);
  const baselineWh = t("baseline_kwh") * 1000;
  const energyWh = t("reporting_kwh") * 1000;
  const ledDarkWh = baselineWh - t("retrofit_savings_kwh") * 1000;
  return figures(t("burning_h"), baselineWh, ledDarkWh, energyWh, t("lit_h"), t("covered_h"), t("lamp_h"));
}
