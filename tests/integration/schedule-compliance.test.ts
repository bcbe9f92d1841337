// Compliance after a simulated night (issue 4, "Checking that lamps obey"): real broker, ingest, InfluxDB and
// command service. The registry gets the history the delivery engine writes (a calendar document, its rollout and
// deliveries a week before the night; an override's rollout for one lamp) through the schedule stores on a second
// connection to the service's SQLite file; the lamps publish a whole night of readings through MQTT → ingest →
// InfluxDB; GET /v1/compliance must find, lamp by lamp, what was computed here by hand.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { influxSampleReader } from "../../services/command/schedules/compliance-samples.ts";
import { CITY } from "../../services/contract/city.ts";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { connectInflux } from "../../services/lib/influx/index.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { storeDocument } from "../../services/registry/schedules/documents.ts";
import { createOverrideStore } from "../../services/registry/schedules/overrides.ts";
import { createRolloutStore } from "../../services/registry/schedules/rollouts.ts";
import { openRegistryDb } from "../../services/registry/store.ts";
import { sunEvents } from "../../services/schedule/sun.ts";
import { countOf, eventually, type Stack, startStack } from "./harness/stack.ts";

const server = inject("influx");
const id = randomUUID().slice(0, 6);
const lamp = (name: string) => `sl-${id}-${name}`;
const EXACT = lamp("exact");
const DAY_BURNER = lamp("dayburn");
const STUCK = lamp("stuck");
const OVERRIDDEN = lamp("override");
const SILENT = lamp("silent");
const SENSOR = `aq-${id}-1`;
const ANFA = { lat: 33.59, lon: -7.65 };

const devices: DeviceRegistration[] = [
  ...[EXACT, DAY_BURNER, STUCK, OVERRIDDEN, SILENT].map((id) => ({
    id,
    kind: "streetlight" as const,
    district: "Anfa",
    ...ANFA,
    installed_at: "2025-03-01",
    report_interval_s: 600,
    led_watts: 90,
    legacy_watts: 295,
  })),
  { id: SENSOR, kind: "airquality", district: "Anfa", ...ANFA, installed_at: "2025-03-01" },
];

// The night of Saturday 17 October 2026. Casablanca is on UTC+0 for good since 2026-09-20, so local = UTC here.
// At Anfa sunset is 17:54:36 and sunrise (on the 18th) 06:37:39 (NOAA's Solar Calculator for 33.59 N, 7.65 W:
// 17:55 and 06:38 — services/schedule/sun.ts is checked against it to within two minutes).
const NIGHT = "2026-10-17";
const at = (hhmm: string) => Date.parse(`${hhmm < "12:00" ? "2026-10-18" : "2026-10-17"}T${hhmm}:00Z`);
const { sunset: SUNSET, sunrise: SUNRISE } = sunEvents(NIGHT, ANFA);
// The calendar sent a week before: full light at dusk, 40 % from 23:00, full again from 05:00 for the morning
// rush, off at dawn.
const PROGRAM = [
  { at: "sunset", level_pct: 100, ramp_s: 0 },
  { at: "23:00", level_pct: 40, ramp_s: 0 },
  { at: "05:00", level_pct: 100, ramp_s: 0 },
  { at: "sunrise", level_pct: 0, ramp_s: 0 },
] as const;
const scheduled = (t: number) =>
  t < SUNSET ? 0 : t < at("23:00") ? 100 : t < at("05:00") ? 40 : t < SUNRISE ? 100 : 0;

/** Every 10 minutes from local noon to local noon: 144 readings. */
const GRID = Array.from({ length: 144 }, (_, i) => at("12:00") + i * 600_000);
const LEVELS: Record<string, (t: number) => number> = {
  [EXACT]: scheduled,
  // Keeps burning after sunrise.
  [DAY_BURNER]: (t) => (t >= SUNRISE ? 100 : scheduled(t)),
  // Never dims: 100 % from dusk to dawn.
  [STUCK]: (t) => (t >= SUNSET && t < SUNRISE ? 100 : 0),
  // Follows the incident override: 100 % from 01:00 to 02:00.
  [OVERRIDDEN]: (t) => (t >= at("01:00") && t < at("02:00") ? 100 : scheduled(t)),
};

let stack: Stack;

