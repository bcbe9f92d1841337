// Platform-internal MQTT topics (services only; devices may neither publish nor subscribe here).
//   platform/v1/registry/changed              command service → caches   {"latest": n, "access_latest": m}
//   platform/v1/presence/{kind}/{deviceId}    broker → command service   a device connected or went away
//   platform/v1/ingest/activity               ingest → command service   per-device reading activity, every few s
import { z } from "zod";
import { DEVICE_KINDS, type DeviceKind, PLATFORM_ROOT } from "./topics.ts";

export const PRESENCE_ROOT = `${PLATFORM_ROOT}/presence`;
export const PRESENCE_FILTER = `${PRESENCE_ROOT}/+/+`;
export const INGEST_ACTIVITY_TOPIC = `${PLATFORM_ROOT}/ingest/activity`;

export function presenceTopic(kind: DeviceKind, deviceId: string): string {
  return `${PRESENCE_ROOT}/${kind}/${deviceId}`;
}

/**
 * Published by the broker (QoS 1, retained: the latest event per device, so a command service that subscribes
 * after devices connected — a first start, a new session — learns who is online at once) when a device's
 * authenticated connection opens or closes.
 * Unlike the device's own retained `state`, it cannot be forged by a device and also reports refusals of
 * a live session (revoked credentials, takeover by a new connection with the same id).
 */
export const presenceEvent = z.object({
  id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  online: z.boolean(),
  /** Broker time, ISO 8601. */
  at: z.string(),
  /** For online=false: why the connection ended. */
  reason: z
    .enum(["disconnect", "connection_lost", "keepalive_timeout", "revoked", "takeover", "shutdown"])
    .optional(),
  remote_address: z.string().optional(),
});
export type PresenceEvent = z.infer<typeof presenceEvent>;

/** One device's reading activity since the previous digest. */
export const deviceActivity = z.object({
  id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  /** Device time of the newest accepted reading, epoch ms (absent if none was accepted). */
  last_ts: z.number().optional(),
  /**
   * Device time of the oldest accepted reading since the previous digest, epoch ms. Below what was already
   * rolled up, it says data arrived late (a backlog): the energy rollups recompute from there (issue 5).
   */
  first_ts: z.number().optional(),
  /** Platform time the newest message from the device arrived, epoch ms. */
  received_at: z.number(),
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  /** Rejected readings by reason code (see reasons.ts). */
  reasons: z.record(z.string(), z.number().int()).optional(),
});
export type DeviceActivity = z.infer<typeof deviceActivity>;

/** Published by the ingest (QoS 0: the next digest carries on) every few seconds for devices it heard from, ≤ 5000 devices per message. */
export const activityDigest = z.object({
  at: z.number(),
  devices: z.array(deviceActivity),
});
export type ActivityDigest = z.infer<typeof activityDigest>;
export const MAX_ACTIVITY_DEVICES = 5000;
