// What the command service reads back from InfluxDB (InfluxQL, services/lib/influx): a device's stored readings
// (measurement = its kind, tag device_id; services/ingest/line-protocol.ts writes them) and the ingest's reject
// records (measurement ingest_rejects, tags device_id and reason; services/ingest/pipeline.ts).
import type { DeviceKind } from "../../contract/topics.ts";
import { type InfluxClient, InfluxHttpError, rowsOf } from "../../lib/influx/index.ts";
import type { ReadingRow } from "./checks.ts";

export type RejectSummary = { total: number; by_reason: Record<string, number> };
export type RecentReject = { at: string; reason: string; detail: string; excerpt: string };

export type ReadingsProbe = {
  /** Readings with time ≥ sinceMs (device time), oldest first. */
  readingsSince(kind: DeviceKind, id: string, sinceMs: number, limit: number): Promise<ReadingRow[]>;
  latestReading(kind: DeviceKind, id: string): Promise<ReadingRow | undefined>;
  rejectsSince(id: string, sinceMs: number): Promise<RejectSummary>;
  latestRejects(id: string, sinceMs: number, limit: number): Promise<RecentReject[]>;
};

/** How far back the device page looks for a last reading. */
const LAST_READING_WINDOW = "30d";

export function influxProbe(influx: InfluxClient): ReadingsProbe {
  async function rows(q: string, params: Record<string, string | number | Date>) {
    try {
      return rowsOf(await influx.query(q, params));
    } catch (err) {
      // A fresh platform has no database until the ingest's first write: nothing stored yet, not an outage.
      if (err instanceof InfluxHttpError && /database not found|not found: database/i.test(err.body))
        return [];
      throw err;
    }
  }
  const asReading = (r: Record<string, unknown>): ReadingRow => {
    const { _measurement: _m, ...rest } = r;
    return { ...rest, time: Number(r.time) };
  };
  return {
    async readingsSince(kind, id, sinceMs, limit) {
      const q = `SELECT * FROM "${kind}" WHERE device_id = $id AND time >= $since ORDER BY time ASC LIMIT ${Math.trunc(limit)}`;
      return (await rows(q, { id, since: new Date(sinceMs) })).map(asReading);
    },
    async latestReading(kind, id) {
      const q = `SELECT * FROM "${kind}" WHERE device_id = $id AND time > now() - ${LAST_READING_WINDOW} ORDER BY time DESC LIMIT 1`;
      const r = (await rows(q, { id }))[0];
      return r ? asReading(r) : undefined;
    },
    async rejectsSince(id, sinceMs) {
      const q = `SELECT count(detail) FROM ingest_rejects WHERE device_id = $id AND time >= $since GROUP BY reason`;
      const by_reason: Record<string, number> = {};
      let total = 0;
      for (const r of await rows(q, { id, since: new Date(sinceMs) })) {
        const n = Number(r.count ?? 0);
        by_reason[String(r.reason)] = n;
        total += n;
      }
      return { total, by_reason };
    },
    async latestRejects(id, sinceMs, limit) {
      const q = `SELECT reason, detail, excerpt FROM ingest_rejects WHERE device_id = $id AND time >= $since ORDER BY time DESC LIMIT ${Math.trunc(limit)}`;
      return (await rows(q, { id, since: new Date(sinceMs) })).map((r) => ({
        at: new Date(Number(r.time)).toISOString(),
        reason: String(r.reason ?? ""),
        detail: String(r.detail ?? ""),
        excerpt: String(r.excerpt ?? ""),
      }));
    },
  };
}
