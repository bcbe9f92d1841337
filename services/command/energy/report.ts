// The energy and savings report (issue 5; contract/energy.ts energyReport): a scope (lamp, group, district, city)
// and a period in, the IPMVP figures out — totals, a per-day series, a per-lamp breakdown, the completeness of the
// data with the lamps responsible, the method in words and how fresh the rollups are. Sums come from SQL
// (report-query.ts); in-service hours from the registry (service-window.ts); the arithmetic is figures.ts.
import type { DatabaseSync } from "node:sqlite";
import {
  ENERGY_TIME_ZONE,
  type EnergyLampRow,
  type EnergyReport,
  type EnergyReportQuery,
} from "../../contract/energy.ts";
import {
  addSums,
  type EnergySums,
  energyFigures,
  percentOf,
  roundTo,
  ZERO_SUMS,
} from "../../energy/figures.ts";
import { periodDays, type ReportPeriod, resolvePeriod } from "../../energy/period.ts";
import { type Interval, missingSeconds, serviceByDay, serviceWindow } from "../../energy/service-window.ts";
import type { Clock } from "../liveness/clock.ts";
import { type LampCoverage, responsibleLamps } from "./report-completeness.ts";
import { methodOf, wattageClasses } from "./report-method.ts";
import { type LampSums, reportQueries, type ScopeRefusal, type ScopeSpec } from "./report-query.ts";

/** The settings a report reads (command config `energy`, services/command/config.ts). */
export type EnergyReportConfig = {
  tariffMadPerKwh: number;
  gridKgCo2PerKwh: number;
  gapS: number;
  estimateMaxH: number;
  /** Power of a lamp switched off, W (estimates and bridged gaps); stated in the method when known. */
  standbyW?: number;
};

export type EnergyReportDeps = {
  db: DatabaseSync;
  config: { readonly energy: Readonly<EnergyReportConfig> };
  clock: Pick<Clock, "now">;
  /** The rollup service's state: lamps whose readings wait to be rolled up (absent: 0). */
  status?: () => { pendingLamps: number };
};

export type ReportRefusal =
  | ScopeRefusal
  | { reason: "invalid_period"; field: "period" | "from" | "to"; message: string };

export type ReportResult =
  | { ok: true; report: EnergyReport; period: ReportPeriod }
  | ({ ok: false } & ReportRefusal);

export type EnergyReports = { report(query: EnergyReportQuery): ReportResult };

function scopeSpecOf(q: EnergyReportQuery): ScopeSpec {
  if (q.lamp !== undefined) return { kind: "lamp", id: q.lamp };
  if (q.group !== undefined) return { kind: "group", id: q.group };
  if (q.district !== undefined) return { kind: "district", id: q.district };
  return { kind: "city", id: null };
}

/** The weighted-mean wattage of a lamp's rows (by burning seconds), else its rows', else the registry's. */
function wattOf(
  sums: LampSums | undefined,
  weighted: number,
  max: number,
  registry: number | null,
): number | null {
  if (sums && sums.darkS > 0) return roundTo.w(weighted / sums.darkS);
  if (sums) return roundTo.w(max);
  return registry === null ? null : roundTo.w(registry);
}

const seconds = (w: Interval | null) => (w ? (w.endMs - w.startMs) / 1000 : 0);

