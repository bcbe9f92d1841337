// Data that arrives late: the roller rolls a lamp's live readings, then its backlog arrives (first_ts ≤ cursor) and
// it recomputes from the local day of the reading before the backlog, with clipFromMs = that day's start and prev =
// the last reading strictly before it. The rows it keeps (earlier days) plus the recomputed ones must equal one
// pass over all the readings. Also: the input rules (order, duplicates, validation) and addDays.
import { describe, expect, it } from "vitest";
import { dayStart } from "../../../services/energy/days.ts";
import { addDays, type DayAccum, type MeterReading, rollLamp } from "../../../services/energy/rollup.ts";
import {
  expectRows,
  FAKE_DARK,
  FAKE_ESTIMATOR,
  LAMP,
  local,
  modelReadings,
  OPTIONS,
  reading,
  row,
} from "./rollup-fixtures.ts";

const roll = (prev: MeterReading | undefined, readings: readonly MeterReading[], clipFromMs?: number) =>
  rollLamp({
    prev,
    readings,
    lamp: LAMP,
    options: OPTIONS,
    estimator: FAKE_ESTIMATOR,
    dark: FAKE_DARK,
    clipFromMs,
  });

describe("rollLamp: data arriving late", () => {
  // The model lamp read every 900 s from 2026-01-09 12:00 to 2026-01-12 12:00 local, without the reading of
  // 2026-01-10 00:00 (lost for good: the interval 23:45 → 00:15 straddles the day the recompute starts from).
  // The lamp was offline from 2026-01-10 22:00 to 2026-01-11 03:00: its live readings came first, the backlog
  // (22:15 … 02:45, 19 readings) after them.
  const all = modelReadings(local("2026-01-09T12:00"), local("2026-01-12T12:00")).filter(
    (r) => r.ts !== local("2026-01-10T00:00"),
  );
  const isBacklog = (r: MeterReading) => r.ts > local("2026-01-10T22:00") && r.ts < local("2026-01-11T03:00");
  const live = all.filter((r) => !isBacklog(r));
  const backlog = all.filter(isBacklog);

  it("recomputing from the day before the backlog gives the rows of one pass over everything", () => {
    expect(backlog).toHaveLength(19);
    const once = roll(undefined, all).days;

    const first = roll(undefined, live);
    // The first pass saw a 5 h gap 22:00 → 03:00 and bridged it with the meter (counted on the 11th).
    expect(first.days.get("2026-01-11")?.gaps).toBe(1);

    // Backlog first_ts 22:15 ≤ cursor: the reading before it is 22:00 on the 10th → recompute from the 10th.
    const from = dayStart("2026-01-10");
    const prev = all.filter((r) => r.ts < from).at(-1) as MeterReading;
    expect(prev.ts).toBe(local("2026-01-09T23:45"));
    const kept = [...first.days.values()].filter((d) => d.day < "2026-01-10");
    const second = roll(
      prev,
      all.filter((r) => r.ts > prev.ts),
      from,
    );
    expect([...second.days.keys()].every((d) => d >= "2026-01-10")).toBe(true);
    const merged = new Map<string, DayAccum>([...kept, ...second.days.values()].map((d) => [d.day, d]));
    expectRows(merged, [...once.values()]);
    expect(second.last).toEqual(all.at(-1));
  });

  it("one pass gives the hand-computed full day of the 10th", () => {
    // 2026-01-10 is covered for 24 h: lit 00:00–07:00 and 18:00–24:00 (13 h × 100 W = 1,300 Wh), standby 11 h
    // (11 Wh) → 1,311 Wh over 86,400 s; dark = lit = 46,800 s; 96 quarter-hour readings less the lost 00:00 = 95.
    // The interval 23:45 → 00:15 (+50 Wh, 1,800 s short) gives the 10th its first 900 s (25 Wh).
    const { days } = roll(undefined, all);
    expectRows(new Map([["2026-01-10", days.get("2026-01-10") as DayAccum]]), [
      row("2026-01-10", {
        meteredWh: 1311,
        meteredS: 86_400,
        darkS: 46_800,
        litS: 46_800,
        readings: 95,
        firstTs: local("2026-01-10T00:15"),
        lastTs: local("2026-01-10T23:45"),
      }),
    ]);
  });

  it("drops everything before clipFromMs, keeping the readings from it on", () => {
    // Clip at 20:30 inside 20:00 → 21:00 (+100 Wh, 3,600 s short): only [20:30, 21:00) = 50 Wh, 1,800 s counts,
    // and only the 21:00 reading.
    const a = reading(local("2026-01-10T20:00"), 1000, 100, 100);
    const b = reading(local("2026-01-10T21:00"), 1100, 100, 100);
    const { days } = roll(a, [b], local("2026-01-10T20:30"));
    expectRows(days, [
      row("2026-01-10", {
        meteredWh: 50,
        meteredS: 1800,
        darkS: 1800,
        litS: 1800,
        readings: 1,
        firstTs: b.ts,
        lastTs: b.ts,
      }),
    ]);
  });

  it("keeps a reading exactly at clipFromMs (it belongs to the recomputed day)", () => {
    // Recompute from 2026-01-11 with prev = 23:45 on the 10th: the 00:00 reading and [00:00, 00:15) count.
    const prev = reading(local("2026-01-10T23:45"), 1000, 100, 100);
    const at = reading(local("2026-01-11T00:00"), 1025, 100, 100);
    const { days } = roll(prev, [at], dayStart("2026-01-11"));
    expectRows(days, [row("2026-01-11", { readings: 1, firstTs: at.ts, lastTs: at.ts })]);
    // A gap with a reset that ends exactly at the clip lies wholly before it: neither counts on either day.
    const early = reading(local("2026-01-10T20:00"), 1000, 100, 100);
    const gap = roll(early, [{ ...at, energyWh: 5, reset: true }], dayStart("2026-01-11"));
    expectRows(gap.days, [row("2026-01-11", { readings: 1, firstTs: at.ts, lastTs: at.ts })]);
    const next = reading(local("2026-01-11T00:15"), 1050, 100, 100);
    const both = roll(prev, [at, next], dayStart("2026-01-11"));
    expectRows(both.days, [
      row("2026-01-11", {
        meteredWh: 25,
        meteredS: 900,
        darkS: 900,
        litS: 900,
        readings: 2,
        firstTs: at.ts,
        lastTs: next.ts,
      }),
    ]);
  });
});

