// The energy rollups' decisions (services/command/energy/): marks from activity digests and when a lamp is due,
// the statement groups of the paged reader, the roller's forward and recompute passes against rollLamp over all
// readings at once (late data, several pages, a pass that fails halfway), the reconcile window and the rebuild's
// checks. The roller runs on the real store (SQLite in memory) with an in-test reader instead of InfluxDB.
import type { DatabaseSync } from "node:sqlite";
import { beforeEach, describe, expect, it } from "vitest";
import type { LampSource, RollLamp } from "../../services/command/energy/lamps.ts";
import { comeRoundAgain, createMarks, mergeMarks } from "../../services/command/energy/marks.ts";
import { planRebuild } from "../../services/command/energy/rebuild.ts";
import { reconcileDays } from "../../services/command/energy/reconcile.ts";
import { createRoller } from "../../services/command/energy/roller.ts";
import { groupStarts, type ReadingsReader } from "../../services/command/influx-readings.ts";
import { type MeterReading, rollLamp } from "../../services/energy/rollup.ts";
import { createEnergyStore, type EnergyStore } from "../../services/registry/energy.ts";
import { openRegistryDb } from "../../services/registry/store.ts";

const T0 = Date.parse("2026-10-17T12:00:00Z"); // Casablanca is on UTC+0 from 2026-09-20: local = UTC here
const MIN = 60_000;

describe("marks", () => {
  it("merge: the widest span of readings, the oldest wait, fresh news resets the attempts", () => {
    expect(
      mergeMarks(
        { since: 10, at: 20, firstTs: 5, lastTs: 7, attempts: 3 },
        { since: 15, at: 30, firstTs: undefined, lastTs: 9, attempts: 0 },
      ),
    ).toEqual({ since: 10, at: 30, firstTs: 5, lastTs: 9, attempts: 0 });
  });

  it("a lamp is due settleMs after its latest announcement, or maxWaitMs after its first", () => {
    const marks = createMarks({ settleMs: 5000, maxWaitMs: 30_000 });
    marks.add("a", { since: 0, at: 0, attempts: 0 });
    marks.add("b", { since: 0, at: 0, attempts: 0 });
    marks.add("b", { since: 4000, at: 4000, attempts: 0 }); // announced again: waits for its latest
    expect([...marks.take(4999).keys()]).toEqual([]);
    expect([...marks.take(5000).keys()]).toEqual(["a"]);
    expect(marks.has("a")).toBe(false);
    // Announced every few seconds (a long backlog arriving): still taken 30 s after the first announcement.
    for (let t = 8000; t <= 30_000; t += 4000) marks.add("b", { since: t, at: t, attempts: 0 });
    expect(marks.take(29_999).size).toBe(0);
    expect([...marks.take(30_000).keys()]).toEqual(["b"]);
    expect(marks.size).toBe(0);
  });
});

