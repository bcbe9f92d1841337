// energy_daily and energy_cursors (migration 4, issue 5): each streetlight's daily energy accumulations and the
// last reading rolled up, written by the command service's roller (services/command/energy/) and read by the
// reports. A lamp's rows and its cursor always change together, in one transaction: after a crash the cursor
// says exactly which readings the rows hold, so the next pass neither skips nor counts a reading twice.
// Rows accumulate: a pass adds its contributions to what earlier passes left (a day is rolled up while it
// happens); a recompute deletes a lamp's rows from a day on first (late data, reconcile, rebuild).
import type { DatabaseSync } from "node:sqlite";
import type { DayAccum, MeterReading } from "../energy/rollup.ts";
import { inTransaction } from "./sqlite.ts";

export type EnergyCursor = MeterReading & { deviceId: string };

/** One lamp's share of a roller pass. */
export type LampRollup = {
  deviceId: string;
  /** The wattages the rows are computed with (the registry's values now). */
  legacyW: number;
  ledW: number;
  /** Delete the lamp's rows of this local day and later first (a recompute from that day). */
  deleteFromDay?: string | undefined;
  days: Iterable<DayAccum>;
  /** The last reading rolled up; undefined: the lamp has none (its cursor is removed). */
  cursor: MeterReading | undefined;
};

export type EnergyCounts = {
  /** Rows of energy_daily. */
  rows: number;
  /** Lamps with a cursor: some reading of theirs is rolled up. */
  lampsWithData: number;
};

export type EnergyStore = {
  /** Applies a pass for several lamps in one transaction; answers the rows deleted by recomputes. */
  apply(lamps: readonly LampRollup[], at: Date): { deleted: number };
  cursors(deviceIds: readonly string[]): Map<string, EnergyCursor>;
  /** Per lamp, the readings its row of `day` holds (lamps without a row are absent). */
  readingsOn(day: string): Map<string, number>;
  counts(): EnergyCounts;
};

const ADD_SQL = `
  INSERT INTO energy_daily (device_id, day, legacy_w, led_w, metered_wh, estimated_wh, metered_s, estimated_s,
                            dark_s, lit_s, readings, resets, gaps, first_ts, last_ts, updated_at)
  VALUES ($id, $day, $legacy, $led, $mwh, $ewh, $ms, $es, $dark, $lit, $readings, $resets, $gaps, $first, $last, $at)
  ON CONFLICT (day, device_id) DO UPDATE SET
    legacy_w = excluded.legacy_w, led_w = excluded.led_w,
    metered_wh = metered_wh + excluded.metered_wh, estimated_wh = estimated_wh + excluded.estimated_wh,
    metered_s = metered_s + excluded.metered_s, estimated_s = estimated_s + excluded.estimated_s,
    dark_s = dark_s + excluded.dark_s, lit_s = lit_s + excluded.lit_s,
    readings = readings + excluded.readings, resets = resets + excluded.resets, gaps = gaps + excluded.gaps,
    first_ts = CASE WHEN first_ts IS NULL OR excluded.first_ts < first_ts THEN excluded.first_ts ELSE first_ts END,
    last_ts = CASE WHEN last_ts IS NULL OR excluded.last_ts > last_ts THEN excluded.last_ts ELSE last_ts END,
    updated_at = excluded.updated_at`;

const CURSOR_SQL = `
  INSERT INTO energy_cursors (device_id, ts, energy_wh, power_w, dim_pct, updated_at)
  VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (device_id) DO UPDATE SET ts = excluded.ts, energy_wh = excluded.energy_wh,
    power_w = excluded.power_w, dim_pct = excluded.dim_pct, updated_at = excluded.updated_at`;

type CursorRow = { device_id: string; ts: number; energy_wh: number; power_w: number; dim_pct: number };

export function createEnergyStore(db: DatabaseSync): EnergyStore {
  const add = db.prepare(ADD_SQL);
  const deleteFrom = db.prepare("DELETE FROM energy_daily WHERE device_id = ? AND day >= ?");
  const setCursor = db.prepare(CURSOR_SQL);
  const dropCursor = db.prepare("DELETE FROM energy_cursors WHERE device_id = ?");
  const cursorsOf = db.prepare(
    `SELECT device_id, ts, energy_wh, power_w, dim_pct FROM energy_cursors
      WHERE device_id IN (SELECT value FROM json_each(?))`,
  );
  // The primary key (day, device_id) serves this.
  const readingsOn = db.prepare("SELECT device_id, readings FROM energy_daily WHERE day = ?");
  const rows = db.prepare("SELECT count(*) AS n FROM energy_daily");
  const lamps = db.prepare("SELECT count(*) AS n FROM energy_cursors");

  return {
    apply(list, at) {
      const iso = at.toISOString();
      return inTransaction(db, () => {
        let deleted = 0;
        for (const l of list) {
          if (l.deleteFromDay !== undefined)
            deleted += Number(deleteFrom.run(l.deviceId, l.deleteFromDay).changes);
          for (const d of l.days) {
            add.run({
              $id: l.deviceId,
              $day: d.day,
              $legacy: l.legacyW,
              $led: l.ledW,
              $mwh: d.meteredWh,
              $ewh: d.estimatedWh,
              $ms: d.meteredS,
              $es: d.estimatedS,
              $dark: d.darkS,
              $lit: d.litS,
              $readings: d.readings,
              $resets: d.resets,
              $gaps: d.gaps,
              $first: d.firstTs,
              $last: d.lastTs,
              $at: iso,
            });
          }
          const c = l.cursor;
          if (c) setCursor.run(l.deviceId, c.ts, c.energyWh, c.powerW, c.dimPct, iso);
          else dropCursor.run(l.deviceId);
        }
        return { deleted };
      });
    },
    cursors(ids) {
      const out = new Map<string, EnergyCursor>();
      if (ids.length === 0) return out;
      for (const r of cursorsOf.all(JSON.stringify(ids)) as CursorRow[])
        out.set(r.device_id, {
          deviceId: r.device_id,
          ts: r.ts,
          energyWh: r.energy_wh,
          powerW: r.power_w,
          dimPct: r.dim_pct,
          // The cursor is the last reading already counted; whether it restarted the meter no longer matters.
          reset: false,
        });
      return out;
    },
    readingsOn(day) {
      const rowsOfDay = readingsOn.all(day) as { device_id: string; readings: number }[];
      return new Map(rowsOfDay.map((r) => [r.device_id, r.readings]));
    },
    counts: () => ({
      rows: Number((rows.get() as { n: number }).n),
      lampsWithData: Number((lamps.get() as { n: number }).n),
    }),
  };
}
