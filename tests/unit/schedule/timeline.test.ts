// A lamp's program level over time (createLampSchedule): the factory calendar, ramps, points across midnight and
// dawn, time order over list order, the Ramadan clock changes of 2026, rule choice per night, and the cost of a
// lookup (the simulator asks once per reading for thousands of lamps).
import { describe, expect, it } from "vitest";
import { FACTORY_CALENDAR } from "../../../services/contract/schedule.ts";
import { nightSwitches } from "../../../services/schedule/program.ts";
import { sunEvents } from "../../../services/schedule/sun.ts";
import { createLampSchedule } from "../../../services/schedule/timeline.ts";
import { localInstant, nightBounds } from "../../../services/schedule/zone.ts";
import { CASABLANCA, doc, HOUR_MS, MINUTE_MS, utc } from "./helpers.ts";

describe("FACTORY_CALENDAR", () => {
  it("100 % from sunset, 50 % from 00:00, 100 % from 05:00, 0 % from sunrise", () => {
    const lamp = createLampSchedule(FACTORY_CALENDAR, CASABLANCA);
    const { sunset, sunrise } = sunEvents("2026-06-21", CASABLANCA);
    const midnight = localInstant("2026-06-22", "00:00");
    const five = localInstant("2026-06-22", "05:00");
    expect(midnight).toBe(utc("2026-06-21T23:00"));
    expect(lamp.levelAt(sunset - 1)).toBe(0);
    expect(lamp.levelAt(sunset)).toBe(100);
    expect(lamp.levelAt(midnight - 1)).toBe(100);
    expect(lamp.levelAt(midnight)).toBe(50);
    expect(lamp.levelAt(five - 1)).toBe(50);
    expect(lamp.levelAt(five)).toBe(100);
    expect(lamp.levelAt(sunrise - 1)).toBe(100);
    expect(lamp.levelAt(sunrise)).toBe(0);
    expect(lamp.levelAt(utc("2026-06-22T12:00"))).toBe(0);
    const { startMs, endMs } = nightBounds("2026-06-21");
    expect(lamp.switchesBetween(startMs, endMs).map((s) => [s.label, s.levelPct])).toEqual([
      ["sunset", 100],
      ["00:00", 50],
      ["05:00", 100],
      ["sunrise", 0],
    ]);
  });
});

describe("ramps", () => {
  const lamp = createLampSchedule(
    doc({
      pp: [
        { at: "sunset", level_pct: 100, ramp_s: 600 },
        { at: "00:00", level_pct: 50, ramp_s: 1800 },
        { at: "00:10", level_pct: 20, ramp_s: 600 },
        { at: "03:00", level_pct: 80 },
        { at: "sunrise", level_pct: 0, ramp_s: 900 },
      ],
    }),
    CASABLANCA,
  );
  const m = (hhmm: string) => localInstant("2026-06-22", hhmm);

  it("a ramp moves linearly from the level in effect (the previous night's 0 % at sunset)", () => {
    const { sunset, sunrise } = sunEvents("2026-06-21", CASABLANCA);
    expect(lamp.levelAt(sunset)).toBe(0);
    expect(lamp.levelAt(sunset + 5 * MINUTE_MS)).toBeCloseTo(50, 9);
    expect(lamp.levelAt(sunset + 10 * MINUTE_MS)).toBe(100);
    expect(lamp.levelAt(sunrise + 7.5 * MINUTE_MS)).toBeCloseTo(40, 9); // 80 → 0 over 15 min
  });

  it("a point inside a ramp starts from the level reached then", () => {
    expect(lamp.levelAt(m("00:05"))).toBeCloseTo(100 - 50 / 6, 9); // 5 of 30 minutes of 100 → 50
    const reached = 100 - (50 * 10) / 30;
    expect(lamp.levelAt(m("00:10"))).toBeCloseTo(reached, 9);
    expect(lamp.levelAt(m("00:15"))).toBeCloseTo(reached + (20 - reached) / 2, 9);
    expect(lamp.levelAt(m("00:20"))).toBe(20);
    expect(lamp.levelAt(m("03:00"))).toBe(80); // no ramp: at once
  });
});

