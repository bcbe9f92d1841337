// A compliance report on screen: the summary, the least compliant lamps, then the deviations worst first — which
// lamp, what kind, from when to when (local time), the level expected against the level reported. Deviations sort
// with the API's own order (compliance-report.ts worstFirst).
import { worstFirst } from "../../command/schedules/compliance-report.ts";
import { DEVIATION_KINDS, type DeviationKind } from "../../contract/schedule.ts";
import type { ComplianceDeviation, ComplianceReport } from "../api-types.ts";
import { count } from "./rollout.ts";
import { fields, table } from "./table.ts";
import { localDateTime } from "./time.ts";

const minutes = (iso: string) => localDateTime(iso).slice(0, 16);

/** "2026-11-22 07:40–11:59", or both dates when the span crosses midnight. */
export function span(from: string, to: string): string {
  const a = minutes(from);
  const b = minutes(to);
  return a.slice(0, 10) === b.slice(0, 10) ? `${a}–${b.slice(11)}` : `${a}–${b}`;
}

const pct = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(1)} %`;
const reported = (d: ComplianceDeviation) =>
  d.reported_min === d.reported_max ? pct(d.reported_min) : `${d.reported_min}–${pct(d.reported_max)}`;

function scopeText(r: ComplianceReport): string {
  const w = r.window;
  const when =
    w.basis === "range"
      ? `${minutes(w.from)} to ${minutes(w.to)}`
      : `${w.basis === "last_night" ? "last night, " : "night "}${w.night}`;
  return `Compliance of ${r.scope.type} ${r.scope.id}, ${when} (${span(w.from, w.to)} local)`;
}

export type ComplianceView = { lamps: number; deviations: number };

export function formatCompliance(r: ComplianceReport, view: ComplianceView): string {
  const kinds = (Object.keys(DEVIATION_KINDS) as DeviationKind[])
    .filter((k) => (r.deviations_by_kind[k] ?? 0) > 0)
    .map((k) => `${k} ${count(r.deviations_by_kind[k] ?? 0)}`)
    .join(" · ");
  const lines = [
    scopeText(r),
    fields([
      [
        "lamps",
        `${count(r.lamps)}${r.no_data.length > 0 ? ` (${count(r.no_data.length)} without data, not counted)` : ""}`,
      ],
      ["samples", count(r.samples)],
      [
        "compliant",
        r.compliance_pct === null
          ? "no samples in the window"
          : `${count(r.compliant)} (${r.compliance_pct.toFixed(1)} %)`,
      ],
      ["tolerance", `±${r.tolerance_pct} % of level, ${r.grace_s} s grace after a change`],
      ["deviations", r.deviations_total === 0 ? "none" : `${count(r.deviations_total)}: ${kinds}`],
    ]),
  ];
  const worst = r.per_lamp.filter((l) => l.compliance_pct < 100).slice(0, view.lamps);
  if (worst.length > 0) {
    lines.push("", "Least compliant lamps:");
    lines.push(
      table(
        ["lamp", "compliance", "samples", "deviations"],
        worst.map((l) => [
          l.device_id,
          `${l.compliance_pct.toFixed(1)} %`,
          count(l.samples),
          String(l.deviations),
        ]),
      ),
    );
  }
  const deviations = [...r.deviations].sort(worstFirst);
  if (deviations.length > 0) {
    const shown = deviations.slice(0, view.deviations);
    lines.push("", "Deviations, worst first:");
    lines.push(
      table(
        ["lamp", "kind", "from–to (local)", "expected", "reported", "samples"],
        shown.map((d) => [
          d.device_id,
          d.kind,
          span(d.from, d.to),
          pct(d.expected_pct),
          reported(d),
          String(d.samples),
        ]),
      ),
    );
    const more = r.deviations_total - shown.length;
    if (more > 0)
      lines.push(`… ${count(more)} more (--deviations N to show more; --json for the API's answer)`);
  }
  if (r.no_data.length > 0) {
    const listed = r.no_data.slice(0, 20).join(", ");
    lines.push(
      "",
      `No data in the window: ${listed}${r.no_data.length > 20 ? ` … (${r.no_data.length} in all)` : ""}`,
    );
  }
  return lines.join("\n");
}
