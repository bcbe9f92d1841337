// Validation of telemetry payloads: parse, shape, per-reading schema, plausibility. Failures are values with a
// reason code (reasons.ts), never exceptions, so that one bad reading never stops the good ones beside it.
import { isUtf8 } from "node:buffer";
import type { z } from "zod";
import {
  EARLIEST_TS_MS,
  MAX_BATCH_READINGS,
  MAX_FUTURE_SKEW_MS,
  MAX_MESSAGE_BYTES,
  MAX_VEHICLES_PER_SECOND,
  READING_SCHEMAS,
  type ReadingOf,
} from "./readings.ts";
import {
  type FieldRule,
  fieldReason,
  isFieldRule,
  type MessageReason,
  type RejectReason,
} from "./reasons.ts";
import type { DeviceKind } from "./topics.ts";

export type PayloadResult =
  | { ok: true; readings: unknown[]; batch: boolean }
  | { ok: false; reason: MessageReason; detail: string };

/** Decodes a telemetry payload into its readings (one object, or an array of 1–500). */
export function decodePayload(payload: Uint8Array | string): PayloadResult {
  const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > MAX_MESSAGE_BYTES) {
    return { ok: false, reason: "too_large", detail: `${size} bytes > ${MAX_MESSAGE_BYTES}` };
  }
  let data: unknown;
  try {
    // Invalid UTF-8 is refused rather than turned into U+FFFD (isUtf8 is a fast native check).
    if (typeof payload !== "string" && !isUtf8(payload)) throw new Error("payload is not valid UTF-8");
    const text =
      typeof payload === "string"
        ? payload
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("utf8");
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: "not_json", detail: (err as Error).message };
  }
  if (Array.isArray(data)) {
    if (data.length === 0) return { ok: false, reason: "empty_batch", detail: "empty array" };
    if (data.length > MAX_BATCH_READINGS) {
      return {
        ok: false,
        reason: "batch_too_large",
        detail: `${data.length} readings > ${MAX_BATCH_READINGS}`,
      };
    }
    return { ok: true, readings: data, batch: true };
  }
  if (typeof data === "object" && data !== null) return { ok: true, readings: [data], batch: false };
  return {
    ok: false,
    reason: "bad_shape",
    detail: `payload is a JSON ${data === null ? "null" : typeof data}`,
  };
}

export type ValidReading<K extends DeviceKind = DeviceKind> = {
  reading: ReadingOf<K>;
  /** Measurement time in epoch milliseconds. */
  tsMs: number;
  /** Top-level keys the contract does not know (not stored; counted so firmware changes are visible). */
  unknownFields: string[];
};

export type ReadingRejection = {
  ok: false;
  reason: RejectReason;
  field: string;
  rule: FieldRule;
  detail: string;
};
export type ReadingResult<K extends DeviceKind = DeviceKind> =
  | ({ ok: true } & ValidReading<K>)
  | ReadingRejection;

const KNOWN_KEYS: Record<DeviceKind, ReadonlySet<string>> = {
  streetlight: new Set(Object.keys(READING_SCHEMAS.streetlight.shape)),
  airquality: new Set(Object.keys(READING_SCHEMAS.airquality.shape)),
  traffic: new Set(Object.keys(READING_SCHEMAS.traffic.shape)),
};

function reject(field: string, rule: FieldRule, detail: string): ReadingRejection {
  return { ok: false, reason: fieldReason(field, rule), field, rule, detail };
}

/** Date, time and zone are all required, so that a local time is never read in the platform's zone. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Parses `ts` (ISO 8601 with a zone, or epoch milliseconds) into epoch milliseconds, or a rule it breaks. */
export function parseTimestamp(ts: number | string, nowMs: number): number | FieldRule {
  let ms: number;
  if (typeof ts === "number") {
    if (!Number.isFinite(ts)) return "invalid";
    ms = ts;
  } else {
    const m = ISO_8601.exec(ts);
    if (!m) return "invalid";
    ms = Date.parse(ts);
    if (Number.isNaN(ms)) return "invalid";
    // Date.parse rolls impossible dates over (February 30 → March 2); refuse them instead.
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate())
      return "invalid";
  }
  if (ms > nowMs + MAX_FUTURE_SKEW_MS) return "in_future";
  if (ms < EARLIEST_TS_MS) return "too_old";
  return Math.floor(ms);
}

