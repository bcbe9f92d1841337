// The broker's table of recent denials, served as JSON at the ops server's /denials: one row per principal,
// action, topic and reason, with a count and the last time, bounded (least recently seen rows go first) so that
// a flood of made-up usernames or topics costs a fixed amount of memory. Prometheus gets only action and reason
// (broker_denials_total): per-device labels would make one time series per device.
import type { Denial } from "./hooks/adapter.ts";

export type DenialRow = {
  action: Denial["action"];
  /** The device or service id, or the username the CONNECT claimed, or else its client id. */
  principal: string;
  client_id: string;
  /** The topic or filter (PUBLISH, SUBSCRIBE); null for CONNECT. */
  topic: string | null;
  reason: Denial["reason"];
  count: number;
  first_at: string;
  last_at: string;
};

export type DenialTable = {
  record(d: Denial): void;
  /** Most recent first. */
  list(): DenialRow[];
};

export function createDenialTable(maxRows: number, now: () => number = Date.now): DenialTable {
  const rows = new Map<string, DenialRow>();
  return {
    record(d) {
      const principal = d.principal ?? d.clientId;
      const key = JSON.stringify([d.action, principal, d.topic ?? null, d.reason]);
      const at = new Date(now()).toISOString();
      const row = rows.get(key);
      if (row) {
        rows.delete(key); // re-inserted: Map order is recency order
        row.count++;
        row.last_at = at;
        row.client_id = d.clientId;
        rows.set(key, row);
        return;
      }
      rows.set(key, {
        action: d.action,
        principal,
        client_id: d.clientId,
        topic: d.topic ?? null,
        reason: d.reason,
        count: 1,
        first_at: at,
        last_at: at,
      });
      if (rows.size > maxRows) {
        const oldest = rows.keys().next().value;
        if (oldest !== undefined) rows.delete(oldest);
      }
    },
    list: () => [...rows.values()].reverse(),
  };
}