describe("time order across midnight and dawn", () => {
  it("a sunrise-offset point earlier than a fixed morning point: time order, not list order", () => {
    // In June, sunrise − 60 min is about 05:18, before the fixed 06:00.
    const points = [
      { at: "sunset" as const, level_pct: 100, ramp_s: 0 },
      { at: "06:00", level_pct: 30, ramp_s: 0 },
      { at: "sunrise" as const, offset_min: -60, level_pct: 0, ramp_s: 0 },
    ];
    const sw = nightSwitches(points, "2026-06-21", CASABLANCA);
    expect(sw.map((s) => s.label)).toEqual(["sunset", "sunrise-60", "06:00"]);
    expect(sw.map((s) => s.index)).toEqual([0, 2, 1]);
    const lamp = createLampSchedule(doc({ pp: points }), CASABLANCA);
    const { sunrise } = sunEvents("2026-06-21", CASABLANCA);
    expect(lamp.levelAt(sunrise - 61 * MINUTE_MS)).toBe(100);
    expect(lamp.levelAt(sunrise - 59 * MINUTE_MS)).toBe(0);
    // 06:00 comes later and wins until the next sunset: the level carries over noon into the next night.
    expect(lamp.levelAt(localInstant("2026-06-22", "06:00"))).toBe(30);
    expect(lamp.levelAt(localInstant("2026-06-22", "15:00"))).toBe(30);
  });

  it("fixed times at or after 12:00 fall on D, before 12:00 on D+1", () => {
    const sw = nightSwitches(
      [
        { at: "11:59", level_pct: 0, ramp_s: 0 },
        { at: "12:00", level_pct: 10, ramp_s: 0 },
        { at: "23:30", level_pct: 70, ramp_s: 0 },
        { at: "00:30", level_pct: 40, ramp_s: 0 },
      ],
      "2026-06-21",
      CASABLANCA,
    );
    expect(sw.map((s) => [s.label, s.at])).toEqual([
      ["12:00", utc("2026-06-21T11:00")],
      ["23:30", utc("2026-06-21T22:30")],
      ["00:30", utc("2026-06-21T23:30")],
      ["11:59", utc("2026-06-22T10:59")],
    ]);
  });

  it("at one instant the later point of the list wins", () => {
    const lamp = createLampSchedule(
      doc({
        pp: [
          { at: "sunset", level_pct: 100 },
          { at: "00:00", level_pct: 50 },
          { at: "00:00", level_pct: 20 },
        ],
      }),
      CASABLANCA,
    );
    expect(lamp.levelAt(localInstant("2026-06-22", "00:00"))).toBe(20);
  });
});

describe("the 2026 clock changes", () => {
  const program = doc({
    pp: [
      { at: "sunset", level_pct: 100 },
      { at: "00:00", level_pct: 50 },
      { at: "02:30", level_pct: 30 },
      { at: "05:00", level_pct: 100 },
      { at: "sunrise", level_pct: 0 },
    ],
  });
  const lamp = createLampSchedule(program, CASABLANCA);
  const fixed = (night: string) =>
    lamp
      .switchesBetween(nightBounds(night).startMs, nightBounds(night).endMs)
      .filter((s) => !s.label.startsWith("sun"))
      .map((s) => [s.label, new Date(s.at).toISOString().slice(0, 16)]);

  it("Ramadan starts (2026-02-15, back at 03:00): a 25-hour night, 02:30 happens twice → the earlier", () => {
    expect(fixed("2026-02-14")).toEqual([
      ["00:00", "2026-02-14T23:00"], // UTC+1
      ["02:30", "2026-02-15T01:30"], // first 02:30, still UTC+1
      ["05:00", "2026-02-15T05:00"], // UTC+0
    ]);
    expect(lamp.levelAt(utc("2026-02-15T02:15"))).toBe(30); // the second 02:15 local: still 30 %
  });

  it("Ramadan ends (2026-03-22, forward at 02:00): 02:30 does not exist and moves to 03:30", () => {
    expect(fixed("2026-03-21")).toEqual([
      ["00:00", "2026-03-22T00:00"], // UTC+0
      ["02:30", "2026-03-22T02:30"], // = 03:30 UTC+1
      ["05:00", "2026-03-22T04:00"], // UTC+1
    ]);
    expect(lamp.levelAt(utc("2026-03-22T02:29"))).toBe(50);
    expect(lamp.levelAt(utc("2026-03-22T02:30"))).toBe(30);
  });

  it("UTC+0 for good from 2026-09-20 (back at 02:00)", () => {
    expect(fixed("2026-09-19")).toEqual([
      ["00:00", "2026-09-19T23:00"],
      ["02:30", "2026-09-20T02:30"],
      ["05:00", "2026-09-20T05:00"],
    ]);
    expect(fixed("2026-09-20")).toEqual([
      ["00:00", "2026-09-21T00:00"],
      ["02:30", "2026-09-21T02:30"],
      ["05:00", "2026-09-21T05:00"],
    ]);
  });

  it("sunset and sunrise keep their UTC instants across a change", () => {
    const sw = lamp.switchesBetween(nightBounds("2026-02-14").startMs, nightBounds("2026-02-14").endMs);
    const sun = sunEvents("2026-02-14", CASABLANCA);
    expect(sw.find((s) => s.label === "sunset")?.at).toBe(sun.sunset);
    expect(sw.find((s) => s.label === "sunrise")?.at).toBe(sun.sunrise);
  });
});

