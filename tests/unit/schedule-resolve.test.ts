// Which calendar each lamp gets (registry/schedules/resolve.ts) and the documents built from it (documents.ts), over
// a real SQLite registry in memory: precedence device > group > district > factory, the most recently assigned of
// several groups, what is shadowed, which lamps count, and the speed of one resolution of 10,000 lamps.
import type { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { calendarDocument, FACTORY_CALENDAR, type SwitchPoint } from "../../services/contract/schedule.ts";
import { createRegistry, type Registry } from "../../services/registry/registry.ts";
import { createAssignmentStore } from "../../services/registry/schedules/assignments.ts";
import { createCalendarStore } from "../../services/registry/schedules/calendars.ts";
import {
  buildDocumentBody,
  contentHash,
  getStoredDocument,
  storeDocument,
} from "../../services/registry/schedules/documents.ts";
import { createGroupStore } from "../../services/registry/schedules/groups.ts";
import { createProgramStore } from "../../services/registry/schedules/programs.ts";
import { devicesUsingCalendars, resolveCalendars } from "../../services/registry/schedules/resolve.ts";
import { openRegistryDb } from "../../services/registry/store.ts";

let registry: Registry;
let db: DatabaseSync;
let clock = Date.parse("2026-03-01T10:00:00Z");
const now = () => new Date(clock);
const tick = (ms = 1000) => {
  clock += ms;
};

const lamp = (id: string, over: Partial<DeviceRegistration> = {}): DeviceRegistration => ({
  id,
  kind: "streetlight",
  district: "Anfa",
  lat: 33.59,
  lon: -7.65,
  installed_at: "2025-03-01",
  report_interval_s: 60,
  ...over,
});

function register(devices: DeviceRegistration[]) {
  const made = registry.lifecycle.register(
    devices.map((d) => ({ device: { report_interval_s: 60, ...d }, secretHash: "scrypt$test" })),
    "create",
    "test",
  );
  if (!made.ok) throw new Error(JSON.stringify(made));
}

const points: SwitchPoint[] = [
  { at: "sunset", offset_min: 10, level_pct: 100, ramp_s: 0 },
  { at: "00:00", level_pct: 50, ramp_s: 300 },
  { at: "sunrise", offset_min: -15, level_pct: 0, ramp_s: 0 },
];

function setup() {
  const programs = createProgramStore(db, now);
  const calendars = createCalendarStore(db, now);
  for (const id of ["full", "dim"]) programs.create(id, { name: id, switch_points: points }, "test");
  for (const id of ["cal-district", "cal-group-a", "cal-group-b", "cal-device"])
    calendars.create(id, { name: id, rules: [], default_program: "full" }, "test");
  return {
    programs,
    calendars,
    groups: createGroupStore(db, now),
    assignments: createAssignmentStore(db, now),
  };
}

beforeEach(() => {
  db = openRegistryDb(":memory:");
  registry = createRegistry(db, { now });
});
afterEach(() => registry.close());

describe("resolveCalendars", () => {
  it("takes the most specific assignment and names the ones it shadows", () => {
    const s = setup();
    register([lamp("sl-1"), lamp("sl-2"), lamp("sl-3"), lamp("sl-4", { district: "Maarif" })]);
    s.groups.create("street", { name: "Street" }, ["sl-2", "sl-3"], "test");
    s.assignments.put({ type: "district", id: "Anfa" }, "cal-district", "alice");
    tick();
    s.assignments.put({ type: "group", id: "street" }, "cal-group-a", "bob");
    tick();
    s.assignments.put({ type: "device", id: "sl-3" }, "cal-device", "carol");

    const r = resolveCalendars(db);
    expect([...r.keys()].sort()).toEqual(["sl-1", "sl-2", "sl-3", "sl-4"]);
    expect(r.get("sl-1")).toEqual({
      calendar_id: "cal-district",
      level: "district",
      target_id: "Anfa",
      assigned_at: "2026-03-01T10:00:00.000Z",
      assigned_by: "alice",
      shadowed: [],
    });
    expect(r.get("sl-2")).toMatchObject({
      calendar_id: "cal-group-a",
      level: "group",
      target_id: "street",
      assigned_by: "bob",
      shadowed: [{ level: "district", target_id: "Anfa", calendar_id: "cal-district" }],
    });
    expect(r.get("sl-3")).toMatchObject({
      calendar_id: "cal-device",
      level: "device",
      shadowed: [
        { level: "group", target_id: "street", calendar_id: "cal-group-a" },
        { level: "district", target_id: "Anfa", calendar_id: "cal-district" },
      ],
    });
    expect(r.get("sl-4")).toEqual({
      calendar_id: null,
      level: "factory",
      target_id: null,
      assigned_at: null,
      assigned_by: null,
      shadowed: [],
    });
  });

  it("gives a lamp in two assigned groups the most recently assigned one, also within one millisecond", () => {
    const s = setup();
    register([lamp("sl-1")]);
    s.groups.create("a", { name: "A" }, ["sl-1"], "test");
    s.groups.create("b", { name: "B" }, ["sl-1"], "test");
    s.assignments.put({ type: "group", id: "a" }, "cal-group-a", "test");
    tick();
    s.assignments.put({ type: "group", id: "b" }, "cal-group-b", "test");
    expect(resolveCalendars(db).get("sl-1")).toMatchObject({
      calendar_id: "cal-group-b",
      target_id: "b",
      shadowed: [{ level: "group", target_id: "a", calendar_id: "cal-group-a" }],
    });
    // Re-assigning group a in the same millisecond as b: the later write wins (a re-assignment is a new row).
    s.assignments.put({ type: "group", id: "a" }, "cal-group-a", "test");
    expect(resolveCalendars(db).get("sl-1")).toMatchObject({ calendar_id: "cal-group-a", target_id: "a" });
  });

  it("resolves only live streetlights, and only those asked about", () => {
    const s = setup();
    register([
      lamp("sl-1"),
      lamp("sl-2"),
      lamp("sl-gone"),
      lamp("aq-1", { kind: "airquality", led_watts: undefined }),
    ]);
    const gone = registry.lifecycle.decommission("sl-gone", "test", "test");
    expect(gone.ok).toBe(true);
    s.assignments.put({ type: "district", id: "Anfa" }, "cal-district", "test");
    expect([...resolveCalendars(db).keys()].sort()).toEqual(["sl-1", "sl-2"]);
    const some = resolveCalendars(db, ["sl-2", "aq-1", "sl-gone", "nope"]);
    expect([...some.keys()]).toEqual(["sl-2"]);
    expect(some.get("sl-2")?.calendar_id).toBe("cal-district");
    expect(resolveCalendars(db, []).size).toBe(0);
  });

  it("lists the lamps whose resolved calendar is one of those given", () => {
    const s = setup();
    register([lamp("sl-1"), lamp("sl-2"), lamp("sl-3"), lamp("sl-4", { district: "Maarif" })]);
    s.groups.create("street", { name: "Street" }, ["sl-2"], "test");
    s.assignments.put({ type: "district", id: "Anfa" }, "cal-district", "test");
    s.assignments.put({ type: "group", id: "street" }, "cal-group-a", "test");
    s.assignments.put({ type: "device", id: "sl-3" }, "cal-device", "test");
    expect(devicesUsingCalendars(db, ["cal-district"])).toEqual(["sl-1"]);
    expect(devicesUsingCalendars(db, ["cal-group-a", "cal-device"])).toEqual(["sl-2", "sl-3"]);
    expect(devicesUsingCalendars(db, ["cal-group-b"])).toEqual([]);
    expect(devicesUsingCalendars(db, [])).toEqual([]);
  });

  it("resolves 10,000 lamps in well under 100 ms", () => {
    const s = setup();
    const fleet = Array.from({ length: 10_000 }, (_, i) =>
      lamp(`sl-${String(i).padStart(5, "0")}`, { district: i % 2 === 0 ? "Anfa" : "Maarif" }),
    );
    register(fleet);
    s.groups.create(
      "half",
      { name: "Half" },
      fleet.slice(0, 5000).map((d) => d.id),
      "test",
    );
    s.assignments.put({ type: "district", id: "Anfa" }, "cal-district", "test");
    s.assignments.put({ type: "district", id: "Maarif" }, "cal-device", "test");
    s.assignments.put({ type: "group", id: "half" }, "cal-group-a", "test");
    // CPU time of this process (user + system), the median of 5 after a warm-up: on a machine shared with other
    // test runs, wall time measures the neighbours as much as the code.
    const timed = (fn: () => unknown) => {
      fn(); // warm: the first call prepares the statements and compiles the loop
      const runs = Array.from({ length: 5 }, () => {
        const before = process.cpuUsage();
        fn();
        const used = process.cpuUsage(before);
        return (used.user + used.system) / 1000;
      }).sort((a, b) => a - b);
      return runs[2] as number;
    };
    const all = resolveCalendars(db);
    expect(all.size).toBe(10_000);
    expect(all.get("sl-00000")).toMatchObject({
      calendar_id: "cal-group-a",
      shadowed: [{ level: "district" }],
    });
    expect(all.get("sl-09999")).toMatchObject({ calendar_id: "cal-device", level: "district" });
    const ids = fleet.map((d) => d.id);
    const ms = {
      all: timed(() => resolveCalendars(db)),
      listed: timed(() => resolveCalendars(db, ids)),
      using: timed(() => devicesUsingCalendars(db, ["cal-group-a"])),
    };
    expect(devicesUsingCalendars(db, ["cal-group-a"])).toHaveLength(5000);
    console.info(`resolve 10,000 lamps, CPU ms (median of 5): ${JSON.stringify(ms)} ms`);
    for (const [what, t] of Object.entries(ms)) expect(t, what).toBeLessThan(100);
  });
});

describe("calendar documents", () => {
  it("carries the calendar and exactly the programs it names, checked against the wire schema", () => {
    const s = setup();
    s.calendars.update(
      "cal-device",
      {
        name: "Match nights",
        rules: [{ name: "match", program: "dim", dates: ["2026-03-07"] }],
        default_program: "full",
      },
      "test",
    );
    s.programs.create("unused", { name: "unused", switch_points: points }, "test");
    const body = buildDocumentBody(db, "cal-device");
    expect(body).toEqual({
      calendar: { id: "cal-device", name: "Match nights", revision: 2 },
      time_zone: "Africa/Casablanca",
      rules: [{ name: "match", program: "dim", dates: ["2026-03-07"] }],
      default_program: "full",
      programs: {
        full: { name: "full", switch_points: points },
        dim: { name: "dim", switch_points: points },
      },
    });
    const doc = storeDocument(db, body, now());
    expect(calendarDocument.parse(doc)).toEqual(doc);
    expect(doc.issued_at).toBe(now().toISOString());
    expect(getStoredDocument(db, doc.version)).toEqual({
      document: doc,
      calendar_id: "cal-device",
      content_hash: contentHash(body),
      created_at: now().toISOString(),
    });
  });

  it("hashes content only: same content, same hash whatever the key order; every store a new version", () => {
    setup();
    const body = buildDocumentBody(db, "cal-district");
    // The same content built with its keys in reverse order, at every level.
    const reverse = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverse)
        : v !== null && typeof v === "object"
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverse(x)]),
            )
          : v;
    const reordered = reverse(body) as typeof body;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(body));
    expect(contentHash(reordered)).toBe(contentHash(body));
    const first = storeDocument(db, body, now());
    tick();
    const second = storeDocument(db, body, now());
    expect(second.version).toBeGreaterThan(first.version);
    expect(contentHash(second)).toBe(contentHash(first));
    const edited = { ...body, default_program: "dim" };
    expect(contentHash(edited)).not.toBe(contentHash(body));
  });

  it("answers the factory default's content for a lamp without a calendar", () => {
    const body = buildDocumentBody(db, null);
    const { version: _v, issued_at: _i, ...factory } = FACTORY_CALENDAR;
    expect(body).toEqual(factory);
    const doc = storeDocument(db, body, now());
    expect(getStoredDocument(db, doc.version)?.calendar_id).toBe("factory-default");
    expect(() => buildDocumentBody(db, "no-such-calendar")).toThrow(/does not exist/);
  });
});
