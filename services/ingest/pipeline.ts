// Per-message processing: topic → registry → payload → readings → line protocol, with every rejection a value
// carrying its reason code. Pure apart from the registry lookup and the meter memory.
import type { RejectReason } from "../contract/reasons.ts";
import type { DeviceKind } from "../contract/topics.ts";
import { parseDeviceTopic } from "../contract/topics.ts";
import { checkMeter, decodePayload, type MeterState, validateReading } from "../contract/validate.ts";
import { quoteString, readingLine, tagSet } from "./line-protocol.ts";

export type DeviceInfo = { id: string; kind: DeviceKind; district: string };

export type Rejection = {
  reason: RejectReason;
  kind: DeviceKind | "unknown";
  deviceId: string;
  detail: string;
  /** Index of the reading within a backlog array. */
  index?: number;
  excerpt: string;
};

export type ProcessResult = {
  /** Line protocol for accepted readings and for the reject records, ready for the spool. */
  text: string;
  lines: number;
  kind: DeviceKind | "unknown";
  accepted: number;
  rejections: Rejection[];
  unknownFields: string[];
  /** The registered device the message came from (absent for unknown devices and bad topics): activity digest. */
  deviceId?: string | undefined;
  /** Device time of the newest accepted reading, epoch ms. */
  lastTs?: number | undefined;
  /**
   * Device time of the oldest accepted reading, epoch ms: a backlog reaches back to it. The energy rollups
   * recompute from there when it is older than what they already rolled up (issue 5).
   */
  firstTs?: number | undefined;
};

/** The device is not (yet) in the registry cache: the caller may refresh it and call again with final=true. */
export const RETRY_UNKNOWN = Symbol("retry-unknown-device");

export const EXCERPT_CHARS = 512;
const MAX_CACHED_TOPICS = 500_000;

export type Pipeline = {
  process(topic: string, payload: Buffer, final: boolean): ProcessResult | typeof RETRY_UNKNOWN;
  /** A reject record for a message whose processing failed unexpectedly. */
  internalError(topic: string, payload: Buffer, detail: string): ProcessResult;
};

