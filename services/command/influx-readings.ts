// Readings of many lamps read back from InfluxDB (measurement of the device kind, tag `device_id`, at the device's
// time: services/ingest/line-protocol.ts), for the compliance check and the energy rollups. InfluxQL over /query
// (services/lib/influx): one statement per chunk of lamps with one series per lamp, and a per-series LIMIT, so a
// response holds at most about `rowsPerQuery` rows however long the window: a lamp whose page was full is paged on
// from its last row. Pages come out as they are read, so a caller that folds them (the energy roller) keeps one
// page in memory, not a lamp's year.
//
// Each lamp has its own start (the energy rollups read after each lamp's cursor). InfluxQL does not combine time
// conditions with OR, so lamps whose starts lie within `slackMs` of each other share a statement from the earliest
// one and rows before a lamp's own start are dropped here: the cost is the few rows inside the slack.
import { type InfluxClient, InfluxHttpError } from "../lib/influx/index.ts";

/** The most rows asked for in one statement: a few MB of JSON, parsed at once. */
export const ROWS_PER_QUERY = 100_000;

/** Most lamps named in one InfluxQL statement (its text travels in a GET's query string). */
export const MAX_LAMPS_PER_QUERY = 200;

/** Lamps whose starts are this close share a statement (see above). */
export const START_SLACK_MS = 3_600_000;

/** A fresh platform has no database until the ingest's first write: nothing stored, not an outage. */
const NO_DATABASE = /database not found|not found: database|bucket .* not found/i;

/** InfluxQL through `influx`, answering no series when the database does not exist yet. */
export async function queryOrEmpty(
  influx: InfluxClient,
  q: string,
  params?: Parameters<InfluxClient["query"]>[1],
): Promise<Awaited<ReturnType<InfluxClient["query"]>>> {
  try {
    return await influx.query(q, params);
  } catch (err) {
    if (err instanceof InfluxHttpError && NO_DATABASE.test(err.body)) return [];
    throw err;
  }
}

export type ReadingSpec<T> = {
  /** Measurement: the device kind. */
  measurement: string;
  /** Field names to select (plain identifiers). */
  fields: readonly string[];
  /**
   * One row: its time (epoch ms) and the selected fields' values in `fields` order (null when absent). Undefined
   * skips the row (it still counts towards a full page).
   */
  row(ts: number, values: readonly unknown[]): T | undefined;
};

/** A lamp to read from `fromMs` (inclusive). */
export type LampStart = { id: string; fromMs: number };

/** One statement's rows: per lamp, a consecutive run of its rows in time order. */
export type ReadingsPage<T> = Map<string, T[]>;

export type ReadingsReader<T> = {
  /**
   * The rows of each lamp with fromMs ≤ ts < toMs, page by page. A lamp's pages come in time order; a lamp without
   * rows appears in no page.
   */
  pages(lamps: readonly LampStart[], toMs: number): AsyncGenerator<ReadingsPage<T>>;
  /** All rows of each lamp with fromMs ≤ ts < toMs, oldest first; lamps without any are absent. */
  forLamps(deviceIds: readonly string[], fromMs: number, toMs: number): Promise<Map<string, T[]>>;
  /** Each lamp's newest row with ts < beforeMs (lamps without one are absent). */
  lastBefore(deviceIds: readonly string[], beforeMs: number): Promise<Map<string, T>>;
};

export type ReaderOptions = { rowsPerQuery?: number; maxLampsPerQuery?: number; slackMs?: number };