describe("rollLamp: input", () => {
  const a = reading(local("2026-01-10T20:00"), 1000, 100, 100);

  it("keeps the last of several readings with one ts", () => {
    // Two readings at 20:15: the second (1025 Wh) counts → 25 Wh, one reading.
    const { days, last } = roll(a, [
      reading(local("2026-01-10T20:15"), 1010, 100, 100),
      reading(local("2026-01-10T20:15"), 1025, 100, 100),
    ]);
    expect(days.get("2026-01-10")?.meteredWh).toBe(25);
    expect(days.get("2026-01-10")?.readings).toBe(1);
    expect(last?.energyWh).toBe(1025);
  });

  it("refuses readings out of order or not after prev, naming the reading", () => {
    const b = reading(local("2026-01-10T20:15"), 1025, 100, 100);
    const c = reading(local("2026-01-10T20:30"), 1050, 100, 100);
    expect(() => roll(a, [c, b])).toThrow(/readings\.1\.ts: must be sorted by ts/);
    expect(() => roll(c, [b])).toThrow(/readings\.0\.ts: must be after prev\.ts/);
    expect(() => roll(a, [reading(b.ts, Number.NaN, 1, 0)])).toThrow(/readings\.0\.energyWh/);
  });

  it("refuses bad lamp parameters and options, naming the field", () => {
    const base = { prev: a, readings: [], lamp: LAMP, options: OPTIONS, estimator: FAKE_ESTIMATOR };
    expect(() => rollLamp({ ...base, lamp: { ...LAMP, ledW: -1 } })).toThrow(/lamp\.ledW/);
    expect(() => rollLamp({ ...base, options: { ...OPTIONS, gapS: 0 } })).toThrow(/options\.gapS/);
    expect(() => rollLamp({ ...base, options: { ...OPTIONS, estimateMaxS: 60 } })).toThrow(
      /options\.estimateMaxS/,
    );
    expect(() => rollLamp({ ...base, clipFromMs: Number.NaN })).toThrow(/clipFromMs/);
    expect(() => rollLamp({ ...base, lamp: { ...LAMP, site: { lat: 95, lon: 0 } } })).toThrow(/site\.lat/);
  });

  it("refuses an estimator that returns no energy", () => {
    const b = reading(local("2026-01-10T22:00"), 10, 100, 100, true); // 2 h gap with a reset → estimator
    expect(() =>
      rollLamp({
        prev: a,
        readings: [b],
        lamp: LAMP,
        options: OPTIONS,
        estimator: () => Number.NaN,
        dark: FAKE_DARK,
      }),
    ).toThrow(/estimator: must return/);
  });

  it("addDays merges two accumulations of one day and refuses two days", () => {
    const x = row("2026-01-10", {
      meteredWh: 1,
      meteredS: 2,
      darkS: 3,
      readings: 1,
      firstTs: 50,
      lastTs: 60,
    });
    const y = row("2026-01-10", { estimatedWh: 4, estimatedS: 5, litS: 6, resets: 1, gaps: 2, firstTs: 10 });
    expect(addDays(x, y)).toEqual(
      row("2026-01-10", {
        meteredWh: 1,
        meteredS: 2,
        estimatedWh: 4,
        estimatedS: 5,
        darkS: 3,
        litS: 6,
        readings: 1,
        resets: 1,
        gaps: 2,
        firstTs: 10,
        lastTs: 60,
      }),
    );
    expect(() => addDays(x, row("2026-01-11", {}))).toThrow(/b\.day/);
  });
});
