// The compliance check's assembly (services/command/schedules/compliance*.ts) over an in-memory registry written
// through the schedule stores (documents, rollouts, overrides, groups) and samples from a fake reader: which lamps a
// scope covers, which calendar and overrides the history says were in force, and the totals. The level arithmetic
// itself is services/schedule/ (tests/unit/schedule/); the InfluxDB reads are in the integration test.
import type { DatabaseSync } from "node:sqlite";
import { beforeEach, describe, expect, it } from "vitest";
import { chunkLamps, createComplianceCheck } from "../../services/command/schedules/compliance.ts";
import { historyReader } from "../../services/command/schedules/compliance-history.ts";
import type { SampleReader } from "../../services/command/schedules/compliance-samples.ts";
import { type Lamp, scopeReader } from "../../services/command/schedules/compliance-scope.ts";
import { CITY } from "../../services/contract/city.ts";
import type { SwitchPointInput } from "../../services/contract/schedule.ts";
import type { InfluxClient } from "../../services/lib/influx/index.ts";
import { storeDocument } from "../../services/registry/schedules/documents.ts";
import { createGroupStore } from "../../services/registry/schedules/groups.ts";
import { createOverrideStore } from "../../services/registry/schedules/overrides.ts";
import { createRolloutStore } from "../../services/registry/schedules/rollouts.ts";
import { openRegistryDb } from "../../services/registry/store.ts";
import type { Sample } from "../../services/schedule/compliance.ts";
import { nightBounds } from "../../services/schedule/zone.ts";

// Night 2026-10-17 in Casablanca (UTC+0 since 2026-09-20: local = UTC). At Anfa sunset is near 18:00 and
// sunrise near 06:50: 21:30 … 04:30 are night, 08:00 is day.
const NIGHT = "2026-10-17";
const { startMs: fromMs, endMs: toMs } = nightBounds(NIGHT);
const WINDOW = { fromMs, toMs };
const T = (hhmm: string, day = hhmm < "12:00" ? "2026-10-18" : "2026-10-17") =>
  Date.parse(`${day}T${hhmm}:00Z`);
const iso = (ms: number) => new Date(ms).toISOString();

let db: DatabaseSync;

function device(id: string, district: string, kind = "streetlight", status = "registered") {
  db.prepare(
    `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, status, created_at, updated_at)
     VALUES (?, ?, ?, 33.59, -7.65, '2025-03-01', 600, ?, '2025-03-01T00:00:00Z', '2025-03-01T00:00:00Z')`,
  ).run(id, kind, district, status);
}

/** A calendar document with one program, sent to `lamps` by a rollout created at `at`. */
function sendCalendar(id: string, points: SwitchPointInput[], lamps: string[], at: number) {
  const doc = storeDocument(
    db,
    {
      calendar: { id, name: id, revision: 1 },
      time_zone: CITY.timeZone,
      rules: [],
      default_program: id,
      programs: { [id]: { name: id, switch_points: points.map((p) => ({ ramp_s: 0, ...p })) } },
    },
    new Date(at),
  );
  createRolloutStore(db).create({
    kind: "calendar",
    version: doc.version,
    overrideId: null,
    cause: "assign",
    target: null,
    createdBy: "test",
    createdAt: iso(at),
    deviceIds: lamps,
  });
  return doc.version;
}

/** An override for `lamps`; `expiredFor` lamps' deliveries end `expired` (the platform gave up on them). */
function sendOverride(
  id: string,
  o: { level: number; created: number; starts: number; expires: number },
  lamps: string[],
  expiredFor: string[] = [],
) {
  createOverrideStore(db).insert({
    id,
    target_type: "devices",
    target_id: JSON.stringify(lamps),
    level_pct: o.level,
    ramp_s: 0,
    starts_at: iso(o.starts),
    expires_at: iso(o.expires),
    reason: "test",
    created_at: iso(o.created),
    created_by: "test",
  });
  const rollouts = createRolloutStore(db);
  const { id: rolloutId } = rollouts.create({
    kind: "override",
    version: null,
    overrideId: id,
    cause: "override",
    target: { type: "devices", id: JSON.stringify(lamps) },
    createdBy: "test",
    createdAt: iso(o.created),
    deviceIds: lamps,
  });
  rollouts.apply(
    expiredFor.map((deviceId) => ({
      type: "final",
      rolloutId,
      deviceId,
      state: "expired",
      at: iso(o.starts),
    })),
  );
}