/** Lamps in statement groups: sorted by start, at most `max` a group, starts within `slack` of the group's first. */
export function groupStarts(lamps: readonly LampStart[], max: number, slack: number): LampStart[][] {
  const sorted = [...lamps].sort((a, b) => a.fromMs - b.fromMs);
  const groups: LampStart[][] = [];
  let group: LampStart[] = [];
  for (const l of sorted) {
    const first = group[0];
    if (first && (group.length >= max || l.fromMs - first.fromMs > slack)) {
      groups.push(group);
      group = [];
    }
    group.push(l);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export function influxReadingsReader<T>(
  influx: InfluxClient,
  spec: ReadingSpec<T>,
  opts: ReaderOptions = {},
): ReadingsReader<T> {
  const rowsPerQuery = opts.rowsPerQuery ?? ROWS_PER_QUERY;
  const maxLamps = opts.maxLampsPerQuery ?? MAX_LAMPS_PER_QUERY;
  const slack = opts.slackMs ?? START_SLACK_MS;
  const fields = spec.fields.join(", ");

  /** A statement over `ids`: rows per lamp (from each lamp's own start) and the last time of each full page. */
  async function statement(
    ids: readonly string[],
    where: string,
    params: Record<string, string | Date>,
    order: "ASC" | "DESC",
    limit: number,
  ) {
    const terms = ids.map((id, i) => {
      params[`id${i}`] = id;
      return `device_id = $id${i}`;
    });
    const q =
      `SELECT ${fields} FROM ${spec.measurement} WHERE ${where} AND (${terms.join(" OR ")}) ` +
      `GROUP BY device_id ORDER BY time ${order} LIMIT ${Math.max(1, Math.trunc(limit))}`;
    const rows = new Map<string, { ts: number; value: T | undefined }[]>();
    const full = new Map<string, number>();
    for (const s of await queryOrEmpty(influx, q, params)) {
      const id = s.tags.device_id;
      if (!id) continue;
      const iTime = s.columns.indexOf("time");
      const idx = spec.fields.map((f) => s.columns.indexOf(f));
      const out: { ts: number; value: T | undefined }[] = [];
      for (const r of s.values) {
        const ts = Number(r[iTime]);
        out.push({
          ts,
          value: spec.row(
            ts,
            idx.map((i) => (i < 0 ? null : (r[i] ?? null))),
          ),
        });
      }
      rows.set(id, out);
      if (s.values.length >= limit) full.set(id, Number(s.values.at(-1)?.[iTime]));
    }
    return { rows, full };
  }

  async function* pages(lamps: readonly LampStart[], toMs: number): AsyncGenerator<ReadingsPage<T>> {
    let pending = groupStarts(lamps, maxLamps, slack);
    while (pending.length > 0) {
      const next: LampStart[] = [];
      for (const group of pending) {
        const since = Math.min(...group.map((l) => l.fromMs));
        if (since >= toMs) continue;
        const ids = group.map((l) => l.id);
        const got = await statement(
          ids,
          "time >= $from AND time < $to",
          { from: new Date(since), to: new Date(toMs) },
          "ASC",
          Math.ceil(rowsPerQuery / ids.length),
        );
        const page: ReadingsPage<T> = new Map();
        for (const l of group) {
          const kept: T[] = [];
          for (const r of got.rows.get(l.id) ?? [])
            if (r.ts >= l.fromMs && r.value !== undefined) kept.push(r.value);
          if (kept.length > 0) page.set(l.id, kept);
          const lastTs = got.full.get(l.id);
          // Epoch-ms times: the next page starts after the last millisecond read. Two readings of one lamp
          // in that same millisecond (the ingest keeps them apart by seq) would lose the second: negligible.
          if (lastTs !== undefined) next.push({ id: l.id, fromMs: Math.max(lastTs + 1, l.fromMs) });
        }
        if (page.size > 0) yield page;
      }
      pending = groupStarts(next, maxLamps, slack);
    }
  }

  return {
    pages,
    async forLamps(deviceIds, fromMs, toMs) {
      const result = new Map<string, T[]>();
      for await (const page of pages(
        deviceIds.map((id) => ({ id, fromMs })),
        toMs,
      ))
        for (const [id, rows] of page) {
          const have = result.get(id);
          if (have) for (const r of rows) have.push(r);
          else result.set(id, rows);
        }
      return result;
    },
    async lastBefore(deviceIds, beforeMs) {
      const result = new Map<string, T>();
      for (let i = 0; i < deviceIds.length; i += maxLamps) {
        const ids = deviceIds.slice(i, i + maxLamps);
        const got = await statement(ids, "time < $before", { before: new Date(beforeMs) }, "DESC", 1);
        for (const [id, rows] of got.rows) {
          const newest = rows[0]?.value;
          if (newest !== undefined) result.set(id, newest);
        }
      }
      return result;
    },
  };
}
