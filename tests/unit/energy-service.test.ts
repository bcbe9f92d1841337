// The energy service's worker (services/command/energy/service.ts) on the real store (SQLite in memory) with an
// in-test InfluxDB that answers the three statements the rollups send (readings per lamp, counts per lamp, the
// lamps with data) and can be switched off: catching up at start, an outage that loses nothing, digests that
// roll lamps on after the settle time, and the status.
import type { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it, vi } from "vitest";
import { commandConfigSchema } from "../../services/command/config.ts";
import { createEnergyService, type EnergyService } from "../../services/command/energy/service.ts";
import type { MeterReading } from "../../services/energy/rollup.ts";
import { type InfluxClient, InfluxUnreachableError } from "../../services/lib/influx/index.ts";
import type { InfluxSeries, QueryParams } from "../../services/lib/influx/query.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { openRegistryDb } from "../../services/registry/store.ts";

const T0 = Date.parse("2026-10-17T18:00:00Z");
const MIN = 60_000;
const COLUMNS = ["time", "energy_wh", "power_w", "dim_pct", "meter_reset"];

/** InfluxDB as the rollups query it, over `data`; `up = false` makes every query fail as unreachable. */
function fakeInflux(data: Map<string, MeterReading[]>) {
  const state = { up: true, queries: 0 };
  const client = {
    async query(q: string, params: QueryParams = {}): Promise<InfluxSeries[]> {
      state.queries++;
      if (!state.up) throw new InfluxUnreachableError("http://influx.test", new Error("ECONNREFUSED"));
      if (q.startsWith("SHOW TAG VALUES"))
        return [
          {
            name: "streetlight",
            tags: {},
            columns: ["key", "value"],
            values: [...data.keys()].map((id) => ["device_id", id]),
          },
        ];
      const ms = (k: string) => (params[k] instanceof Date ? (params[k] as Date).getTime() : undefined);
      const [from, to, before] = [ms("from") ?? -Infinity, ms("to") ?? Infinity, ms("before") ?? Infinity];
      const inRange = (r: MeterReading) => r.ts >= from && r.ts < to && r.ts < before;
      if (q.includes("count(energy_wh)"))
        return [...data].map(([id, rows]) => ({
          name: "streetlight",
          tags: { device_id: id },
          columns: ["time", "count"],
          values: [[0, rows.filter(inRange).length]],
        }));
      const ids = Object.entries(params)
        .filter(([k]) => /^id\d+$/.test(k))
        .map(([, v]) => v as string);
      const limit = Number(/LIMIT (\d+)/.exec(q)?.[1]);
      const desc = q.includes("ORDER BY time DESC");
      return ids.flatMap((id) => {
        let rows = (data.get(id) ?? []).filter(inRange);
        if (desc) rows = rows.reverse();
        rows = rows.slice(0, limit);
        if (rows.length === 0) return [];
        const values = rows.map((r) => [r.ts, r.energyWh, r.powerW, r.dimPct, r.reset ? true : null]);
        return [{ name: "streetlight", tags: { device_id: id }, columns: COLUMNS, values }];
      });
    },
  };
  return { influx: client as unknown as InfluxClient, state };
}

/** 12 readings 10 minutes apart from `from`, 15 Wh each (90 W). */
const readings = (from: number, e0 = 1000): MeterReading[] =>
  Array.from({ length: 12 }, (_, i) => ({
    ts: from + i * 10 * MIN,
    energyWh: e0 + 15 * i,
    powerW: 90,
    dimPct: 100,
    reset: false,
  }));

function registry(ids: string[]): DatabaseSync {
  const db = openRegistryDb(":memory:");
  const insert = db.prepare(
    `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, led_watts, legacy_watts,
                          created_at, updated_at)
     VALUES (?, 'streetlight', 'Anfa', 33.59, -7.65, '2025-03-01', 600, 90, 295, '2025-03-01', '2025-03-01')`,
  );
  for (const id of ids) insert.run(id);
  return db;
}

const config = commandConfigSchema.parse({
  energy: { rollupIntervalS: 0.2, settleS: 0.3, reconcileIntervalS: 3600, reconcileDays: 0 },
});
let service: EnergyService | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

/** Waits (real time: the worker ticks every 0.2 s) until `check` holds. */
const eventually = (check: () => boolean, timeout: number, what: string) =>
  vi.waitFor(
    () => {
      if (!check()) throw new Error(`still waiting for ${what}`);
    },
    { timeout, interval: 50 },
  );

const readingsIn = (db: DatabaseSync, id: string) =>
  Number(
    (
      db.prepare("SELECT coalesce(sum(readings), 0) AS n FROM energy_daily WHERE device_id = ?").get(id) as {
        n: number;
      }
    ).n,
  );