export function createPipeline(deps: {
  lookup(id: string): DeviceInfo | undefined;
  now(): number;
}): Pipeline {
  const meters = new Map<string, MeterState>();
  const tagCache = new Map<string, { district: string; tags: string }>();
  let rejectSeq = 0;
  const topics = new Map<string, ReturnType<typeof parseDeviceTopic>>();

  function tagsFor(device: DeviceInfo): string {
    const hit = tagCache.get(device.id);
    if (hit && hit.district === device.district) return hit.tags;
    const tags = tagSet({ device_id: device.id, district: device.district });
    tagCache.set(device.id, { district: device.district, tags });
    return tags;
  }

  function rejectLine(r: Rejection, district: string | undefined, topic: string): string {
    // Reject records are stamped with the platform's receive time; the counter keeps two in one ms apart.
    const ns = `${deps.now()}${String(rejectSeq++ % 1_000_000).padStart(6, "0")}`;
    const tags = tagSet({
      device_id: r.deviceId,
      kind: r.kind,
      reason: r.reason,
      ...(district ? { district } : {}),
    });
    const index = r.index === undefined ? "" : `,index=${r.index}i`;
    return `ingest_rejects${tags} detail=${quoteString(r.detail)},excerpt=${quoteString(r.excerpt)},topic=${quoteString(topic.slice(0, 256))}${index} ${ns}\n`;
  }

  function messageReject(
    topic: string,
    payload: Buffer,
    reason: RejectReason,
    detail: string,
    kind: DeviceKind | "unknown",
    deviceId: string,
    district?: string,
  ): ProcessResult {
    const r: Rejection = { reason, kind, deviceId, detail, excerpt: excerptOf(payload) };
    return {
      text: rejectLine(r, district, topic),
      lines: 1,
      kind,
      accepted: 0,
      rejections: [r],
      unknownFields: [],
      // The district is known exactly when the device is registered.
      ...(district === undefined ? {} : { deviceId }),
    };
  }

  return {
    internalError(topic, payload, detail) {
      const t = parseDeviceTopic(topic);
      return messageReject(
        topic,
        payload,
        "internal_error",
        detail.slice(0, 300),
        t.ok ? t.kind : "unknown",
        t.ok ? t.deviceId : "-",
      );
    },
    process(topic, payload, final) {
      let t = topics.get(topic);
      if (!t) {
        // Each device publishes on one topic: parse it once (bounded, so junk topics cannot grow it forever).
        if (topics.size >= MAX_CACHED_TOPICS) topics.clear();
        t = parseDeviceTopic(topic);
        topics.set(topic, t);
      }
      if (!t.ok || t.channel !== "telemetry") {
        const detail = t.ok ? `channel ${t.channel} is not telemetry` : t.detail;
        return messageReject(
          topic,
          payload,
          "bad_topic",
          detail,
          "unknown",
          (topic.split("/")[3] ?? "").slice(0, 64) || "-",
        );
      }
      const device = deps.lookup(t.deviceId);
      if (!device) {
        if (!final) return RETRY_UNKNOWN;
        return messageReject(
          topic,
          payload,
          "unknown_device",
          `${t.deviceId} is not registered`,
          t.kind,
          t.deviceId,
        );
      }
      if (device.kind !== t.kind) {
        return messageReject(
          topic,
          payload,
          "kind_mismatch",
          `registered as ${device.kind}, topic says ${t.kind}`,
          t.kind,
          t.deviceId,
          device.district,
        );
      }
      // decodePayload refuses an oversized payload (too_large) before parsing it.
      const decoded = decodePayload(payload);
      if (!decoded.ok)
        return messageReject(
          topic,
          payload,
          decoded.reason,
          decoded.detail,
          t.kind,
          t.deviceId,
          device.district,
        );

      const tags = tagsFor(device);
      const now = deps.now();
      let text = "";
      let lines = 0;
      let accepted = 0;
      let lastTs: number | undefined;
      let firstTs: number | undefined;
      const rejections: Rejection[] = [];
      let unknownFields: string[] = [];
      decoded.readings.forEach((raw, i) => {
        const index = decoded.batch ? i : undefined;
        const v = validateReading(t.kind, raw, now);
        let rejection = v.ok ? undefined : v;
        if (v.ok && t.kind === "streetlight") {
          const sl = v.reading as { energy_wh: number; meter_reset?: boolean };
          const prev = meters.get(device.id);
          rejection = checkMeter(prev, v.tsMs, sl.energy_wh, sl.meter_reset);
          if (!rejection && (!prev || v.tsMs >= prev.tsMs))
            meters.set(device.id, { tsMs: v.tsMs, energyWh: sl.energy_wh });
        }
        if (rejection) {
          const r: Rejection = {
            reason: rejection.reason,
            kind: t.kind,
            deviceId: device.id,
            detail: rejection.detail,
            excerpt: excerptOf(raw),
            ...(index === undefined ? {} : { index }),
          };
          rejections.push(r);
          text += rejectLine(r, device.district, topic);
          lines++;
          return;
        }
        if (v.ok) {
          text += readingLine(t.kind, tags, v.reading as Record<string, unknown>, v.tsMs);
          lines++;
          accepted++;
          if (lastTs === undefined || v.tsMs > lastTs) lastTs = v.tsMs;
          if (firstTs === undefined || v.tsMs < firstTs) firstTs = v.tsMs;
          if (v.unknownFields.length > 0) unknownFields = unknownFields.concat(v.unknownFields);
        }
      });
      return {
        text,
        lines,
        kind: t.kind,
        accepted,
        rejections,
        unknownFields,
        deviceId: device.id,
        lastTs,
        firstTs,
      };
    },
  };
}

function excerptOf(value: Buffer | unknown): string {
  if (Buffer.isBuffer(value))
    return value
      .subarray(0, EXCERPT_CHARS * 4)
      .toString("utf8")
      .slice(0, EXCERPT_CHARS);
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.slice(0, EXCERPT_CHARS);
}