const MIDNIGHT_DIM: SwitchPointInput[] = [
  { at: "sunset", level_pct: 100 },
  { at: "23:00", level_pct: 40 },
  { at: "05:00", level_pct: 100 },
  { at: "sunrise", level_pct: 0 },
];
const LATE_DIM: SwitchPointInput[] = [
  { at: "sunset", level_pct: 100 },
  { at: "01:00", level_pct: 20 },
  { at: "sunrise", level_pct: 0 },
];

const s = (hhmm: string, dimPct: number): Sample => ({ ts: T(hhmm), dimPct, powerW: (90 * dimPct) / 100 });

/** Samples by lamp, recording which lamps each read asked for. */
function fakeSamples(byLamp: Record<string, Sample[]>): SampleReader & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async forLamps(ids, fromMs, toMs) {
      calls.push([...ids]);
      const out = new Map<string, Sample[]>();
      for (const id of ids) {
        const got = (byLamp[id] ?? []).filter((x) => x.ts >= fromMs && x.ts < toMs);
        if (got.length > 0) out.set(id, got);
      }
      return out;
    },
  };
}

const unusedInflux = {} as InfluxClient;
const config = { tolerancePct: 5, graceS: 180, standbyW: 2 };

beforeEach(() => {
  db = openRegistryDb(":memory:");
  for (const id of ["sl-a", "sl-b"]) device(id, "Anfa");
  device("sl-c", "Maarif");
  device("aq-1", "Anfa", "airquality");
  device("sl-x", "Anfa", "streetlight", "decommissioned");
  const group = createGroupStore(db, () => new Date(T("12:00", "2026-10-01"))).create(
    "main-street",
    { name: "Main street" },
    ["sl-a", "sl-c"],
    "test",
  );
  expect(group.ok).toBe(true);
  // Older calendars, then MIDNIGHT_DIM a week before the night, then LATE_DIM to sl-a in the middle of it.
  sendCalendar("old-1", LATE_DIM, ["sl-a", "sl-b"], T("09:00", "2026-09-01"));
  sendCalendar("old-2", LATE_DIM, ["sl-a", "sl-b"], T("09:00", "2026-10-01"));
  sendCalendar("midnight-dim", MIDNIGHT_DIM, ["sl-a", "sl-b"], T("09:00", "2026-10-10"));
  sendCalendar("late-dim", LATE_DIM, ["sl-a"], T("00:30"));
  // sl-c has no calendar (factory: 100 % at dusk, 50 % 00:00–05:00). o2 was replaced by o1 before it started;
  // o1 holds 80 % 02:00–03:00; o3 (0 % 04:00–05:00) expired before sl-c acknowledged it.
  sendOverride(
    "o2",
    { level: 10, created: T("12:00", "2026-10-15"), starts: T("21:00"), expires: T("06:00") },
    ["sl-c"],
  );
  sendOverride("o1", { level: 80, created: T("20:00"), starts: T("02:00"), expires: T("03:00") }, ["sl-c"]);
  sendOverride(
    "o3",
    { level: 0, created: T("21:00"), starts: T("04:00"), expires: T("05:00") },
    ["sl-c"],
    ["sl-c"],
  );
  sendOverride(
    "o-old",
    {
      level: 0,
      created: T("12:00", "2026-09-01"),
      starts: T("20:00", "2026-09-01"),
      expires: T("06:00", "2026-09-02"),
    },
    ["sl-c"],
  );
});

