// Daily energy rollups through the real pipeline (issue 5): scripted lamps publish a night of readings over MQTT →
// ingest → InfluxDB; the command service's roller, woken by the ingest's activity digests, must write energy_daily
// rows equal to what is worked out here by hand: a normal lamp, one whose meter restarts, one with a gap the meter
// bridges, one whose backlog arrives after its live readings. Then the reconcile sweep finds readings written
// straight to InfluxDB (no digest: as if it were lost), and a rebuild asked through the API restores a row.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { openRegistryDb } from "../../services/registry/store.ts";
import { sunEvents } from "../../services/schedule/sun.ts";
import { addDays, localDateOf, localInstant } from "../../services/schedule/zone.ts";
import { metricValue } from "./harness/metrics.ts";
import { eventually, type Stack, startStack } from "./harness/stack.ts";

const server = inject("influx");
const id = randomUUID().slice(0, 6);
const lamp = (name: string) => `sl-${id}-${name}`;
const [NORMAL, RESET, GAP, LATE, REC, LOST, NOWATTS] = [
  "normal",
  "reset",
  "gap",
  "late",
  "rec",
  "lost",
  "nowatts",
].map(lamp) as [string, string, string, string, string, string, string];
const ANFA = { lat: 33.59, lon: -7.65 };
const device = (id: string): DeviceRegistration => ({
  id,
  kind: "streetlight",
  district: "Anfa",
  ...ANFA,
  installed_at: "2025-03-01",
  report_interval_s: 600,
  led_watts: 90,
  legacy_watts: 295,
});

// The night of Saturday 17 October 2026. Casablanca is on UTC+0 for good since 2026-09-20: local = UTC. At Anfa
// sunset is 17:54 and sunrise on the 18th 06:37 (NOAA: 17:55 and 06:38; checked below to the minute).
const { sunset: SUNSET, sunrise: SUNRISE } = sunEvents("2026-10-17", ANFA);
const MIDNIGHT = Date.parse("2026-10-18T00:00:00Z");
const MIN = 60_000;
/** Every 10 minutes from 17:00 on the 17th to 07:00 on the 18th: 85 readings (42 on the 17th, 43 on the 18th). */
const GRID = Array.from({ length: 85 }, (_, i) => Date.parse("2026-10-17T17:00:00Z") + i * 10 * MIN);
/** Full light (90 W: 15 Wh a 10 minutes) until midnight and from 05:00, 50 % (7.5 Wh) in between. */
const full = (t: number) => t < MIDNIGHT || t >= Date.parse("2026-10-18T05:00:00Z");

type Reading = {
  ts: number;
  seq: number;
  power_w: number;
  energy_wh: number;
  dim_pct: number;
  lamp_ok: boolean;
  meter_reset?: boolean;
};

/** The night's readings; `resetAt`: the meter restarted just before that reading, which then reads 5 Wh. */
function night(resetAt?: number): Reading[] {
  let e = 2000;
  return GRID.map((ts, i) => {
    if (i > 0) e += full(ts - 10 * MIN) ? 15 : 7.5; // what the lamp drew over the 10 minutes before
    const reset = ts === resetAt;
    if (reset) e = 5;
    const on = full(ts);
    return {
      ts,
      seq: i + 1,
      power_w: on ? 90 : 45,
      energy_wh: e,
      dim_pct: on ? 100 : 50,
      lamp_ok: true,
      ...(reset ? { meter_reset: true } : {}),
    };
  });
}
const at = (hhmm: string, day = "2026-10-18") => Date.parse(`${day}T${hhmm}:00Z`);
const between = (from: number, to: number) => (r: Reading) => r.ts >= from && r.ts <= to;