/** The history as the delivery engine writes it, through the schedule stores (a second SQLite connection). */
function writeHistory(dbPath: string) {
  const db = openRegistryDb(dbPath);
  try {
    const rollouts = createRolloutStore(db);
    const sentAt = "2026-10-10T09:00:00.000Z";
    const doc = storeDocument(
      db,
      {
        calendar: { id: "midnight-dim", name: "Midnight dimming", revision: 1 },
        time_zone: CITY.timeZone,
        rules: [],
        default_program: "dim-40",
        programs: { "dim-40": { name: "40 % from 23:00 to 05:00", switch_points: [...PROGRAM] } },
      },
      new Date(sentAt),
    );
    const lamps = [EXACT, DAY_BURNER, STUCK, OVERRIDDEN, SILENT];
    const calendar = rollouts.create({
      kind: "calendar",
      version: doc.version,
      overrideId: null,
      cause: "assign",
      target: { type: "district", id: "Anfa" },
      createdBy: "local-engineer",
      createdAt: sentAt,
      deviceIds: lamps,
    });
    const acked = "2026-10-10T09:00:05.000Z";
    rollouts.apply(
      lamps.map((deviceId) => ({
        type: "final",
        rolloutId: calendar.id,
        deviceId,
        state: "applied",
        at: acked,
      })),
    );
    const override = {
      id: `ovr-${id}`,
      target_type: "devices" as const,
      target_id: JSON.stringify([OVERRIDDEN]),
      level_pct: 100,
      ramp_s: 0,
      starts_at: "2026-10-18T01:00:00.000Z",
      expires_at: "2026-10-18T02:00:00.000Z",
      reason: "incident on the boulevard",
      created_at: "2026-10-17T20:00:00.000Z",
      created_by: "local-engineer",
    };
    createOverrideStore(db).insert(override);
    const o = rollouts.create({
      kind: "override",
      version: null,
      overrideId: override.id,
      cause: "override",
      target: { type: "devices", id: override.target_id },
      createdBy: "local-engineer",
      createdAt: override.created_at,
      deviceIds: [OVERRIDDEN],
    });
    rollouts.apply([
      { type: "final", rolloutId: o.id, deviceId: OVERRIDDEN, state: "applied", at: override.created_at },
    ]);
  } finally {
    db.close();
  }
}

/** A night of readings in one backlog message per lamp, with the power and meter that follow the level. */
async function publishNight(deviceId: string, level: (t: number) => number) {
  let energyWh = 1000;
  const readings = GRID.map((ts, i) => {
    const dim = level(ts);
    const power = dim === 0 ? 0.5 : (90 * dim) / 100;
    energyWh += (power * 600) / 3600;
    return {
      ts,
      seq: i + 1,
      power_w: power,
      energy_wh: Math.round(energyWh * 10) / 10,
      dim_pct: dim,
      lamp_ok: true,
    };
  });
  await stack.publish("streetlight", deviceId, JSON.stringify(readings));
}

beforeAll(async () => {
  stack = await startStack({ ...server, bucket: `t_compliance_${id}` });
  await stack.influx.ensureDatabase();
  await stack.register(devices);
  writeHistory(join(stack.dir, "registry.sqlite"));
  for (const [deviceId, level] of Object.entries(LEVELS)) await publishNight(deviceId, level);
  const mine = Object.keys(LEVELS)
    .map((d) => `device_id = '${d}'`)
    .join(" OR ");
  await eventually(
    async () => (await countOf(stack.influx, "streetlight", mine)) === 4 * 144,
    60_000,
    "the night's readings in InfluxDB",
  );
});
afterAll(async () => {
  await stack?.stop();
});

