// Local time of Africa/Casablanca from the IANA data Node 24 ships (tz 2026c), checked against Intl (ICU) rather
// than against luxon, which zone.ts uses:
//   2026-02-15 03:00 (UTC+1) → 02:00 (UTC+0)   Ramadan: clocks back, 02:00–03:00 happens twice
//   2026-03-22 02:00 (UTC+0) → 03:00 (UTC+1)   after Ramadan: clocks forward, 02:00–03:00 never happens
//   2026-09-20 02:00 (UTC+1) → 01:00 (UTC+0)   UTC+0 for good
import { describe, expect, it } from "vitest";
import {
  addDays,
  localDateOf,
  localInstant,
  localIso,
  nightBounds,
  nightOf,
  utcOffsetMin,
  weekdayOf,
} from "../../../services/schedule/zone.ts";

const HOUR_MS = 3_600_000;
const utc = (iso: string) => Date.parse(`${iso}Z`);

/** Wall clock in Casablanca according to ICU, "YYYY-MM-DD HH:MM". */
const wall = (ts: number) =>
  new Intl.DateTimeFormat("sv-SE", {
    timeZone: "Africa/Casablanca",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(ts);

describe("the runtime's time zone data", () => {
  it("is the 2026 Casablanca rule set the tests expect", () => {
    expect(wall(utc("2026-02-15T01:59"))).toBe("2026-02-15 02:59"); // UTC+1
    expect(wall(utc("2026-02-15T02:00"))).toBe("2026-02-15 02:00"); // UTC+0: back an hour
    expect(wall(utc("2026-03-22T01:59"))).toBe("2026-03-22 01:59");
    expect(wall(utc("2026-03-22T02:00"))).toBe("2026-03-22 03:00"); // forward
    expect(wall(utc("2026-09-20T00:59"))).toBe("2026-09-20 01:59");
    expect(wall(utc("2026-09-20T01:00"))).toBe("2026-09-20 01:00"); // back, for good
    expect(wall(utc("2026-12-01T12:00"))).toBe("2026-12-01 12:00");
  });
});

describe("utcOffsetMin", () => {
  it.each([
    ["2026-01-10T12:00", 60],
    ["2026-02-15T01:59", 60],
    ["2026-02-15T02:00", 0],
    ["2026-03-22T01:59", 0],
    ["2026-03-22T02:00", 60],
    ["2026-09-20T00:59", 60],
    ["2026-09-20T01:00", 0],
    ["2027-06-01T12:00", 0],
  ] as const)("at %s UTC is %i min", (iso, offset) => {
    expect(utcOffsetMin(utc(iso))).toBe(offset);
    // Repeated calls hit the per-hour memo and must agree.
    expect(utcOffsetMin(utc(iso) + 1)).toBe(offset);
  });
});

describe("localInstant", () => {
  it("agrees with ICU for ordinary times on both sides of every change", () => {
    for (const [date, hhmm] of [
      ["2026-02-14", "21:15"],
      ["2026-02-15", "05:00"],
      ["2026-03-21", "23:59"],
      ["2026-03-22", "05:00"],
      ["2026-09-19", "20:00"],
      ["2026-09-20", "05:00"],
      ["2026-12-31", "00:00"],
    ] as const)
      expect(wall(localInstant(date, hhmm))).toBe(`${date} ${hhmm}`);
  });

  it("takes the earlier instant of a wall time that happens twice (fall-back overlap)", () => {
    expect(localInstant("2026-02-15", "02:30")).toBe(utc("2026-02-15T01:30")); // the UTC+1 one
    expect(localInstant("2026-02-15", "03:00")).toBe(utc("2026-02-15T03:00")); // only once: after the change
    expect(localInstant("2026-09-20", "01:30")).toBe(utc("2026-09-20T00:30"));
  });

  it("moves a wall time in the spring-forward gap forward by the gap", () => {
    const ts = localInstant("2026-03-22", "02:30");
    expect(ts).toBe(utc("2026-03-22T02:30"));
    expect(wall(ts)).toBe("2026-03-22 03:30");
    expect(localInstant("2026-03-22", "02:00")).toBe(utc("2026-03-22T02:00")); // = 03:00 local
  });

  it("names the field and the reason for bad input", () => {
    expect(() => localInstant("2026-02-30", "12:00")).toThrow(/date: 2026-02-30 is not a calendar date/);
    expect(() => localInstant("2026-2-3", "12:00")).toThrow(/date: must be a date YYYY-MM-DD/);
    expect(() => localInstant("2026-02-03", "24:00")).toThrow(/hhmm: must be a local time HH:MM/);
  });
});

describe("nights", () => {
  it("night D runs from local noon D to local noon D+1", () => {
    expect(nightOf(utc("2026-06-21T11:00"))).toBe("2026-06-21"); // 12:00 local
    expect(nightOf(utc("2026-06-21T10:59"))).toBe("2026-06-20");
    expect(nightOf(utc("2026-06-22T02:00"))).toBe("2026-06-21"); // 03:00 local, Monday morning
    expect(nightOf(utc("2026-12-01T12:00"))).toBe("2026-12-01"); // UTC+0 after September: noon is 12:00Z
    expect(nightOf(utc("2026-12-01T11:59"))).toBe("2026-11-30");
  });

  it("the night the clocks go back lasts 25 hours, the one they go forward 23", () => {
    const back = nightBounds("2026-02-14");
    expect(back.startMs).toBe(utc("2026-02-14T11:00"));
    expect(back.endMs).toBe(utc("2026-02-15T12:00"));
    expect((back.endMs - back.startMs) / HOUR_MS).toBe(25);
    const fwd = nightBounds("2026-03-21");
    expect((fwd.endMs - fwd.startMs) / HOUR_MS).toBe(23);
    const sept = nightBounds("2026-09-19");
    expect((sept.endMs - sept.startMs) / HOUR_MS).toBe(25);
    expect(nightOf(back.endMs - 1)).toBe("2026-02-14");
    expect(nightOf(back.endMs)).toBe("2026-02-15");
  });

  it("localDateOf follows the wall clock", () => {
    expect(localDateOf(utc("2026-06-21T23:30"))).toBe("2026-06-22"); // 00:30 local
    expect(localDateOf(utc("2026-02-20T23:30"))).toBe("2026-02-20"); // UTC+0 in Ramadan
  });

  it("localIso prints the wall time with its offset", () => {
    expect(localIso(utc("2026-02-15T01:30"))).toBe("2026-02-15T02:30:00+01:00");
    expect(localIso(utc("2026-02-15T02:30"))).toBe("2026-02-15T02:30:00+00:00");
  });
});

describe("dates", () => {
  it("addDays crosses months, years and leap days", () => {
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(() => addDays("2026-03-01", 0.5)).toThrow(/n: must be an integer/);
  });

  it("weekdayOf spells weekdays as the contract does", () => {
    expect(weekdayOf("2026-11-28")).toBe("sat");
    expect(weekdayOf("2026-11-29")).toBe("sun");
    expect(weekdayOf("2026-11-30")).toBe("mon");
    expect(weekdayOf("2026-02-18")).toBe("wed");
  });
});
