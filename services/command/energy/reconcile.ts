// The reconcile sweep: for each complete local day of the last N, InfluxDB's count of each lamp's readings against
// the readings its energy_daily row holds. The activity digest is QoS 0 (a lost one means readings nobody rolled
// up), and the ingest's writes can become visible out of order (a reading landing behind a cursor that already
// moved past it): both show up as a count that does not match, and the lamp is recomputed from that day. A
// mismatch that a recompute could not fix (two readings of one millisecond: InfluxDB keeps both, rollLamp the
// last) is not recomputed again while InfluxDB's count stays the same. Older days are not counted (a sweep's cost
// follows its window), but a lamp whose every digest was lost has no cursor at all: the lamps InfluxDB has data for
// (its tag index, cheap) without a cursor are rolled up too.
import { dayStart } from "../../energy/days.ts";
import type { InfluxClient } from "../../lib/influx/index.ts";
import type { EnergyStore } from "../../registry/energy.ts";
import { addDays, localDateOf } from "../../schedule/zone.ts";
import { queryOrEmpty } from "../influx-readings.ts";

export type Mismatch = { id: string; day: string; influx: number; rows: number };

export type ReconcileDeps = {
  influx: InfluxClient;
  store: EnergyStore;
  /** Complete local days looked at, counted back from yesterday. */
  days: number;
  now(): number;
};

export type Reconciler = {
  /**
   * The earliest mismatching day of each lamp (streetlights the caller still has to filter), oldest day first.
   * `skip`: lamps with readings waiting to be rolled up (their counts are expected to differ for a moment).
   */
  sweep(skip: (id: string) => boolean): Promise<Mismatch[]>;
  /** A recompute of these lamp-days was done: do not repeat it while InfluxDB's count stays the same. */
  recomputed(list: readonly Mismatch[]): void;
  /** Lamps with readings in InfluxDB (any time) and no cursor: nothing of theirs was ever rolled up. */
  neverRolled(): Promise<string[]>;
};

/** The local days the sweep compares: yesterday and the `n - 1` before it, oldest first. */
export function reconcileDays(nowMs: number, n: number): string[] {
  const today = localDateOf(nowMs);
  const out: string[] = [];
  for (let k = n; k >= 1; k--) out.push(addDays(today, -k));
  return out;
}

export function createReconciler(deps: ReconcileDeps): Reconciler {
  /** `${id} ${day}` → InfluxDB's count when that lamp-day was last recomputed. */
  const done = new Map<string, number>();

  async function influxCounts(day: string): Promise<Map<string, number>> {
    const series = await queryOrEmpty(
      deps.influx,
      "SELECT count(energy_wh) FROM streetlight WHERE time >= $from AND time < $to GROUP BY device_id",
      { from: new Date(dayStart(day)), to: new Date(dayStart(addDays(day, 1))) },
    );
    const out = new Map<string, number>();
    for (const s of series) {
      const id = s.tags.device_id;
      const n = Number(s.values[0]?.[s.columns.indexOf("count")] ?? 0);
      if (id && n > 0) out.set(id, n);
    }
    return out;
  }

  return {
    async sweep(skip) {
      const days = reconcileDays(deps.now(), deps.days);
      const found = new Map<string, Mismatch>();
      const keep = new Set<string>();
      for (const day of days) {
        const counted = await influxCounts(day);
        const rows = deps.store.readingsOn(day);
        for (const id of new Set([...counted.keys(), ...rows.keys()])) {
          const influx = counted.get(id) ?? 0;
          const have = rows.get(id) ?? 0;
          if (influx === have) continue;
          const key = `${id} ${day}`;
          keep.add(key);
          if (found.has(id) || skip(id) || done.get(key) === influx) continue;
          found.set(id, { id, day, influx, rows: have });
        }
      }
      // Forget lamp-days that match again or left the window.
      for (const key of done.keys()) if (!keep.has(key)) done.delete(key);
      return [...found.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    },
    recomputed(list) {
      for (const m of list) done.set(`${m.id} ${m.day}`, m.influx);
    },
    async neverRolled() {
      const series = await queryOrEmpty(
        deps.influx,
        'SHOW TAG VALUES FROM streetlight WITH KEY = "device_id"',
      );
      const ids: string[] = [];
      for (const s of series) {
        const iValue = s.columns.indexOf("value");
        for (const row of s.values) if (typeof row[iValue] === "string") ids.push(row[iValue] as string);
      }
      const rolled = deps.store.cursors(ids);
      return ids.filter((id) => !rolled.has(id));
    },
  };
}