describe("compliance after a simulated night", () => {
  it("the sun times the hand counts below rely on", () => {
    expect(new Date(SUNSET).toISOString().slice(11, 16)).toBe("17:54");
    expect(new Date(SUNRISE).toISOString().slice(11, 16)).toBe("06:37");
  });

  it("a district's night: each lamp, the deviations and the lamp without data", async () => {
    const res = await stack.api("GET", `/v1/compliance?district=Anfa&night=${NIGHT}`, undefined, "admin");
    expect(res.status).toBe(200);
    const r = res.body;
    expect(r.window).toEqual({
      from: "2026-10-17T12:00:00.000Z",
      to: "2026-10-18T12:00:00.000Z",
      basis: "night",
      night: NIGHT,
    });
    expect(r).toMatchObject({
      scope: { type: "district", id: "Anfa" },
      tolerance_pct: 5,
      grace_s: 180,
      lamps: 5,
    });
    // 144 samples a lamp. The day burner is lit from 06:50 to 11:50 (31 samples; at 06:40 the grace still
    // reaches back before sunrise). The stuck lamp is at 100 % from 23:10 to 04:50 (35 samples; at 23:00 the
    // grace still covers the 100 % before the switch). The overridden lamp's 100 % from 01:00 is expected.
    expect(r.per_lamp).toEqual([
      { device_id: STUCK, samples: 144, compliant: 109, compliance_pct: 75.69, deviations: 1 },
      { device_id: DAY_BURNER, samples: 144, compliant: 113, compliance_pct: 78.47, deviations: 1 },
      ...[EXACT, OVERRIDDEN].sort().map((device_id) => ({
        device_id,
        samples: 144,
        compliant: 144,
        compliance_pct: 100,
        deviations: 0,
      })),
    ]);
    expect(r).toMatchObject({ samples: 576, compliant: 510, compliance_pct: 88.54, deviations_total: 2 });
    expect(r.deviations_by_kind).toEqual({ burning_by_day: 1, dark: 0, wrong_level: 1 });
    expect(r.deviations).toEqual([
      {
        device_id: STUCK,
        kind: "wrong_level",
        from: "2026-10-17T23:10:00.000Z",
        to: "2026-10-18T04:50:00.000Z",
        expected_pct: 40,
        reported_min: 100,
        reported_max: 100,
        samples: 35,
      },
      {
        device_id: DAY_BURNER,
        kind: "burning_by_day",
        from: "2026-10-18T06:50:00.000Z",
        to: "2026-10-18T11:50:00.000Z",
        expected_pct: 0,
        reported_min: 100,
        reported_max: 100,
        samples: 31,
      },
    ]);
    expect(r.no_data).toEqual([SILENT]);
  });

  it("one lamp over part of the night", async () => {
    const q = `device=${STUCK}&from=2026-10-17T22:00:00Z&to=2026-10-18T02:00:00Z`;
    const res = await stack.api("GET", `/v1/compliance?${q}`);
    expect(res.status).toBe(200);
    // 22:00 … 01:50 = 24 samples; 23:10 … 01:50 = 17 of them at 100 % instead of 40 %.
    expect(res.body).toMatchObject({
      window: { basis: "range", night: null },
      lamps: 1,
      samples: 24,
      compliant: 7,
      compliance_pct: 29.17,
      no_data: [],
    });
    expect(res.body.deviations).toMatchObject([
      { from: "2026-10-17T23:10:00.000Z", to: "2026-10-18T01:50:00.000Z", samples: 17 },
    ]);
  });

  it("a tolerance wide enough forgives the stuck lamp but not the day burner", async () => {
    const res = await stack.api("GET", `/v1/compliance?district=Anfa&night=${NIGHT}&tolerance_pct=60`);
    expect(res.status).toBe(200);
    expect(res.body.per_lamp.find((l: { device_id: string }) => l.device_id === STUCK)).toMatchObject({
      compliance_pct: 100,
    });
    expect(res.body.deviations.map((d: { kind: string }) => d.kind)).toEqual(["burning_by_day"]);
  });

  it("the default window is the last complete night (no data of ours there)", async () => {
    const res = await stack.api("GET", `/v1/compliance?device=${EXACT}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      window: { basis: "last_night" },
      samples: 0,
      compliance_pct: null,
      no_data: [EXACT],
    });
  });

  it("bad requests name the field; unknown targets are 404; the role must have schedules:read", async () => {
    const field = async (q: string) => {
      const res = await stack.api("GET", `/v1/compliance?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error).toBe("validation_failed");
      return res.body.issues.map((i: { field: string }) => i.field);
    };
    expect(await field("")).toEqual(["query"]);
    expect(await field("district=Anfa&group=main")).toEqual(["query.group", "query.district"]);
    expect(await field(`device=${EXACT}&from=2026-10-17`)).toEqual(["query.to"]);
    expect(await field(`device=${EXACT}&from=2026-09-01&to=2026-10-17`)).toEqual(["query.to"]);
    expect(await field(`device=${EXACT}&tolerance_pct=150`)).toEqual(["query.tolerance_pct"]);
    expect(await field("district=Atlantis")).toEqual(["query.district"]);
    expect(await field(`device=${SENSOR}`)).toEqual(["query.device"]);
    expect((await stack.api("GET", "/v1/compliance?device=sl-nobody")).status).toBe(404);
    expect((await stack.api("GET", "/v1/compliance?group=no-such-group")).status).toBe(404);
    const denied = await stack.api("GET", `/v1/compliance?device=${EXACT}`, undefined, "svc-ingest");
    expect(denied.status).toBe(403);
  });
});

describe("reading the samples", () => {
  const lamps = Object.keys(LEVELS);
  const window = [at("12:00"), at("12:00") + 86_400_000] as const;

  it("pages a lamp on from its last sample when a statement's share of rows runs out", async () => {
    const whole = await influxSampleReader(stack.influx).forLamps(lamps, ...window);
    // 50 rows a statement for 4 lamps: 13 a lamp at first, so every lamp takes several pages.
    const paged = await influxSampleReader(stack.influx, 50).forLamps(lamps, ...window);
    for (const deviceId of lamps) {
      expect(whole.get(deviceId)?.map((x) => x.ts)).toEqual(GRID);
      expect(paged.get(deviceId), deviceId).toEqual(whole.get(deviceId));
    }
    expect(whole.get(STUCK)?.[70]).toEqual({ ts: GRID[70], dimPct: 100, powerW: 90 });
  });

  it("a lamp without readings is absent; a database not written yet reads as no samples", async () => {
    const got = await influxSampleReader(stack.influx).forLamps([SILENT, EXACT], ...window);
    expect([...got.keys()]).toEqual([EXACT]);
    const fresh = await connectInflux(
      { ...server, bucket: `t_never_${id}`, timeoutMs: 10_000 },
      silentLogger(),
    );
    try {
      expect((await influxSampleReader(fresh).forLamps([EXACT], ...window)).size).toBe(0);
    } finally {
      await fresh.close();
    }
  });
});