describe("after a pass: announced readings not in InfluxDB yet come round again", () => {
  // Digests announced 5 readings between device times 100 and 500.
  const mark = { since: 0, at: 0, firstTs: 100, lastTs: 500, accepted: 5, attempts: 0 };

  it("nothing when the cursor reached the newest announced reading and the pass read all five", () => {
    expect(comeRoundAgain(mark, { cursorTs: 500, seen: 5 }, 9, 12)).toBeUndefined();
    expect(comeRoundAgain(mark, { cursorTs: 700, seen: 5 }, 9, 12)).toBeUndefined();
    // A digest without first_ts (an older ingest): only the newest reading can be checked.
    const { firstTs: _f, accepted: _a, ...old } = mark;
    expect(comeRoundAgain(old, { cursorTs: 500, seen: 0 }, 9, 12)).toBeUndefined();
  });

  it("the newest not read yet: marked again for it, one attempt more; given up at the limit", () => {
    expect(comeRoundAgain(mark, { cursorTs: 400, seen: 5 }, 9, 12)).toEqual({
      since: 9,
      at: 9,
      lastTs: 500,
      firstTs: undefined,
      accepted: undefined,
      attempts: 1,
    });
    expect(comeRoundAgain({ ...mark, attempts: 11 }, { cursorTs: undefined, seen: 0 }, 9, 12)).toBe(
      "give_up",
    );
  });

  it("the newest read but fewer than announced (older writes land later): a recompute from the oldest", () => {
    // The cursor passed 500, so the next cycle finds firstTs behind it and recomputes from there.
    expect(comeRoundAgain(mark, { cursorTs: 500, seen: 3 }, 9, 12)).toEqual({
      since: 9,
      at: 9,
      firstTs: 100,
      lastTs: 500,
      accepted: 5,
      attempts: 1,
    });
  });

  it("merging marks sums what was announced", () => {
    const a = { since: 0, at: 1, firstTs: 100, lastTs: 200, accepted: 2, attempts: 0 };
    const b = { since: 5, at: 6, firstTs: 300, lastTs: 500, accepted: 3, attempts: 0 };
    expect(mergeMarks(a, b)).toEqual({
      since: 0,
      at: 6,
      firstTs: 100,
      lastTs: 500,
      accepted: 5,
      attempts: 0,
    });
  });
});

describe("statement groups of the paged reader", () => {
  it("sorted by start, at most max lamps, starts within the slack of the group's first", () => {
    const lamps = [
      { id: "c", fromMs: 3000 },
      { id: "a", fromMs: 1000 },
      { id: "d", fromMs: 9000 },
      { id: "b", fromMs: 1500 },
      { id: "e", fromMs: 9100 },
    ];
    expect(groupStarts(lamps, 10, 2000).map((g) => g.map((l) => l.id))).toEqual([
      ["a", "b", "c"],
      ["d", "e"],
    ]);
    expect(groupStarts(lamps, 2, 1e9).map((g) => g.map((l) => l.id))).toEqual([
      ["a", "b"],
      ["c", "d"],
      ["e"],
    ]);
  });
});

describe("reconcile window", () => {
  it("the complete local days before today, oldest first", () => {
    expect(reconcileDays(Date.parse("2026-11-23T05:00:00Z"), 3)).toEqual([
      "2026-11-20",
      "2026-11-21",
      "2026-11-22",
    ]);
    // 23:30 UTC on 31 March 2026 is already 1 April in Casablanca (UTC+1 then).
    expect(reconcileDays(Date.parse("2026-03-31T23:30:00Z"), 1)).toEqual(["2026-03-31"]);
    expect(reconcileDays(T0, 0)).toEqual([]);
  });
});

// --- the roller ---------------------------------------------------------------------------------------------------

const LAMP: RollLamp = { id: "sl-1", params: { ledW: 90, legacyW: 295, site: { lat: 33.59, lon: -7.65 } } };
const OPTIONS = { gapS: 3600, estimateMaxS: 72 * 3600, standbyW: 1 };
/** Option A stand-in: 45 W whatever the calendar. */
const estimator = () => (from: number, to: number) => (45 * (to - from)) / 3_600_000;

/**
 * Two nights at 20-minute readings with a meter reset, a 2-hour gap the meter bridges and a 5-hour one it
 * does not (a reset inside: estimated), across three local days.
 */
function readingsFixture(): MeterReading[] {
  const out: MeterReading[] = [];
  let e = 5000;
  for (let k = 0; k < 108; k++) {
    const ts = T0 + 6 * 60 * MIN + k * 20 * MIN; // 18:00 on the 17th to 05:40 on the 19th
    if (k >= 10 && k < 16) {
      e += 30; // 2-hour gap: the meter keeps counting, nothing is sent
      continue;
    }
    if (k >= 60 && k < 75) continue; // 5-hour gap, at whose end the meter restarted
    const reset = k === 30 || k === 75;
    e = reset ? 7 : e + 30; // 90 W × 20 min
    out.push({ ts, energyWh: e, powerW: 90, dimPct: k % 7 === 0 ? 0 : 100, reset });
  }
  return out;
}