export function createEnergyReports(deps: EnergyReportDeps): EnergyReports {
  const queries = reportQueries(deps.db);
  return {
    report(q) {
      const nowMs = deps.clock.now();
      const resolved = resolvePeriod(q, nowMs);
      if (!resolved.ok)
        return { ok: false, reason: "invalid_period", field: resolved.field, message: resolved.message };
      const period = resolved.period;
      const spec = scopeSpecOf(q);
      const scope = queries.scope(spec);
      if (!scope.ok) return scope;

      const cfg = deps.config.energy;
      const prices = {
        tariffMadPerKwh: q.tariff_mad_per_kwh ?? cfg.tariffMadPerKwh,
        gridKgCo2PerKwh: q.grid_kg_co2_per_kwh ?? cfg.gridKgCo2PerKwh,
      };
      const days = periodDays(period.from, period.to);
      const byLamp = new Map(queries.sumsByLamp(spec, period.from, period.to).map((s) => [s.id, s]));

      const rows: EnergyLampRow[] = [];
      const coverage: LampCoverage[] = [];
      const windows: Interval[] = [];
      let totals: EnergySums = { ...ZERO_SUMS };
      let lampS = 0;
      let missingS = 0;
      for (const lamp of scope.lamps) {
        const window = serviceWindow(lamp, period, nowMs);
        const sums = byLamp.get(lamp.id);
        // A lamp counts when it was in service some time of the period, or has data in it (its registry dates
        // notwithstanding: energy that was metered is never dropped).
        if (!window && !sums) continue;
        const s = sums ?? ZERO_SUMS;
        const inService = seconds(window);
        const missing = missingSeconds(inService, s.meteredS, s.estimatedS);
        if (window) windows.push(window);
        totals = addSums(totals, s);
        lampS += inService;
        missingS += missing;
        rows.push({
          id: lamp.id,
          district: lamp.district,
          legacy_w: wattOf(sums, s.legacyDarkWs, sums?.maxLegacyW ?? 0, lamp.legacyW),
          led_w: wattOf(sums, s.ledDarkWs, sums?.maxLedW ?? 0, lamp.ledW),
          ...energyFigures(s, missing, prices),
          lit_h: roundTo.h((sums?.litS ?? 0) / 3600),
          meter_resets: sums?.resets ?? 0,
          gaps: sums?.gaps ?? 0,
        });
        coverage.push({
          id: lamp.id,
          district: lamp.district,
          window,
          estimatedS: s.estimatedS,
          missingS: missing,
          gaps: sums?.gaps ?? 0,
          resets: sums?.resets ?? 0,
        });
      }

      // The series: every day of the period that has begun.
      const begun = days.filter((d) => d.startMs < nowMs);
      const byDay = new Map(queries.sumsByDay(spec, period.from, period.to).map((s) => [s.day, s]));
      const series = serviceByDay(windows, begun).map((d) => {
        const s = byDay.get(d.date) ?? ZERO_SUMS;
        return {
          date: d.date,
          lamps: d.lamps,
          ...energyFigures(s, missingSeconds(d.seconds, s.meteredS, s.estimatedS), prices),
        };
      });

      const coveredHours = (s: number) => roundTo.h(s / 3600) > 0;
      const oldest = queries.oldestCursor(spec);
      const report: EnergyReport = {
        scope: { kind: scope.kind, id: scope.id, name: scope.name, lamps: rows.length },
        period: {
          from: period.from,
          to: period.to,
          days: period.days,
          time_zone: ENERGY_TIME_ZONE,
          start: new Date(period.startMs).toISOString(),
          end: new Date(period.endMs).toISOString(),
          partial: period.partial,
        },
        generated_at: new Date(nowMs).toISOString(),
        method: methodOf({
          tariffMadPerKwh: prices.tariffMadPerKwh,
          tariffSource: q.tariff_mad_per_kwh === undefined ? "config" : "query",
          gridKgCo2PerKwh: prices.gridKgCo2PerKwh,
          gridFactorSource: q.grid_kg_co2_per_kwh === undefined ? "config" : "query",
          gapS: cfg.gapS,
          estimateMaxH: cfg.estimateMaxH,
          standbyW: cfg.standbyW,
          wattages: wattageClasses(rows),
        }),
        totals: energyFigures(totals, missingS, prices),
        completeness: {
          lamp_h: roundTo.h(lampS / 3600),
          metered_pct: percentOf(totals.meteredS, lampS),
          estimated_pct: percentOf(totals.estimatedS, lampS),
          missing_pct: percentOf(missingS, lampS),
          lamps_with_estimates: coverage.filter((l) => coveredHours(l.estimatedS)).length,
          lamps_with_missing: coverage.filter((l) => coveredHours(l.missingS)).length,
          responsible: responsibleLamps({
            lamps: coverage,
            days,
            from: period.from,
            to: period.to,
            gapS: cfg.gapS,
            queries,
          }),
        },
        freshness: {
          computed_through: oldest === null ? null : new Date(oldest).toISOString(),
          pending_lamps: deps.status?.().pendingLamps ?? 0,
        },
        series,
        lamps: rows,
      };
      return { ok: true, report, period };
    },
  };
}
