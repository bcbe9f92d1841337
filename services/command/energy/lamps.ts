// The streetlights the rollups cover, from the registry: position (for the astronomical night) and the two
// wattages of the IPMVP baseline (legacy system watts) and of the LED (plausibility, estimates). A lamp without
// both wattages cannot be rolled up: it is skipped and counted (GET /v1/energy/rollups), and rolled up from its
// first reading once an engineer records them. Only kind = 'streetlight': other kinds never have energy.
import type { DatabaseSync } from "node:sqlite";
import type { LampParams } from "../../energy/rollup.ts";

export type RollLamp = { id: string; params: LampParams };

export type LampSelection = { lamps: RollLamp[]; withoutWattages: string[] };

type Row = { id: string; lat: number; lon: number; led_watts: number | null; legacy_watts: number | null };

const COLUMNS = "id, lat, lon, led_watts, legacy_watts";

function select(rows: Row[]): LampSelection {
  const out: LampSelection = { lamps: [], withoutWattages: [] };
  for (const r of rows) {
    if (r.led_watts === null || r.legacy_watts === null) out.withoutWattages.push(r.id);
    else
      out.lamps.push({
        id: r.id,
        params: { ledW: r.led_watts, legacyW: r.legacy_watts, site: { lat: r.lat, lon: r.lon } },
      });
  }
  return out;
}

export type LampSource = {
  /** The streetlights among `ids` (other ids: not streetlights or not registered, left out). */
  byIds(ids: readonly string[]): LampSelection;
  /** Every streetlight, or a district's; decommissioned ones too (their data until then still counts). */
  all(district?: string): LampSelection;
  /** Kinds of `ids` as registered (absent: not registered). */
  kinds(ids: readonly string[]): Map<string, string>;
};

export function lampSource(db: DatabaseSync): LampSource {
  const byIds = db.prepare(
    `SELECT ${COLUMNS} FROM devices WHERE kind = 'streetlight' AND id IN (SELECT value FROM json_each(?))`,
  );
  const all = db.prepare(`SELECT ${COLUMNS} FROM devices WHERE kind = 'streetlight' ORDER BY id`);
  const inDistrict = db.prepare(
    `SELECT ${COLUMNS} FROM devices WHERE kind = 'streetlight' AND district = ? ORDER BY id`,
  );
  const kinds = db.prepare("SELECT id, kind FROM devices WHERE id IN (SELECT value FROM json_each(?))");
  return {
    byIds: (ids) => (ids.length === 0 ? select([]) : select(byIds.all(JSON.stringify(ids)) as Row[])),
    all: (district) => select((district === undefined ? all.all() : inDistrict.all(district)) as Row[]),
    kinds: (ids) =>
      new Map((kinds.all(JSON.stringify(ids)) as { id: string; kind: string }[]).map((r) => [r.id, r.kind])),
  };
}
