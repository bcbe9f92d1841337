// InfluxQL over HTTP `/query` — the one query language all three majors speak (2.x through its
// v1-compatible API with the bucket's automatic DBRP mapping, 3 Core natively).
// Parameters are bound here, not with the server's `params=` (which only 1.x documents), so the same
// statement behaves alike on every server.
import { InfluxHttpError } from "./errors.ts";

export type InfluxSeries = {
  /** Measurement name (or e.g. "databases" for SHOW DATABASES). */
  name: string;
  tags: Record<string, string>;
  columns: string[];
  /** One array per row, aligned with `columns`; `time` is epoch milliseconds. */
  values: unknown[][];
};

export type QueryParam = string | number | boolean | Date;
export type QueryParams = Readonly<Record<string, QueryParam>>;

/** An InfluxQL literal: strings single-quoted with `\` and `'` escaped, dates as RFC 3339 strings. */
export function influxqlLiteral(value: QueryParam): string {
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (typeof value === "string") return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (typeof value === "number" && !Number.isFinite(value))
    throw new RangeError(`not a finite number: ${value}`);
  return String(value);
}

/** Replaces `$name` outside quoted strings and identifiers; an unknown name is an error (a bug). */
export function bindParams(influxql: string, params: QueryParams = {}): string {
  let out = "";
  let quote: string | undefined;
  for (let i = 0; i < influxql.length; i++) {
    const c = influxql[i] as string;
    if (quote) {
      out += c;
      if (c === "\\") out += influxql[++i] ?? "";
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === "$") {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(influxql.slice(i + 1))?.[0];
      if (!name) throw new Error(`bad parameter reference at offset ${i} in: ${influxql}`);
      const value = params[name];
      if (value === undefined) throw new Error(`missing query parameter $${name}`);
      out += influxqlLiteral(value);
      i += name.length;
    } else out += c;
  }
  return out;
}

type RawResponse = {
  error?: string;
  results?: Array<{
    statement_id?: number;
    error?: string;
    series?: Array<{
      name?: string;
      tags?: Record<string, string>;
      columns?: string[];
      values?: unknown[][];
    }>;
  }>;
};

/** All series of all statements; a statement error (sent with HTTP 200) becomes an InfluxHttpError. */
export function parseQueryResponse(status: number, body: string): InfluxSeries[] {
  let json: RawResponse;
  try {
    json = JSON.parse(body) as RawResponse;
  } catch {
    throw new InfluxHttpError("InfluxDB query returned no JSON", status, body);
  }
  if (json.error) throw new InfluxHttpError("InfluxDB query failed", status, body);
  const series: InfluxSeries[] = [];
  for (const result of json.results ?? []) {
    if (result.error) {
      throw new InfluxHttpError(`InfluxDB query statement ${result.statement_id ?? 0} failed`, status, body);
    }
    for (const s of result.series ?? []) {
      series.push({
        name: s.name ?? "",
        tags: s.tags ?? {},
        columns: s.columns ?? [],
        values: s.values ?? [],
      });
    }
  }
  return series;
}

export type Row = Record<string, unknown> & { _measurement: string };

/** Flattens series into one object per row: `{ _measurement, ...tags, time, field... }`. */
export function rowsOf(series: readonly InfluxSeries[]): Row[] {
  const rows: Row[] = [];
  for (const s of series) {
    for (const values of s.values) {
      const row: Row = { _measurement: s.name, ...s.tags };
      s.columns.forEach((col, i) => {
        row[col] = values[i];
      });
      rows.push(row);
    }
  }
  return rows;
}

/** Reads are GET; 1.x refuses CREATE/DROP/ALTER/... over GET ("requires a POST request"). */
export function isReadOnly(influxql: string): boolean {
  return /^\s*(SELECT|SHOW)\b/i.test(influxql) && !/\bINTO\b/i.test(influxql);
}
