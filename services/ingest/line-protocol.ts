// InfluxDB line protocol for the ingest's points, built as strings (no per-point objects on the hot path).
// https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/
import { fieldMeta, type InfluxType } from "../contract/fields.ts";
import { READING_SCHEMAS } from "../contract/readings.ts";
import type { DeviceKind } from "../contract/topics.ts";

/** Tag values escape commas, equals signs and spaces. */
export function escapeTag(value: string): string {
  return value.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
}

/** String field values are double-quoted; quotes and backslashes are escaped, control characters dropped. */
export function quoteString(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f]/g, " ")}"`;
}

export function tagSet(tags: Record<string, string>): string {
  let out = "";
  for (const key of Object.keys(tags).sort()) out += `,${key}=${escapeTag(tags[key] as string)}`;
  return out;
}

/**
 * A point's time in nanoseconds: the device's `ts` in milliseconds, plus `seq` modulo 1e6 as the sub-millisecond
 * part. A replayed reading gets the same key (idempotent), while two different readings of one device in the same
 * millisecond (different seq) never overwrite each other (shared/DOMAIN.md, "points with the same series and
 * timestamp silently overwriting each other").
 */
export function pointTimeNs(tsMs: number, seq: number): string {
  return `${tsMs}${String(seq % 1_000_000).padStart(6, "0")}`;
}

type FieldSpec = readonly [name: string, type: InfluxType];

const FIELD_SPECS: Record<DeviceKind, readonly FieldSpec[]> = {
  streetlight: specsOf("streetlight"),
  airquality: specsOf("airquality"),
  traffic: specsOf("traffic"),
};

function specsOf(kind: DeviceKind): FieldSpec[] {
  const specs: FieldSpec[] = [];
  for (const [name, schema] of Object.entries(READING_SCHEMAS[kind].shape)) {
    if (name === "ts") continue; // the point's time, not a field
    const meta = fieldMeta(schema);
    if (!meta) throw new Error(`contract field ${kind}.${name} has no metadata`);
    specs.push([name, meta.influx]);
  }
  return specs;
}

/** Field names and InfluxDB types stored for a kind (docs and tests use it). */
export function storedFields(kind: DeviceKind): readonly FieldSpec[] {
  return FIELD_SPECS[kind];
}

/**
 * One reading as a line: `<kind><tags> <fields> <time ns>\n`. `tags` is a precomputed tag set
 * (`,device_id=…,district=…`). The reading has passed validation, so every value is finite and of its type.
 */
export function readingLine(
  kind: DeviceKind,
  tags: string,
  reading: Record<string, unknown>,
  tsMs: number,
): string {
  let fields = "";
  for (const [name, type] of FIELD_SPECS[kind]) {
    const v = reading[name];
    if (v === undefined) continue;
    const value =
      type === "integer" ? `${v as number}i` : type === "boolean" ? (v ? "true" : "false") : String(v);
    fields += fields ? `,${name}=${value}` : `${name}=${value}`;
  }
  return `${kind}${tags} ${fields} ${pointTimeNs(tsMs, reading.seq as number)}\n`;
}
