// Logs rejected readings so a field engineer can see why a device's data is missing, without letting a device
// that sends garbage flood the log: the first rejection per device and reason is logged, then at most one line
// a minute with the count suppressed meanwhile.
import type { Logger } from "../lib/log.ts";
import type { Rejection } from "./pipeline.ts";

const INTERVAL_MS = 60_000;
const MAX_KEYS = 50_000;

export function createRejectLog(log: Logger, now: () => number) {
  const seen = new Map<string, { at: number; suppressed: number }>();
  return {
    record(r: Rejection): void {
      const key = `${r.deviceId}\u0000${r.reason}`;
      const t = now();
      const entry = seen.get(key);
      if (entry && t - entry.at < INTERVAL_MS) {
        entry.suppressed++;
        return;
      }
      if (seen.size >= MAX_KEYS) seen.clear();
      const suppressed = entry?.suppressed ?? 0;
      seen.set(key, { at: t, suppressed: 0 });
      log.warn(
        {
          deviceId: r.deviceId,
          kind: r.kind,
          reason: r.reason,
          detail: r.detail,
          index: r.index,
          excerpt: r.excerpt.slice(0, 200),
          suppressed,
        },
        "reading rejected",
      );
    },
  };
}
