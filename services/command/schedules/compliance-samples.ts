// The lamps' reported levels, read back from InfluxDB for a compliance check: `dim_pct` and `power_w` of the
// measurement `streetlight`, tag `device_id` (services/ingest/line-protocol.ts writes them at the device's time).
// InfluxQL over /query (services/lib/influx), one statement per chunk of lamps with one series per lamp, and a
// per-series LIMIT: a lamp that reported far more than its interval says is paged on from its last sample
// instead of blowing up one answer, so a response holds at most about `rowsPerQuery` rows whatever the window.
import { type InfluxClient, InfluxHttpError } from "../../lib/influx/index.ts";
import type { Sample } from "../../schedule/compliance.ts";

export type SampleReader = {
  /** Samples of each lamp with fromMs ≤ ts < toMs, oldest first; lamps without any are absent. */
  forLamps(deviceIds: readonly string[], fromMs: number, toMs: number): Promise<Map<string, Sample[]>>;
};

/** The most rows asked for in one statement: a few MB of JSON, parsed at once. */
export const ROWS_PER_QUERY = 100_000;

/** A fresh platform has no database until the ingest's first write: nothing stored, not an outage. */
const NO_DATABASE = /database not found|not found: database|bucket .* not found/i;

/** One statement's answer: samples per lamp, and the last time of each lamp whose page was full. */
type Page = { samples: Map<string, Sample[]>; full: Map<string, number> };

export function influxSampleReader(influx: InfluxClient, rowsPerQuery = ROWS_PER_QUERY): SampleReader {
  async function page(ids: readonly string[], fromMs: number, toMs: number, limit: number): Promise<Page> {
    // One time range for the whole statement: InfluxQL does not combine time conditions with OR.
    const params: Record<string, string | Date> = { from: new Date(fromMs), to: new Date(toMs) };
    const terms = ids.map((id, i) => {
      params[`id${i}`] = id;
      return `device_id = $id${i}`;
    });
    const q =
      `SELECT dim_pct, power_w FROM streetlight WHERE time >= $from AND time < $to AND (${terms.join(" OR ")}) ` +
      `GROUP BY device_id ORDER BY time ASC LIMIT ${Math.max(1, Math.trunc(limit))}`;
    let series: Awaited<ReturnType<InfluxClient["query"]>>;
    try {
      series = await influx.query(q, params);
    } catch (err) {
      if (err instanceof InfluxHttpError && NO_DATABASE.test(err.body))
        return { samples: new Map(), full: new Map() };
      throw err;
    }
    const out: Page = { samples: new Map(), full: new Map() };
    for (const s of series) {
      const id = s.tags.device_id;
      if (!id) continue;
      const iTime = s.columns.indexOf("time");
      const iDim = s.columns.indexOf("dim_pct");
      const iPower = s.columns.indexOf("power_w");
      const samples: Sample[] = [];
      for (const row of s.values) {
        const dim = row[iDim];
        // A point of this measurement without dim_pct is not a reading the contract allows; skip, not guess.
        if (typeof dim !== "number") continue;
        const power = row[iPower];
        samples.push({
          ts: Number(row[iTime]),
          dimPct: dim,
          ...(typeof power === "number" ? { powerW: power } : {}),
        });
      }
      out.samples.set(id, samples);
      // A full page (rows without dim_pct count too): there may be more after its last time.
      if (s.values.length >= limit) out.full.set(id, Number(s.values.at(-1)?.[iTime]));
    }
    return out;
  }

  return {
    async forLamps(deviceIds, fromMs, toMs) {
      const result = new Map<string, Sample[]>();
      // Lamps still to read, by the time to read them from: all from fromMs at first; a lamp whose page was
      // full goes on from after its last sample (a rare case: it reported far more often than registered).
      let pending = new Map<number, string[]>([[fromMs, [...deviceIds]]]);
      while (pending.size > 0) {
        const next = new Map<number, string[]>();
        for (const [since, ids] of pending) {
          const got = await page(ids, since, toMs, Math.ceil(rowsPerQuery / ids.length));
          for (const id of ids) {
            const samples = got.samples.get(id);
            if (samples && samples.length > 0) {
              const have = result.get(id);
              if (have) for (const s of samples) have.push(s);
              else result.set(id, samples);
            }
            const lastTs = got.full.get(id);
            // Epoch-ms times: the next page starts after the last millisecond read. Two readings of one lamp
            // in that same millisecond (the ingest keeps them apart by seq) would lose the second: negligible.
            if (lastTs !== undefined) next.set(lastTs + 1, [...(next.get(lastTs + 1) ?? []), id]);
          }
        }
        pending = next;
      }
      return result;
    },
  };
}