export function validateReading<K extends DeviceKind>(
  kind: K,
  raw: unknown,
  nowMs: number,
): ReadingResult<K> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    const what = raw === null ? "null" : Array.isArray(raw) ? "array" : typeof raw;
    return reject("reading", "not_object", `reading is a JSON ${what}`);
  }
  const schema = READING_SCHEMAS[kind] as unknown as z.ZodType<ReadingOf<K>>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.map(String).join(".") : "reading";
    const rule = issue && isFieldRule(issue.message) ? issue.message : "invalid";
    return reject(field, rule, describeIssue(issue, raw));
  }
  const reading = parsed.data;
  const ts = parseTimestamp(reading.ts, nowMs);
  if (typeof ts === "string") return reject("ts", ts, `ts ${JSON.stringify(reading.ts)}`);
  const crossField = checkCrossField(kind, reading);
  if (crossField) return crossField;
  const known = KNOWN_KEYS[kind];
  const unknownFields: string[] = [];
  for (const key of Object.keys(raw)) if (!known.has(key)) unknownFields.push(key);
  return { ok: true, reading, tsMs: ts, unknownFields };
}

function describeIssue(issue: z.core.$ZodIssue | undefined, raw: object): string {
  if (!issue) return "invalid reading";
  const field = issue.path[0];
  const value = field === undefined ? undefined : (raw as Record<PropertyKey, unknown>)[field as PropertyKey];
  const shown = value === undefined ? "absent" : JSON.stringify(value)?.slice(0, 60);
  switch (issue.code) {
    case "too_small":
      return `${shown} < minimum ${String(issue.minimum)}`;
    case "too_big":
      return `${shown} > maximum ${String(issue.maximum)}`;
    case "invalid_type":
      return `expected ${issue.expected}, got ${shown}`;
    default:
      return `${issue.code}: ${shown}`;
  }
}

function checkCrossField(kind: DeviceKind, reading: ReadingOf<DeviceKind>): ReadingRejection | undefined {
  if (kind !== "traffic") return undefined;
  const t = reading as ReadingOf<"traffic">;
  if (t.vehicles > t.period_s * MAX_VEHICLES_PER_SECOND) {
    return reject("vehicles", "out_of_range", `${t.vehicles} vehicles in ${t.period_s} s`);
  }
  const byClass = (t.cars ?? 0) + (t.trucks ?? 0) + (t.buses ?? 0) + (t.motorcycles ?? 0) + (t.bicycles ?? 0);
  if (byClass > t.vehicles) {
    return reject("vehicles", "inconsistent", `${byClass} vehicles by class > ${t.vehicles} in total`);
  }
  return undefined;
}

/** Last accepted meter position of a streetlight, for the "never runs backwards" rule. */
export type MeterState = { tsMs: number; energyWh: number };

/**
 * A cumulative meter must not decrease between two readings in time order unless the later one carries
 * `meter_reset: true`. Readings older than the last one seen (a late backlog) are not compared: their
 * neighbours are unknown here, and the energy audit handles resets and gaps (issue 5).
 */
export function checkMeter(
  prev: MeterState | undefined,
  tsMs: number,
  energyWh: number,
  meterReset: boolean | undefined,
): ReadingRejection | undefined {
  if (!prev || meterReset || tsMs <= prev.tsMs) return undefined;
  if (energyWh < prev.energyWh) {
    return reject("energy_wh", "backwards", `${energyWh} Wh < ${prev.energyWh} Wh at an earlier time`);
  }
  return undefined;
}