// Hand counts shared by every lamp that covers 17:00 → 07:00: dark from sunset to midnight and from midnight to
// sunrise; every reading lit (dim > 0), so lit = covered = 7 h a day.
const DARK_17 = (MIDNIGHT - SUNSET) / 1000;
const DARK_18 = (SUNRISE - MIDNIGHT) / 1000;
const SEVEN_H = 7 * 3600;
const row = (day: string, r: Record<string, number>) => ({
  day,
  legacy_w: 295,
  led_w: 90,
  estimated_wh: 0,
  estimated_s: 0,
  metered_s: SEVEN_H,
  lit_s: SEVEN_H,
  dark_s: day === "2026-10-17" ? DARK_17 : DARK_18,
  resets: 0,
  gaps: 0,
  ...r,
});
// 17:00 → 24:00: 42 × 15 Wh = 630. 00:00 → 05:00: 30 × 7.5 = 225, 05:00 → 07:00: 12 × 15 = 180; 405.
const NORMAL_ROWS = [
  row("2026-10-17", {
    metered_wh: 630,
    readings: 42,
    first_ts: GRID[0] as number,
    last_ts: at("23:50", "2026-10-17"),
  }),
  row("2026-10-18", { metered_wh: 405, readings: 43, first_ts: MIDNIGHT, last_ts: at("07:00") }),
];

let stack: Stack;
let db: DatabaseSync;

function rowsOf(deviceId: string) {
  return db
    .prepare(
      `SELECT day, legacy_w, led_w, metered_wh, estimated_wh, metered_s, estimated_s, dark_s, lit_s, readings, resets,
              gaps, first_ts, last_ts FROM energy_daily WHERE device_id = ? ORDER BY day`,
    )
    .all(deviceId) as Record<string, number | string>[];
}
const readingsOf = (deviceId: string) => rowsOf(deviceId).reduce((n, r) => n + Number(r.readings), 0);
/** Rows compared with floats to 1e-6 (sums of shares). */
function expectRows(deviceId: string, want: Record<string, number | string>[]) {
  const got = rowsOf(deviceId);
  expect(got.map((r) => r.day)).toEqual(want.map((r) => r.day));
  for (const [i, w] of want.entries())
    for (const [k, v] of Object.entries(w))
      if (typeof v === "number") expect(got[i]?.[k], `${deviceId} ${w.day} ${k}`).toBeCloseTo(v, 6);
      else expect(got[i]?.[k]).toBe(v);
}
const publish = (deviceId: string, readings: Reading[]) =>
  stack.publish("streetlight", deviceId, JSON.stringify(readings));

beforeAll(async () => {
  stack = await startStack(
    { ...server, bucket: `t_energy_${id}` },
    {
      ingestEnv: { INGEST_ACTIVITY_INTERVAL_MS: "500" },
      commandEnv: {
        ENERGY_ROLLUP_INTERVAL_S: "0.5",
        ENERGY_SETTLE_S: "1",
        ENERGY_RECONCILE_INTERVAL_S: "2",
        ENERGY_RECONCILE_DAYS: "3",
      },
    },
  );
  await stack.influx.ensureDatabase();
  await stack.register([NORMAL, RESET, GAP, LATE, REC, LOST, NOWATTS].map(device));
  db = openRegistryDb(join(stack.dir, "registry.sqlite"));
  // The API requires both wattages of a streetlight, but registries from before they were required may lack them.
  db.prepare("UPDATE devices SET led_watts = NULL, legacy_watts = NULL WHERE id = ?").run(NOWATTS);
  // The activity digests are QoS 0: wait until the command service hears the broker (a lamp's presence) so that the
  // first tests see the digest path, not the reconcile sweep's.
  await stack.device(NORMAL);
  await eventually(
    async () => (await stack.api("GET", `/v1/devices/${NORMAL}/schedule`)).body.online === true,
    20_000,
    "the command service hearing presence events",
  );
});
afterAll(async () => {
  db?.close();
  await stack?.stop();
});