describe("scope", () => {
  it("a device, a group's streetlights, a district's live streetlights", () => {
    const scopes = scopeReader(db);
    const ids = (r: ReturnType<typeof scopes.lamps>) => (r.ok ? r.lamps.map((l) => l.id) : r);
    expect(ids(scopes.lamps({ type: "device", id: "sl-x" }))).toEqual(["sl-x"]);
    expect(ids(scopes.lamps({ type: "group", id: "main-street" }))).toEqual(["sl-a", "sl-c"]);
    expect(ids(scopes.lamps({ type: "district", id: "Anfa" }))).toEqual(["sl-a", "sl-b"]);
    expect(ids(scopes.lamps({ type: "district", id: "Ain Chock" }))).toEqual([]);
  });

  it("refusals as values", () => {
    const scopes = scopeReader(db);
    expect(scopes.lamps({ type: "device", id: "nope" })).toEqual({
      ok: false,
      reason: "not_found",
      what: "device",
      id: "nope",
    });
    expect(scopes.lamps({ type: "device", id: "aq-1" })).toEqual({
      ok: false,
      reason: "not_streetlight",
      id: "aq-1",
      kind: "airquality",
    });
    expect(scopes.lamps({ type: "group", id: "nope" })).toMatchObject({
      ok: false,
      reason: "not_found",
      what: "group",
    });
    expect(scopes.lamps({ type: "district", id: "Atlantis" })).toEqual({
      ok: false,
      reason: "unknown_district",
      id: "Atlantis",
    });
  });
});

describe("history", () => {
  it("the calendar in force at the window's start and those sent during it", () => {
    const h = historyReader(db).forLamps(["sl-a", "sl-b", "sl-c"], WINDOW.fromMs, WINDOW.toMs);
    expect(h.get("sl-a")?.calendars.map((c) => [c.doc.calendar.id, iso(c.fromMs)])).toEqual([
      ["midnight-dim", "2026-10-10T09:00:00.000Z"],
      ["late-dim", "2026-10-18T00:30:00.000Z"],
    ]);
    expect(h.get("sl-b")?.calendars.map((c) => c.doc.calendar.id)).toEqual(["midnight-dim"]);
    expect(h.get("sl-c")?.calendars).toEqual([]);
  });

  it("overrides live in the window and the newer ones that cut them; not those the platform gave up on", () => {
    const h = historyReader(db).forLamps(["sl-a", "sl-c"], WINDOW.fromMs, WINDOW.toMs);
    expect(h.get("sl-c")?.overrides.map((o) => o.id)).toEqual(["o2", "o1"]);
    expect(h.get("sl-c")?.overrides[1]).toEqual({
      id: "o1",
      createdMs: T("20:00"),
      startsMs: T("02:00"),
      expiresMs: T("03:00"),
      cancelledMs: null,
      levelPct: 80,
      rampMs: 0,
    });
    expect(h.get("sl-a")?.overrides).toEqual([]);
  });

  it("a calendar sent after the window does not count", () => {
    sendCalendar("later", LATE_DIM, ["sl-b"], T("12:00", "2026-10-20"));
    const h = historyReader(db).forLamps(["sl-b"], WINDOW.fromMs, WINDOW.toMs);
    expect(h.get("sl-b")?.calendars.map((c) => c.doc.calendar.id)).toEqual(["midnight-dim"]);
  });
});