/** Serves `data` like InfluxDB would, `perPage` rows of a lamp a page; throws at page `failAt` if set. */
function fakeReader(data: MeterReading[], perPage: number, failAt?: number): ReadingsReader<MeterReading> {
  let served = 0;
  return {
    async *pages(lamps, toMs) {
      for (const l of lamps) {
        const rows = data.filter((r) => r.ts >= l.fromMs && r.ts < toMs);
        for (let i = 0; i < rows.length; i += perPage) {
          if (failAt !== undefined && ++served >= failAt) throw new Error("InfluxDB went away");
          yield new Map([[l.id, rows.slice(i, i + perPage)]]);
        }
      }
    },
    async forLamps() {
      throw new Error("not used");
    },
    async lastBefore(ids, before) {
      const r = data.filter((x) => x.ts < before).at(-1);
      return new Map(r ? ids.map((id) => [id, r]) : []);
    },
  };
}

type Row = Record<string, number | string | null>;

let db: DatabaseSync;
let store: EnergyStore;
beforeEach(() => {
  db = openRegistryDb(":memory:");
  store = createEnergyStore(db);
});

const rollerOver = (reader: ReadingsReader<MeterReading>) =>
  createRoller({
    store,
    reader,
    options: OPTIONS,
    estimators: estimator,
    now: () => T0 + 10 * 86_400_000,
    pause: async () => {},
  });

function rows(): Row[] {
  return db
    .prepare(
      `SELECT day, metered_wh, estimated_wh, metered_s, estimated_s, dark_s, lit_s, readings, resets, gaps,
              first_ts, last_ts, legacy_w, led_w FROM energy_daily ORDER BY day`,
    )
    .all() as Row[];
}

/** rollLamp over every reading at once: what the rows must hold however the readings arrived. */
function oneRun(readings: MeterReading[]): Row[] {
  const { days } = rollLamp({
    prev: undefined,
    readings,
    lamp: LAMP.params,
    options: OPTIONS,
    estimator: estimator(),
  });
  return [...days.values()].map((d) => ({
    day: d.day,
    metered_wh: d.meteredWh,
    estimated_wh: d.estimatedWh,
    metered_s: d.meteredS,
    estimated_s: d.estimatedS,
    dark_s: d.darkS,
    lit_s: d.litS,
    readings: d.readings,
    resets: d.resets,
    gaps: d.gaps,
    first_ts: d.firstTs,
    last_ts: d.lastTs,
    legacy_w: 295,
    led_w: 90,
  }));
}

function expectSameRows(got: Row[], want: Row[]): void {
  expect(got.map((r) => r.day)).toEqual(want.map((r) => r.day));
  for (const [i, w] of want.entries())
    for (const [k, v] of Object.entries(w)) {
      const g = (got[i] as Row)[k];
      if (typeof v === "number" && !Number.isInteger(v)) expect(g, `${w.day} ${k}`).toBeCloseTo(v, 6);
      else expect(g, `${w.day} ${k}`).toEqual(v);
    }
}

