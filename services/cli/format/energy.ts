// An energy and savings report on screen (issue 5): what it covers, the totals with their units, the split into
// retrofit and dimming, money and CO2 with the tariff and factor used, how complete the data is and which lamps
// lack it, the method in a few lines, and how fresh the rollups are. The CSV and JSON carry everything; this is
// what an energy manager reads before signing.
import { ENERGY_DECIMALS } from "../../contract/energy.ts";
import type { EnergyRebuild, EnergyReport, EnergyRollups } from "../api-types.ts";
import { count } from "./rollout.ts";
import { fields, plural, table, truncate } from "./table.ts";
import { localDateTime } from "./time.ts";

type Unit = keyof typeof ENERGY_DECIMALS;

/** 12,345.678 with the unit's decimals (thousands grouped on screen only; the CSV never groups). */
export function amount(v: number | null, unit: Unit): string {
  if (v === null) return "—";
  const d = ENERGY_DECIMALS[unit];
  return v.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

const kwh = (v: number) => `${amount(v, "kwh")} kWh`;
const h = (v: number) => `${amount(v, "h")} h`;
const pct = (v: number | null) => (v === null ? "—" : `${amount(v, "pct")} %`);

function scopeLine(r: EnergyReport): string {
  const what =
    r.scope.kind === "city"
      ? `the city of ${r.scope.name}`
      : r.scope.kind === "group"
        ? `group ${r.scope.id} (${r.scope.name})`
        : `${r.scope.kind} ${r.scope.name}`;
  return `Energy and savings of ${what}: ${plural(r.scope.lamps, "streetlight")}`;
}

function periodLine(r: EnergyReport): string {
  const p = r.period;
  const range = p.from === p.to ? p.from : `${p.from} to ${p.to}`;
  const partial = p.partial ? `; partial: up to ${localDateTime(r.generated_at).slice(0, 16)}` : "";
  return `${range} (${plural(p.days, "day")}, local days ${p.time_zone}${partial})`;
}

export type EnergyView = { lamps: number };

export function formatEnergyReport(r: EnergyReport, view: EnergyView): string {
  const t = r.totals;
  const m = r.method;
  const c = r.completeness;
  const lines = [
    scopeLine(r),
    fields([
      ["period", periodLine(r)],
      ["baseline", `${kwh(t.baseline_kwh)}  (legacy watts × ${h(t.burning_h)} of burning)`],
      [
        "reporting",
        `${kwh(t.reporting_kwh)}  (metered ${kwh(t.metered_kwh)} + estimated ${kwh(t.estimated_kwh)})`,
      ],
      ["savings", `${kwh(t.savings_kwh)}  (${pct(t.savings_pct)} of the baseline)`],
      ["  retrofit", `${kwh(t.retrofit_savings_kwh)}  (legacy − LED watts over the same hours)`],
      ["  dimming", `${kwh(t.dimming_savings_kwh)}  (the schedule below full LED power)`],
      [
        "cost saved",
        `${amount(t.savings_mad, "mad")} MAD  at ${m.tariff_mad_per_kwh} MAD/kWh (${m.tariff_source})`,
      ],
      [
        "CO2 avoided",
        `${amount(t.savings_t_co2, "t_co2")} t  at ${m.grid_kg_co2_per_kwh} kg CO2/kWh (${m.grid_factor_source})`,
      ],
    ]),
    "",
    `Completeness, of ${amount(c.lamp_h, "h")} lamp-hours in service:`,
    fields([
      ["metered", `${h(t.metered_h)}  (${pct(c.metered_pct)})`],
      [
        "estimated",
        `${h(t.estimated_h)}  (${pct(c.estimated_pct)}), ${plural(c.lamps_with_estimates, "lamp")}`,
      ],
      [
        "missing",
        `${h(t.missing_h)}  (${pct(c.missing_pct)}), ${plural(c.lamps_with_missing, "lamp")}; left out of the figures`,
      ],
    ]),
  ];
  const worst = c.responsible.slice(0, view.lamps);
  if (worst.length > 0) {
    lines.push("", "Lamps with estimated or missing hours, worst first:");
    lines.push(
      table(
        ["lamp", "district", "missing", "estimated", "why"],
        worst.map((l) => [l.id, l.district, h(l.missing_h), h(l.estimated_h), truncate(l.why, 110)]),
      ),
    );
    const more = Math.max(c.lamps_with_estimates, c.lamps_with_missing, c.responsible.length) - worst.length;
    if (more > 0) lines.push(`… more (--lamps N to list more; --csv summary or --json for all)`);
  }
  const classes =
    m.wattages.length === 0
      ? "none"
      : m.wattages.map((w) => `${w.legacy_w} W → ${w.led_w} W ×${count(w.lamps)}`).join(", ");
  lines.push(
    "",
    "Method (IPMVP Option B, metered per lamp; Option A estimates where the meter has no usable data):",
    fields([
      [
        "burning hours",
        `sunset → sunrise at each lamp (suncalc), ${r.period.time_zone} days, over hours with data`,
      ],
      ["baseline", `legacy W × burning hours; wattage classes (legacy → LED): ${classes}`],
      [
        "reporting",
        `each lamp's meter increases; gaps over ${m.gap_s} s bridged by the meter, else estimated up to ${m.estimate_max_h} h`,
      ],
      ["savings", "baseline − reporting = retrofit + dimming; hours without data left out of both"],
      ["texts", "the full method: --csv summary, or --json (method.*)"],
    ]),
    "",
    freshnessLine(r.freshness),
  );
  return lines.join("\n");
}

function freshnessLine(f: EnergyReport["freshness"]): string {
  const through =
    f.computed_through === null
      ? "no lamp of the scope has rolled-up readings"
      : `rollups computed through ${localDateTime(f.computed_through).slice(0, 16)} (local; the oldest lamp's)`;
  const pending =
    f.pending_lamps === 0 ? "none waiting" : `${plural(f.pending_lamps, "lamp")} waiting to be rolled up`;
  return `Freshness: ${through}; ${pending}.`;
}

/** GET /v1/energy/rollups on screen. */
export function formatRollups(s: EnergyRollups): string {
  const when = (iso: string | null) => (iso === null ? "never" : `${localDateTime(iso)} (local)`);
  return [
    "Daily energy rollups:",
    fields([
      ["lamps with data", count(s.lamps_with_data)],
      ["pending lamps", count(s.pending_lamps)],
      ["computed through", when(s.computed_through)],
      ["last cycle", when(s.last_cycle_at)],
      ["last reconcile", when(s.last_reconcile_at)],
      ["recomputed", `${count(s.recomputed_lamp_days)} lamp-days since the service started`],
      ["rows", count(s.rows)],
      [
        "no wattages",
        s.lamps_without_wattages === undefined
          ? undefined
          : `${plural(s.lamps_without_wattages, "streetlight")} without led_watts/legacy_watts (not rolled up)`,
      ],
    ]),
  ].join("\n");
}

/** POST /v1/energy/rollups/rebuild's answer on screen. */
export function formatRebuild(r: EnergyRebuild): string {
  const left =
    r.lamps_without_wattages > 0
      ? ` (${plural(r.lamps_without_wattages, "streetlight")} left out: no wattages in the registry)`
      : "";
  return `Rebuilding the rollups of ${plural(r.lamps, "streetlight")} from ${r.from} from InfluxDB${left}. Follow it with: energy rollups`;
}
