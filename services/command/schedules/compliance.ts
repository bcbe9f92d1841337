// The compliance check (issue 4, "Checking that lamps obey"): for every lamp of a scope and a window, the level
// the platform's history says it should have had at each reported sample, against the dim_pct (and power) it
// reported. The arithmetic is services/schedule/ (expectedTimeline, clipOverrides, assessLamp); this file reads
// the history (SQLite) and the samples (InfluxDB) in chunks of lamps, so that memory follows a chunk, not the
// district: a chunk's samples are assessed and dropped before the next chunk's arrive.
import type { DatabaseSync } from "node:sqlite";
import type { InfluxClient } from "../../lib/influx/index.ts";
import { assessLamp, type ComplianceOptions, type Sample } from "../../schedule/compliance.ts";
import { clipOverrides } from "../../schedule/overrides.ts";
import { expectedTimeline } from "../../schedule/timeline.ts";
import { historyReader, type LampHistory } from "./compliance-history.ts";
import { createReportBuilder, type ReportTotals } from "./compliance-report.ts";
import { influxSampleReader, ROWS_PER_QUERY, type SampleReader } from "./compliance-samples.ts";
import { type ComplianceScope, type Lamp, type ScopeRefusal, scopeReader } from "./compliance-scope.ts";
import type { ComplianceWindow } from "./compliance-window.ts";

/** The check's settings (config: COMPLIANCE_TOLERANCE_PCT, COMPLIANCE_GRACE_S, COMPLIANCE_STANDBY_W). */
export type ComplianceConfig = {
  /** A sample within this many percentage points of the expected level complies. */
  tolerancePct: number;
  /** How far back from a sample an expected level still counts: delivery and reporting lag after a change. */
  graceS: number;
  /** Power above this, in W, means lit (a lamp at dim 0 drawing more is burning). */
  standbyW: number;
};

export const DEFAULT_COMPLIANCE_CONFIG: Readonly<ComplianceConfig> = Object.freeze({
  tolerancePct: 5,
  graceS: 180,
  standbyW: 2,
});

/** Most lamps named in one InfluxQL statement (its text travels in a GET's query string). */
export const MAX_LAMPS_PER_QUERY = 200;

export type ComplianceRequest = {
  scope: ComplianceScope;
  window: ComplianceWindow;
  /** Overrides the configured tolerance for this request. */
  tolerancePct?: number | undefined;
};

export type ComplianceReport = {
  scope: ComplianceScope;
  window: { from: string; to: string; basis: ComplianceWindow["basis"]; night: string | null };
  tolerance_pct: number;
  grace_s: number;
  standby_w: number;
} & ReportTotals;

export type ComplianceResult = { ok: true; report: ComplianceReport } | ({ ok: false } & ScopeRefusal);

export type ComplianceCheck = { run(req: ComplianceRequest): Promise<ComplianceResult> };

export type ComplianceDeps = {
  db: DatabaseSync;
  influx: InfluxClient;
  config: Readonly<ComplianceConfig>;
  /** Where samples come from (default: InfluxDB through `influx`). */
  samples?: SampleReader;
};

/**
 * Splits lamps into chunks whose expected samples (window ÷ reporting interval) stay within one query's row
 * budget, with at most MAX_LAMPS_PER_QUERY lamps each.
 */
export function chunkLamps(lamps: readonly Lamp[], windowMs: number, rowBudget = ROWS_PER_QUERY): Lamp[][] {
  const chunks: Lamp[][] = [];
  let chunk: Lamp[] = [];
  let rows = 0;
  for (const lamp of lamps) {
    const expected = Math.ceil(windowMs / (Math.max(1, lamp.reportIntervalS) * 1000));
    if (chunk.length > 0 && (chunk.length >= MAX_LAMPS_PER_QUERY || rows + expected > rowBudget)) {
      chunks.push(chunk);
      chunk = [];
      rows = 0;
    }
    chunk.push(lamp);
    rows += expected;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The expected-level timeline of one lamp from what the platform told it. */
function timelineOf(lamp: Lamp, history: LampHistory | undefined) {
  return expectedTimeline({
    // Before the first calendar sent, the lamp runs its factory calendar (expectedTimeline supplies it).
    calendars: (history?.calendars ?? []).map((c) => ({ fromMs: c.fromMs, doc: c.doc })),
    overrides: clipOverrides(history?.overrides ?? []),
    site: lamp.site,
  });
}

export function createComplianceCheck(deps: ComplianceDeps): ComplianceCheck {
  const scopes = scopeReader(deps.db);
  const history = historyReader(deps.db);
  const samples = deps.samples ?? influxSampleReader(deps.influx);

  return {
    async run(req) {
      const found = scopes.lamps(req.scope);
      if (!found.ok) return found;
      const opts: ComplianceOptions = {
        tolerancePct: req.tolerancePct ?? deps.config.tolerancePct,
        graceMs: deps.config.graceS * 1000,
        standbyW: deps.config.standbyW,
      };
      const { fromMs, toMs } = req.window;
      const report = createReportBuilder(found.lamps.length);
      const chunks = chunkLamps(found.lamps, toMs - fromMs);

      // One chunk's samples are read while the one before is assessed (at most two chunks in memory).
      const read = (chunk: Lamp[] | undefined): Promise<Map<string, Sample[]>> | undefined => {
        if (!chunk) return undefined;
        const p = samples.forLamps(
          chunk.map((l) => l.id),
          fromMs,
          toMs,
        );
        p.catch(() => undefined); // awaited below; this only keeps a failure during the other chunk handled
        return p;
      };
      let next = read(chunks[0]);
      for (const [i, chunk] of chunks.entries()) {
        const got = (await next) ?? new Map<string, Sample[]>();
        next = read(chunks[i + 1]);
        // The grace reaches back before the window's first sample: read the history from there.
        const told = history.forLamps(
          chunk.map((l) => l.id),
          fromMs - opts.graceMs,
          toMs,
        );
        for (const lamp of chunk) {
          const lampSamples = got.get(lamp.id);
          if (!lampSamples || lampSamples.length === 0) {
            report.addNoData(lamp.id);
            continue;
          }
          const lampHistory = told.get(lamp.id);
          // A blink alternates full and off: samples taken in it (or within the grace after it) are not judged.
          const judged = (lampHistory?.excused ?? []).reduce(
            (kept, e) => kept.filter((x) => x.ts < e.fromMs || x.ts >= e.toMs + opts.graceMs),
            lampSamples,
          );
          report.addLamp(lamp.id, assessLamp(judged, timelineOf(lamp, lampHistory), lamp.site, opts));
        }
      }

      return {
        ok: true,
        report: {
          scope: req.scope,
          window: {
            from: new Date(fromMs).toISOString(),
            to: new Date(toMs).toISOString(),
            basis: req.window.basis,
            night: req.window.night,
          },
          tolerance_pct: opts.tolerancePct,
          grace_s: deps.config.graceS,
          standby_w: opts.standbyW,
          ...report.finish(),
        },
      };
    },
  };
}