describe("energy service", () => {
  it("catches every streetlight up at start; an InfluxDB outage is retried and loses nothing", async () => {
    const data = new Map([
      ["sl-a", readings(T0)],
      ["sl-b", readings(T0 + 5 * MIN)],
    ]);
    const { influx, state } = fakeInflux(data);
    const db = registry(["sl-a", "sl-b", "sl-silent"]);
    state.up = false;
    service = createEnergyService({ db, influx, config, log: silentLogger() });
    service.start();
    await eventually(() => state.queries >= 3, 5000, "a few failed passes");
    expect(service.status()).toMatchObject({
      lamps_with_data: 0,
      rows: 0,
      last_cycle_at: null,
      pending_lamps: 3,
    });
    state.up = true;
    // The pass that rolls the two lamps with data up may still be finishing the silent one: wait for both.
    await eventually(
      () => service?.status().lamps_with_data === 2 && service?.status().pending_lamps === 0,
      5000,
      "the catch-up after the outage",
    );
    expect([readingsIn(db, "sl-a"), readingsIn(db, "sl-b")]).toEqual([12, 12]);
    // 11 intervals of 15 Wh each.
    const metered = db
      .prepare("SELECT sum(metered_wh) AS wh FROM energy_daily WHERE device_id = 'sl-a'")
      .get();
    expect(metered).toEqual({ wh: 165 });
    expect(service.status()).toMatchObject({ pending_lamps: 0, rows: 2, lamps_without_wattages: 0 });
    expect(service.status().computed_through).not.toBeNull();
  });

  it("a digest rolls the lamp on after the settle time; one whose first_ts is behind the cursor is recomputed", async () => {
    const data = new Map([["sl-a", readings(T0)]]);
    const { influx } = fakeInflux(data);
    const db = registry(["sl-a"]);
    service = createEnergyService({ db, influx, config, log: silentLogger() });
    service.start();
    await eventually(() => readingsIn(db, "sl-a") === 12, 5000, "the catch-up");
    // Newer readings, announced: read after the settle time.
    const later = readings(T0 + 120 * MIN, 1000 + 15 * 12);
    (data.get("sl-a") as MeterReading[]).push(...later);
    const digest = (first: number, last: number) => ({
      at: Date.now(),
      devices: [
        {
          id: "sl-a",
          kind: "streetlight" as const,
          first_ts: first,
          last_ts: last,
          received_at: Date.now(),
          accepted: 12,
          rejected: 0,
        },
      ],
    });
    service.handlers.activity(digest(later[0]?.ts as number, later.at(-1)?.ts as number));
    expect(service.status().pending_lamps).toBe(1);
    await eventually(() => readingsIn(db, "sl-a") === 24, 5000, "the announced readings");
    // A reading that was missing between the two stretches arrives late (behind the cursor).
    const gapFill = {
      ts: T0 + 115 * MIN,
      energyWh: 1000 + 15 * 12 - 1,
      powerW: 90,
      dimPct: 100,
      reset: false,
    };
    const rows = data.get("sl-a") as MeterReading[];
    rows.splice(12, 0, gapFill);
    service.handlers.activity(digest(gapFill.ts, gapFill.ts));
    // The rows land in the pass's transaction; its count of recomputed lamp-days just after: wait for both.
    await eventually(
      () => readingsIn(db, "sl-a") === 25 && (service?.status().recomputed_lamp_days ?? 0) >= 1,
      5000,
      "the late reading, recomputed",
    );
  });

  it("announced readings that land out of order (newest first) are all rolled up once the older ones land", async () => {
    // A backlog of 12 readings announced at once; InfluxDB shows the newest 6 first (another shard, a later
    // write), the older 6 a moment later with no digest of their own.
    const data = new Map([["sl-a", readings(T0)]]);
    const { influx } = fakeInflux(data);
    const db = registry(["sl-a"]);
    service = createEnergyService({ db, influx, config, log: silentLogger() });
    service.start();
    await eventually(() => readingsIn(db, "sl-a") === 12, 5000, "the catch-up");
    const backlog = readings(T0 + 180 * MIN, 1165 + 105); // 70 min at 90 W after the first stretch's last
    const rows = data.get("sl-a") as MeterReading[];
    rows.push(...backlog.slice(6));
    service.handlers.activity({
      at: Date.now(),
      devices: [
        {
          id: "sl-a",
          kind: "streetlight",
          first_ts: backlog[0]?.ts as number,
          last_ts: backlog.at(-1)?.ts as number,
          received_at: Date.now(),
          accepted: 12,
          rejected: 0,
        },
      ],
    });
    await eventually(() => readingsIn(db, "sl-a") === 18, 5000, "the newest six");
    rows.splice(12, 0, ...backlog.slice(0, 6));
    await eventually(
      () => readingsIn(db, "sl-a") === 24,
      5000,
      "the older six, without a digest of their own",
    );
    // Metered: 11 intervals of 15 Wh, the 70 min gap into the backlog bridged by the meter (105 Wh), 11 of 15.
    const wh = db.prepare("SELECT sum(metered_wh) AS wh FROM energy_daily WHERE device_id = 'sl-a'").get();
    expect(wh).toEqual({ wh: 165 + 105 + 165 });
  });
});
