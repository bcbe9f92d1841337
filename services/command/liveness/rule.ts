// The liveness rule (design of issue 3; contract/devices.ts LIVENESS). The device list filters with the same rule
// in SQL (LIVENESS_RULE_SQL in services/registry/activity.ts); tests/unit/liveness-rule.test.ts keeps the two in step.
//   never_seen  no activity row, or never connected (connected_at null)
//   offline     online = 0 (broker presence: disconnect, connection lost, revoked, …)
//   silent      online = 1 and now − max(connected_at, last_reading_at) > silentAfterIntervals × report_interval_s
//   online      otherwise
// "Silent" catches a device whose TCP connection looks open (a half-open socket, a hung firmware task) but
// which stopped reporting: the issue's "stops reporting for three of its intervals … even if its connection
// looks open". last_reading_at is platform time (when the ingest received it), so device clock skew does not count.
import type { Liveness } from "../../contract/devices.ts";

/** The columns of device_activity the rule reads (ISO 8601 UTC strings, as stored). */
export type LivenessFacts = {
  online: number | boolean;
  connected_at: string | null;
  last_reading_at: string | null;
};

export function livenessOf(
  activity: LivenessFacts | undefined,
  reportIntervalS: number,
  nowMs: number,
  silentAfterIntervals: number,
): Liveness {
  if (!activity || activity.connected_at === null) return "never_seen";
  if (!activity.online) return "offline";
  const connected = Date.parse(activity.connected_at);
  const reading = activity.last_reading_at === null ? connected : Date.parse(activity.last_reading_at);
  const since = Math.max(connected, reading);
  return nowMs - since > silentAfterIntervals * reportIntervalS * 1000 ? "silent" : "online";
}