describe("the check", () => {
  const samples = () =>
    fakeSamples({
      // Follows MIDNIGHT_DIM, then misses LATE_DIM's 100 % at 00:40 (sent 00:30), then follows it at 01:30.
      "sl-a": [s("22:00", 100), s("23:30", 40), s("00:40", 40), s("01:30", 20)],
      // Factory calendar, o1 at 02:30, o3 not expected at 04:30; burning by day at 08:00.
      "sl-c": [
        s("21:30", 100),
        s("23:30", 100),
        s("00:30", 50),
        s("02:30", 80),
        s("04:30", 50),
        s("08:00", 100),
      ],
    });
  const run = (scope: { type: "device" | "group" | "district"; id: string }, reader = samples()) =>
    createComplianceCheck({ db, influx: unusedInflux, config, samples: reader }).run({
      scope,
      window: { ...WINDOW, basis: "night", night: NIGHT },
    });

  it("a group: per lamp, overall, deviations worst first", async () => {
    const r = await run({ type: "group", id: "main-street" });
    if (!r.ok) throw new Error(r.reason);
    expect(r.report).toMatchObject({
      scope: { type: "group", id: "main-street" },
      window: {
        from: "2026-10-17T12:00:00.000Z",
        to: "2026-10-18T12:00:00.000Z",
        basis: "night",
        night: NIGHT,
      },
      tolerance_pct: 5,
      grace_s: 180,
      standby_w: 2,
      lamps: 2,
      samples: 10,
      compliant: 8,
      compliance_pct: 80,
      deviations_by_kind: { burning_by_day: 1, dark: 0, wrong_level: 1 },
      deviations_total: 2,
      no_data: [],
    });
    expect(r.report.per_lamp).toEqual([
      { device_id: "sl-a", samples: 4, compliant: 3, compliance_pct: 75, deviations: 1 },
      { device_id: "sl-c", samples: 6, compliant: 5, compliance_pct: 83.33, deviations: 1 },
    ]);
    // One sample each: the one further from its schedule (100 points against 60) first.
    expect(r.report.deviations).toEqual([
      {
        device_id: "sl-c",
        kind: "burning_by_day",
        from: "2026-10-18T08:00:00.000Z",
        to: "2026-10-18T08:00:00.000Z",
        expected_pct: 0,
        reported_min: 100,
        reported_max: 100,
        samples: 1,
      },
      {
        device_id: "sl-a",
        kind: "wrong_level",
        from: "2026-10-18T00:40:00.000Z",
        to: "2026-10-18T00:40:00.000Z",
        expected_pct: 100,
        reported_min: 40,
        reported_max: 40,
        samples: 1,
      },
    ]);
  });

  it("a district: lamps without samples are no_data, not counted", async () => {
    const r = await run({ type: "district", id: "Anfa" });
    if (!r.ok) throw new Error(r.reason);
    expect(r.report).toMatchObject({
      lamps: 2,
      samples: 4,
      compliant: 3,
      compliance_pct: 75,
      no_data: ["sl-b"],
    });
    expect(r.report.per_lamp.map((l) => l.device_id)).toEqual(["sl-a"]);
  });

  it("no samples at all: compliance_pct is null", async () => {
    const r = await run({ type: "device", id: "sl-b" });
    expect(r).toMatchObject({
      ok: true,
      report: { lamps: 1, samples: 0, compliance_pct: null, no_data: ["sl-b"] },
    });
  });

  it("a scope refusal comes back as a value", async () => {
    expect(await run({ type: "group", id: "nope" })).toMatchObject({ ok: false, reason: "not_found" });
  });

  it("a wider tolerance for one request", async () => {
    const r = await createComplianceCheck({ db, influx: unusedInflux, config, samples: samples() }).run({
      scope: { type: "device", id: "sl-a" },
      window: { ...WINDOW, basis: "night", night: NIGHT },
      tolerancePct: 60,
    });
    expect(r).toMatchObject({ ok: true, report: { tolerance_pct: 60, compliant: 4, compliance_pct: 100 } });
  });
});