describe("roller", () => {
  const all = readingsFixture();

  it("the fixture covers three local days, resets and both kinds of gaps", () => {
    const want = oneRun(all);
    expect(want.map((r) => r.day)).toEqual(["2026-10-17", "2026-10-18", "2026-10-19"]);
    expect(want.reduce((n, r) => n + Number(r.resets), 0)).toBe(2);
    expect(want.reduce((n, r) => n + Number(r.gaps), 0)).toBe(2);
    expect(want.some((r) => Number(r.estimated_wh) > 0)).toBe(true);
  });

  it("forward in several passes and pages gives the rows of one run; the cursor is the last reading", async () => {
    for (const cut of [7, 31, 50]) {
      await rollerOver(fakeReader(all.slice(0, cut), 4)).forward([LAMP]);
      expect(store.cursors([LAMP.id]).get(LAMP.id)?.ts).toBe(all[cut - 1]?.ts);
    }
    const outcome = await rollerOver(fakeReader(all, 4)).forward([LAMP]);
    expect(outcome.get(LAMP.id)?.cursorTs).toBe(all.at(-1)?.ts);
    expectSameRows(rows(), oneRun(all));
  });

  it("reads a lamp only up to what its digests announced; the rest waits for its own digest", async () => {
    const span = { fromTs: (all[0] as MeterReading).ts, toTs: (all[19] as MeterReading).ts };
    const outcome = await rollerOver(fakeReader(all, 7)).forward([LAMP], new Map([[LAMP.id, span]]));
    expect(outcome.get(LAMP.id)?.cursorTs).toBe(span.toTs);
    expect(outcome.get(LAMP.id)?.seen).toBe(20);
    expectSameRows(rows(), oneRun(all.slice(0, 20)));
    // The next digest's readings follow the cursor: forward again, no recompute; the end equals one run.
    await rollerOver(fakeReader(all, 7)).forward([LAMP]);
    expectSameRows(rows(), oneRun(all));
  });

  it("a backlog that arrives after live readings: recomputed from the day of the reading before it", async () => {
    // Live readings first; the backlog (00:00 to 02:20 on the 18th) is sent later. Until then 23:40 → 02:40 was one
    // gap whose metered energy was spread over both days: the 17th's row changes too.
    const [before, first] = [all[11] as MeterReading, all[12] as MeterReading];
    expect([new Date(before.ts).toISOString(), new Date(first.ts).toISOString()]).toEqual([
      "2026-10-17T23:40:00.000Z",
      "2026-10-18T00:00:00.000Z",
    ]);
    await rollerOver(
      fakeReader(
        all.filter((_r, i) => i < 12 || i > 19),
        5,
      ),
    ).forward([LAMP]);
    const done = await rollerOver(fakeReader(all, 5)).recompute(
      [{ lamp: LAMP, afterMs: first.ts }],
      new Map([[LAMP.id, { fromTs: first.ts, toTs: (all[19] as MeterReading).ts }]]),
    );
    expect(done.get(LAMP.id)?.fromDay).toBe("2026-10-17");
    // The backlog's 8 readings (00:00 to 02:20), counted once each.
    expect(done.get(LAMP.id)?.seen).toBe(8);
    expectSameRows(rows(), oneRun(all));
  });

  it("a recompute from a later day keeps the rows before it and their part of the interval into it", async () => {
    await rollerOver(fakeReader(all, 6)).forward([LAMP]);
    const before = rows();
    const midnight = Date.parse("2026-10-19T00:00:00Z");
    await rollerOver(fakeReader(all, 6)).recompute([{ lamp: LAMP, afterMs: midnight }]);
    expectSameRows(rows(), before);
  });

  it("a pass that fails halfway keeps rows and cursor in step; the next pass ends where one run does", async () => {
    await expect(rollerOver(fakeReader(all, 5, 4)).forward([LAMP])).rejects.toThrow("InfluxDB went away");
    const cursor = store.cursors([LAMP.id]).get(LAMP.id)?.ts;
    expect(cursor).toBe(all[14]?.ts); // three pages of five were written
    expect(rows().reduce((n, r) => n + Number(r.readings), 0)).toBe(15);
    await rollerOver(fakeReader(all, 5)).forward([LAMP]);
    expectSameRows(rows(), oneRun(all));
  });

  it("a recompute that fails after its first page leaves consistent rows the next forward pass completes", async () => {
    await rollerOver(
      fakeReader(
        all.filter((_, i) => i < 20 || i > 27),
        50,
      ),
    ).forward([LAMP]);
    await expect(
      rollerOver(fakeReader(all, 5, 2)).recompute([{ lamp: LAMP, afterMs: (all[12] as MeterReading).ts }]),
    ).rejects.toThrow("InfluxDB went away");
    await rollerOver(fakeReader(all, 5)).forward([LAMP]);
    expectSameRows(rows(), oneRun(all));
  });

  it("a lamp with no reading from the day on loses its rows from it and its cursor goes back before it", async () => {
    await rollerOver(fakeReader(all, 50)).forward([LAMP]);
    const cut = Date.parse("2026-10-19T00:00:00Z");
    const kept = all.filter((r) => r.ts < cut);
    // InfluxDB lost the last day (restored from a backup): a rebuild from that day.
    await rollerOver(fakeReader(kept, 50)).recompute([{ lamp: LAMP, afterMs: cut }]);
    expect(rows().map((r) => r.day)).toEqual(["2026-10-17", "2026-10-18"]);
    expect(store.cursors([LAMP.id]).get(LAMP.id)?.ts).toBe(kept.at(-1)?.ts);
  });

  it("a lamp whose readings rollLamp refuses is left as it was; the others are rolled up", async () => {
    const bad = { id: "sl-bad", params: { ...LAMP.params, ledW: -1 } };
    const out = await rollerOver(fakeReader(all, 200)).forward([bad, LAMP]);
    expect(out.get(bad.id)?.error?.message).toMatch(/ledW/);
    expect(store.cursors([bad.id, LAMP.id]).has(bad.id)).toBe(false);
    expectSameRows(rows(), oneRun(all));
  });
});