describe("energy rollups through the pipeline", () => {
  it("the sun times the hand counts rely on", () => {
    expect(new Date(SUNSET).toISOString().slice(11, 16)).toBe("17:54");
    expect(new Date(SUNRISE).toISOString().slice(11, 16)).toBe("06:37");
  });

  it("a normal night, a meter restart and a bridged gap give the rows worked out by hand", async () => {
    await publish(NORMAL, night());
    await publish(RESET, night(at("01:00")));
    // Nothing between 23:00 and 01:00.
    await publish(
      GAP,
      night().filter((r) => !between(at("23:10", "2026-10-17"), at("00:50"))(r)),
    );
    await publish(NOWATTS, night());
    await eventually(
      () => readingsOf(NORMAL) === 85 && readingsOf(RESET) === 85 && readingsOf(GAP) === 74,
      60_000,
      "the three lamps rolled up",
    );
    expectRows(NORMAL, NORMAL_ROWS);
    // 00:50 → 01:00 the restarted meter counts 5 Wh instead of 7.5: 405 − 7.5 + 5.
    expectRows(RESET, [NORMAL_ROWS[0], { ...NORMAL_ROWS[1], metered_wh: 402.5, resets: 1 }] as never);
    // 23:00 → 01:00 is one gap of 2 h whose 6 × 15 + 6 × 7.5 = 135 Wh the meter bridges (plausible: ≤ 117.5 W ×
    // 2 h); spread by dark seconds (all dark) half and half: 540 + 67.5 and 67.5 + 24 × 7.5 + 180.
    // Whether the lamp was lit during a gap is not known: the gap's hour of each day is covered, not lit.
    expectRows(GAP, [
      {
        ...NORMAL_ROWS[0],
        metered_wh: 607.5,
        lit_s: 6 * 3600,
        readings: 37,
        last_ts: at("23:00", "2026-10-17"),
      },
      { ...NORMAL_ROWS[1], metered_wh: 427.5, lit_s: 6 * 3600, readings: 37, gaps: 1, first_ts: at("01:00") },
    ] as never);
    expect(rowsOf(NOWATTS)).toEqual([]);
  });

  it("a backlog sent after the live readings: the lamp is recomputed and ends like the normal one", async () => {
    const all = night();
    const backlog = between(at("23:10", "2026-10-17"), at("01:50"));
    await publish(
      LATE,
      all.filter((r) => !backlog(r)),
    );
    await eventually(() => readingsOf(LATE) === 85 - 17, 60_000, "the live readings rolled up");
    // Meanwhile 23:00 → 02:00 is a bridged gap: 6 × 15 + 12 × 7.5 = 180 Wh spread 1 h / 2 h (all dark).
    expectRows(LATE, [
      {
        ...NORMAL_ROWS[0],
        metered_wh: 540 + 60,
        lit_s: 6 * 3600,
        readings: 37,
        last_ts: at("23:00", "2026-10-17"),
      },
      {
        ...NORMAL_ROWS[1],
        metered_wh: 120 + 18 * 7.5 + 180,
        lit_s: 5 * 3600,
        readings: 31,
        gaps: 1,
        first_ts: at("02:00"),
      },
    ] as never);
    await publish(LATE, all.filter(backlog));
    await eventually(() => readingsOf(LATE) === 85, 60_000, "the backlog rolled up");
    expectRows(LATE, NORMAL_ROWS);
    const metrics = await (await fetch(`${stack.commandUrl}/metrics`)).text();
    expect(
      metricValue(metrics, "energy_rollup_recomputed_lamp_days_total", { cause: "late" }),
    ).toBeGreaterThan(0);
  });

  it("the reconcile sweep finds readings that reached InfluxDB without a digest", async () => {
    // Yesterday (a complete local day in the sweep's window), 10:00 → 12:00, 1 Wh per 10 minutes, dimmed off.
    const day = addDays(localDateOf(Date.now()), -1);
    const t0 = localInstant(day, "10:00");
    const readings = Array.from({ length: 13 }, (_, i) => ({
      ts: t0 + i * 10 * MIN,
      seq: i + 1,
      power_w: 6,
      energy_wh: 100 + i,
      dim_pct: 0,
      lamp_ok: true,
    }));
    await publish(REC, readings);
    await eventually(() => readingsOf(REC) === 13, 60_000, "the published readings rolled up");
    // One behind the cursor (10:05) and one after it (12:10), as the ingest would write them.
    const line = (deviceId: string, ts: number, seq: number, e: number) =>
      `streetlight,device_id=${deviceId},district=Anfa seq=${seq}i,power_w=6,energy_wh=${e},dim_pct=0,lamp_ok=true ${ts}${String(seq).padStart(6, "0")}`;
    await stack.influx.writeLines(
      [line(REC, t0 + 5 * MIN, 100, 100.5), line(REC, t0 + 130 * MIN, 101, 113)],
      "ns",
    );
    // A lamp whose only digest was lost, weeks ago (outside the counted days): it has no cursor at all.
    const old = at("03:00");
    await stack.influx.writeLines([line(LOST, old, 1, 500), line(LOST, old + 10 * MIN, 2, 507.5)], "ns");
    await eventually(() => readingsOf(REC) === 15, 30_000, "the sweep recomputing the lamp");
    // 10:00 → 12:10: 13 Wh over 7800 s, none of it dark or lit.
    expect(rowsOf(REC)).toEqual([
      {
        day,
        legacy_w: 295,
        led_w: 90,
        metered_wh: 13,
        estimated_wh: 0,
        metered_s: 7800,
        estimated_s: 0,
        dark_s: 0,
        lit_s: 0,
        readings: 15,
        resets: 0,
        gaps: 0,
        first_ts: t0,
        last_ts: t0 + 130 * MIN,
      },
    ]);
    await eventually(() => readingsOf(LOST) === 2, 30_000, "the lamp never rolled up found");
    // 03:00 → 03:10 on the 18th: 7.5 Wh over 600 s, all dark (before sunrise), not lit (dim 0).
    expectRows(LOST, [
      {
        day: "2026-10-18",
        metered_wh: 7.5,
        metered_s: 600,
        dark_s: 600,
        lit_s: 0,
        readings: 2,
        first_ts: old,
        last_ts: old + 10 * MIN,
      },
    ]);
  });

  it("GET /v1/energy/rollups: how far the rollups are, for reports:read", async () => {
    const res = await stack.api("GET", "/v1/energy/rollups", undefined, "energy-manager");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ lamps_with_data: 6, rows: 10, lamps_without_wattages: 1 });
    expect(res.body.recomputed_lamp_days).toBeGreaterThanOrEqual(3); // late: 2 days, reconcile: 1
    expect(Date.parse(res.body.last_reconcile_at)).toBeGreaterThan(0);
    expect(Date.parse(res.body.computed_through)).toBeLessThanOrEqual(Date.now());
    expect((await stack.api("GET", "/v1/energy/rollups", undefined, "engineer")).status).toBe(403);
  });

  it("a rebuild recomputes a damaged row from InfluxDB; bad requests name the field", async () => {
    db.prepare("UPDATE energy_daily SET metered_wh = 0, readings = 0 WHERE device_id = ? AND day = ?").run(
      NORMAL,
      "2026-10-18",
    );
    const res = await stack.api(
      "POST",
      "/v1/energy/rollups/rebuild",
      { from: "2026-10-18", lamps: [NORMAL] },
      "energy-manager",
    );
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ from: "2026-10-18", lamps: 1, lamps_without_wattages: 0 });
    await eventually(() => readingsOf(NORMAL) === 85, 30_000, "the rebuild");
    expectRows(NORMAL, NORMAL_ROWS);

    const district = await stack.api(
      "POST",
      "/v1/energy/rollups/rebuild",
      { from: "2026-10-17", district: "Anfa" },
      "energy-manager",
    );
    expect(district.body).toMatchObject({ lamps: 6, lamps_without_wattages: 1 });

    const field = async (body: unknown) => {
      const r = await stack.api("POST", "/v1/energy/rollups/rebuild", body, "energy-manager");
      expect(r.status, JSON.stringify(body)).toBe(400);
      return r.body.issues.map((i: { field: string }) => i.field);
    };
    expect(await field({ from: "17/10/2026" })).toEqual(["from"]);
    expect(await field({ from: addDays(localDateOf(Date.now()), 2) })).toEqual(["from"]);
    expect(await field({ from: "2026-10-17", district: "Atlantis" })).toEqual(["district"]);
    const unknown = await stack.api(
      "POST",
      "/v1/energy/rollups/rebuild",
      { from: "2026-10-17", lamps: ["sl-nobody"] },
      "energy-manager",
    );
    expect(unknown.status).toBe(404);
    expect(
      (await stack.api("POST", "/v1/energy/rollups/rebuild", { from: "2026-10-17" }, "engineer")).status,
    ).toBe(403);
    // The district's rebuild goes through the same recompute: the rows end as they were.
    await eventually(
      async () => (await stack.api("GET", "/v1/energy/rollups", undefined, "admin")).body.pending_lamps === 0,
      60_000,
      "the district's rebuild done",
    );
    expectRows(NORMAL, NORMAL_ROWS);
    expectRows(LATE, NORMAL_ROWS);
  });
});