describe("commissioning's commands", () => {
  /** A commissioning run of sl-b whose identify and test dim (30 % for 210 s) were sent at the given times. */
  function commissioned(identifyAt: number, dimAt: number) {
    db.prepare(
      `INSERT INTO commissioning_runs (id, device_id, generation, status, started_at, started_by)
       VALUES ('run-1', 'sl-b', 1, 'passed', ?, 'test')`,
    ).run(iso(identifyAt - 60_000));
    const check = db.prepare(
      `INSERT INTO commissioning_checks (run_id, name, position, status, started_at, finished_at, data)
       VALUES ('run-1', ?, ?, 'passed', ?, ?, ?)`,
    );
    check.run(
      "identify",
      5,
      iso(identifyAt),
      iso(identifyAt + 1000),
      JSON.stringify({ issued_at: iso(identifyAt), duration_s: 10 }),
    );
    check.run(
      "test_dim",
      6,
      iso(dimAt),
      iso(dimAt + 60_000),
      JSON.stringify({ issued_at: iso(dimAt), duration_s: 210, level_pct: 30, dim_pct: 30 }),
    );
  }

  it("a test dim is an override of the schedule, an identify blink is not judged", async () => {
    // MIDNIGHT_DIM: 21:30 is at 100 %. The blink at 21:30 shows 0 %; the test dim at 22:00 shows 30 %.
    commissioned(T("21:30"), T("22:00"));
    const blinkAndDim = [s("21:30", 0), s("22:01", 30), s("22:03", 30), s("22:30", 100)];
    const r = await createComplianceCheck({
      db,
      influx: unusedInflux,
      config,
      samples: fakeSamples({ "sl-b": blinkAndDim }),
    }).run({ scope: { type: "device", id: "sl-b" }, window: { ...WINDOW, basis: "night", night: NIGHT } });
    // The blink's sample is left out; the two at 30 % follow the test dim; 22:30 is back on the program.
    expect(r).toMatchObject({ ok: true, report: { samples: 3, compliant: 3, compliance_pct: 100 } });
  });

  it("without the commissioning record the same samples deviate (the test can fail)", async () => {
    const r = await createComplianceCheck({
      db,
      influx: unusedInflux,
      config,
      samples: fakeSamples({ "sl-b": [s("21:30", 0), s("22:01", 30), s("22:03", 30), s("22:30", 100)] }),
    }).run({ scope: { type: "device", id: "sl-b" }, window: { ...WINDOW, basis: "night", night: NIGHT } });
    expect(r).toMatchObject({ ok: true, report: { samples: 4, compliant: 1 } });
  });
});

describe("chunks", () => {
  const lamp = (id: string, reportIntervalS: number): Lamp => ({
    id,
    site: { lat: 33.59, lon: -7.65 },
    reportIntervalS,
  });

  it("keep each query's expected rows within the budget", () => {
    // A day at 60 s = 1440 rows a lamp: three lamps per 5000-row chunk.
    const lamps = ["a", "b", "c", "d", "e", "f", "g"].map((id) => lamp(id, 60));
    expect(chunkLamps(lamps, 86_400_000, 5000).map((c) => c.map((l) => l.id))).toEqual([
      ["a", "b", "c"],
      ["d", "e", "f"],
      ["g"],
    ]);
  });

  it("a lamp larger than the budget gets a chunk of its own; at most 200 lamps a chunk", () => {
    expect(chunkLamps([lamp("a", 1), lamp("b", 1)], 86_400_000, 5000).map((c) => c.length)).toEqual([1, 1]);
    const many = Array.from({ length: 450 }, (_, i) => lamp(`l${i}`, 3600));
    expect(chunkLamps(many, 86_400_000).map((c) => c.length)).toEqual([200, 200, 50]);
  });

  it("the check reads every lamp once, chunk by chunk", async () => {
    for (let i = 0; i < 250; i++) device(`sl-m${String(i).padStart(3, "0")}`, "Maarif");
    const reader = fakeSamples({});
    const r = await createComplianceCheck({ db, influx: unusedInflux, config, samples: reader }).run({
      scope: { type: "district", id: "Maarif" },
      window: { ...WINDOW, basis: "night", night: NIGHT },
    });
    expect(reader.calls.map((c) => c.length)).toEqual([200, 51]);
    expect(new Set(reader.calls.flat()).size).toBe(251);
    expect(r).toMatchObject({ ok: true, report: { lamps: 251, samples: 0 } });
    if (r.ok) expect(r.report.no_data).toHaveLength(251);
  });
});