describe("rebuild checks", () => {
  const source: LampSource = {
    kinds: (ids) =>
      new Map(
        ids.flatMap((id) =>
          id.startsWith("sl-") ? [[id, "streetlight"]] : id.startsWith("aq-") ? [[id, "airquality"]] : [],
        ),
      ),
    byIds: (ids) => ({
      lamps: ids.filter((id) => id !== "sl-nowatts").map((id) => ({ ...LAMP, id })),
      withoutWattages: ids.filter((id) => id === "sl-nowatts"),
    }),
    all: (district) => ({
      lamps: district === "Anfa" ? [LAMP] : [LAMP, { ...LAMP, id: "sl-2" }],
      withoutWattages: [],
    }),
  };
  const now = Date.parse("2026-11-23T05:00:00Z");

  it("selects the lamps given, a district's or all; lamps without wattages are left out and named", () => {
    expect(planRebuild({ from: "2026-11-01", lamps: ["sl-1", "sl-nowatts", "sl-1"] }, source, now)).toEqual({
      ok: true,
      from: "2026-11-01",
      lamps: [LAMP],
      withoutWattages: ["sl-nowatts"],
    });
    expect(planRebuild({ from: "2026-11-23", district: "Anfa" }, source, now)).toMatchObject({
      ok: true,
      lamps: [LAMP],
    });
    expect(planRebuild({ from: "2026-11-01" }, source, now)).toMatchObject({ ok: true });
  });

  it("refuses naming the field: a future date, an unknown district, both selections, a sensor; 404 for an unknown lamp", () => {
    const fields = (body: Parameters<typeof planRebuild>[0]) => {
      const r = planRebuild(body, source, now);
      if (r.ok || r.reason !== "invalid") throw new Error(`expected invalid, got ${JSON.stringify(r)}`);
      return r.issues.map((i) => i.field);
    };
    expect(fields({ from: "2026-11-24" })).toEqual(["from"]);
    expect(fields({ from: "2026-11-01", district: "Atlantis" })).toEqual(["district"]);
    expect(fields({ from: "2026-11-01", district: "Anfa", lamps: ["sl-1"] })).toEqual(["lamps"]);
    expect(fields({ from: "2026-11-01", lamps: ["sl-1", "aq-1"] })).toEqual(["lamps.1"]);
    expect(planRebuild({ from: "2026-11-01", lamps: ["sl-1", "nobody"] }, source, now)).toEqual({
      ok: false,
      reason: "not_found",
      id: "nobody",
    });
  });
});