describe("calendar rules per night", () => {
  const lamp = createLampSchedule(
    doc(
      {
        std: [
          { at: "sunset", level_pct: 100 },
          { at: "00:00", level_pct: 50 },
          { at: "sunrise", level_pct: 0 },
        ],
        late: [
          { at: "sunset", level_pct: 100 },
          { at: "02:00", level_pct: 70 },
          { at: "sunrise", level_pct: 0 },
        ],
      },
      { rules: [{ name: "weekend", program: "late", weekdays: ["sat"] }], defaultProgram: "std" },
    ),
    CASABLANCA,
  );

  it("a Sunday 01:00 belongs to Saturday's night and follows its rule", () => {
    const sunday1am = localInstant("2026-11-29", "01:00");
    expect(lamp.explain(sunday1am)).toEqual({
      night: "2026-11-28",
      programId: "late",
      ruleIndex: 0,
      ruleName: "weekend",
    });
    expect(lamp.levelAt(sunday1am)).toBe(100);
    expect(lamp.levelAt(localInstant("2026-11-28", "01:00"))).toBe(50); // Friday's night: default
    expect(lamp.explain(localInstant("2026-11-28", "01:00")).programId).toBe("std");
  });

  it("switchesBetween names the night and program of each switch", () => {
    const sw = lamp.switchesBetween(nightBounds("2026-11-27").startMs, nightBounds("2026-11-28").endMs);
    expect(sw.map((s) => `${s.night} ${s.programId} ${s.label}`)).toEqual([
      "2026-11-27 std sunset",
      "2026-11-27 std 00:00",
      "2026-11-27 std sunrise",
      "2026-11-28 late sunset",
      "2026-11-28 late 02:00",
      "2026-11-28 late sunrise",
    ]);
    expect(() => lamp.switchesBetween(2, 1)).toThrow(/toMs: must not be before fromMs/);
  });

  it("refuses a document that names a program it does not include", () => {
    const broken = { ...FACTORY_CALENDAR, default_program: "missing" };
    expect(() => createLampSchedule(broken, CASABLANCA)).toThrow(/programs\.missing: is named/);
  });
});

describe("cost of levelAt", () => {
  it("stays well under a few microseconds per call on a cached night", () => {
    const lamp = createLampSchedule(FACTORY_CALENDAR, CASABLANCA);
    const { startMs, endMs } = nightBounds("2026-06-21");
    lamp.levelAt(startMs); // build the night
    const n = 200_000;
    const step = (endMs - startMs) / n;
    let sum = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sum += lamp.levelAt(startMs + i * step);
    const perCallUs = ((performance.now() - t0) * 1000) / n;
    expect(sum).toBeGreaterThan(0);
    // About 0.05 µs on an idle core; the bound leaves room for a shared CI machine. Without the cache a call
    // costs tens of microseconds (suncalc and the zone for four nights).
    expect(perCallUs).toBeLessThan(3);
  });

  it("a month of readings across nights stays fast (night changes rebuild from the cache)", () => {
    const lamp = createLampSchedule(FACTORY_CALENDAR, CASABLANCA);
    const from = utc("2026-02-01T00:00");
    const t0 = performance.now();
    for (let t = from; t < from + 30 * 24 * HOUR_MS; t += 60_000) lamp.levelAt(t);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
