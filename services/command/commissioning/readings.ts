// The readings check, pure: are there N readings since the run started, at the device's interval?
// Gaps within ±50 % of report_interval_s: tight enough to catch a device configured for another interval (or
// batching its readings), loose enough for the jitter of a real controller and of the network.
import { type CheckOutcome, failed, fmt, passed, type ReadingRow, range } from "./checks.ts";

export const GAP_TOLERANCE = 0.5;

/**
 * Looks at the first `needed` readings (sorted by time). Undefined while there are fewer: keep waiting.
 */
export function evaluateReadings(
  rows: readonly ReadingRow[],
  intervalS: number,
  needed: number,
): CheckOutcome | undefined {
  if (rows.length < needed) return undefined;
  const times = rows
    .map((r) => r.time)
    .sort((a, b) => a - b)
    .slice(0, needed);
  const gaps = times.slice(1).map((t, i) => (t - (times[i] as number)) / 1000);
  const lo = intervalS * (1 - GAP_TOLERANCE);
  const hi = intervalS * (1 + GAP_TOLERANCE);
  const data = {
    count: needed,
    times: times.map((t) => new Date(t).toISOString()),
    gaps_s: gaps,
    expected_s: intervalS,
  };
  const summary = `${needed} readings, ${gaps.length === 1 ? "gap" : "gaps"} ${range(gaps)} s (expected ${fmt(intervalS)} s)`;
  const bad = gaps.filter((g) => g < lo || g > hi);
  if (bad.length === 0) return passed(summary, data);
  const worst = bad.reduce((w, g) => (Math.abs(g - intervalS) > Math.abs(w - intervalS) ? g : w));
  const why =
    worst < lo
      ? `readings come faster than the registered interval (is report_interval_s right, or is it sending a backlog?)`
      : `readings were missed or the device reports less often than registered`;
  return failed(`${summary}: a gap of ${fmt(worst)} s is outside ${fmt(lo)}–${fmt(hi)} s; ${why}`, data);
}

/** The failure when the wait ran out: how many arrived, and why the others may not have. */
export function tooFewReadings(
  found: number,
  needed: number,
  waitedS: number,
  rejects: { total: number; by_reason: Record<string, number> } | undefined,
  influxError: string | undefined,
): CheckOutcome {
  let detail = `${found} of ${needed} valid readings stored within ${fmt(waitedS, 0)} s of the run's start`;
  if (rejects && rejects.total > 0) {
    const reasons = Object.entries(rejects.by_reason)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r} ×${n}`)
      .join(", ");
    detail += `; ${rejects.total} rejected by the ingest (${reasons})`;
  }
  // The client's errors name InfluxDB themselves (services/lib/influx/errors.ts).
  if (influxError) detail += `; ${influxError}`;
  return failed(detail, { found, needed, ...(rejects ? { rejects } : {}) });
}
