// Which lamps a compliance check covers: one streetlight, the streetlights of a group (device_group_members),
// or those of a district (the devices table). Failures are values with a reason code; the route maps them.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { DISTRICT_NAMES } from "../../contract/city.ts";
import type { Site } from "../../schedule/sun.ts";

export const SCOPE_TYPES = ["device", "group", "district"] as const;
export type ScopeType = (typeof SCOPE_TYPES)[number];
export type ComplianceScope = { type: ScopeType; id: string };

/** A lamp to check: its position (for sunrise/sunset) and its reporting interval (for sizing the reads). */
export type Lamp = { id: string; site: Site; reportIntervalS: number };

export type ScopeRefusal =
  | { reason: "not_found"; what: "device" | "group"; id: string }
  | { reason: "not_streetlight"; id: string; kind: string }
  | { reason: "unknown_district"; id: string };

export type ScopeResult = { ok: true; lamps: Lamp[] } | ({ ok: false } & ScopeRefusal);

type LampRow = { id: string; lat: number; lon: number; report_interval_s: number };

const toLamp = (r: LampRow): Lamp => ({
  id: r.id,
  site: { lat: r.lat, lon: r.lon },
  reportIntervalS: r.report_interval_s,
});

export type ScopeReader = { lamps(scope: ComplianceScope): ScopeResult };

/**
 * Lamps of a scope, ordered by id. A named device is checked even when decommissioned (its history stays
 * true); a group's or district's decommissioned lamps are left out, since nothing is expected of them now.
 */
export function scopeReader(db: DatabaseSync): ScopeReader {
  const device: StatementSync = db.prepare(
    "SELECT id, kind, lat, lon, report_interval_s FROM devices WHERE id = ?",
  );
  const group = db.prepare("SELECT 1 AS found FROM device_groups WHERE id = ?");
  const members = db.prepare(
    `SELECT d.id, d.lat, d.lon, d.report_interval_s FROM device_group_members m
       JOIN devices d ON d.id = m.device_id
      WHERE m.group_id = ? AND d.kind = 'streetlight' AND d.status <> 'decommissioned'
      ORDER BY d.id`,
  );
  const district = db.prepare(
    `SELECT id, lat, lon, report_interval_s FROM devices
      WHERE kind = 'streetlight' AND district = ? AND status <> 'decommissioned'
      ORDER BY id`,
  );
  return {
    lamps(scope) {
      switch (scope.type) {
        case "device": {
          const row = device.get(scope.id) as (LampRow & { kind: string }) | undefined;
          if (!row) return { ok: false, reason: "not_found", what: "device", id: scope.id };
          if (row.kind !== "streetlight")
            return { ok: false, reason: "not_streetlight", id: scope.id, kind: row.kind };
          return { ok: true, lamps: [toLamp(row)] };
        }
        case "group": {
          if (!group.get(scope.id)) return { ok: false, reason: "not_found", what: "group", id: scope.id };
          return { ok: true, lamps: (members.all(scope.id) as LampRow[]).map(toLamp) };
        }
        case "district": {
          if (!(DISTRICT_NAMES as readonly string[]).includes(scope.id))
            return { ok: false, reason: "unknown_district", id: scope.id };
          return { ok: true, lamps: (district.all(scope.id) as LampRow[]).map(toLamp) };
        }
      }
    },
  };
}
