// Local days of the energy reports: local midnight to local midnight in Africa/Casablanca, through zone.ts. In 2026
// the city is on UTC+1 except from 2026-02-15 03:00 (back to 02:00, UTC+0) to 2026-03-22 02:00 (on to 03:00, UTC+1),
// and from 2026-09-20 03:00 (back to 02:00) for good, so 2026-02-15 and 2026-09-20 last 25 h and 2026-03-22 23 h.
import { describe, expect, it } from "vitest";
import { createDayIndex, dayPieces, dayStart, daysBetween } from "../../../services/energy/days.ts";

const HOUR_MS = 3_600_000;
const utc = (iso: string) => Date.parse(`${iso}Z`);

describe("dayStart", () => {
  it("is local 00:00: 23:00 UTC the day before on UTC+1, 00:00 UTC on UTC+0", () => {
    expect(dayStart("2026-01-10")).toBe(utc("2026-01-09T23:00:00"));
    expect(dayStart("2026-03-01")).toBe(utc("2026-03-01T00:00:00"));
    expect(dayStart("2026-10-10")).toBe(utc("2026-10-10T00:00:00"));
  });

  it("makes days of 25 h and 23 h when the clocks change inside them", () => {
    expect(dayStart("2026-02-16") - dayStart("2026-02-15")).toBe(25 * HOUR_MS);
    expect(dayStart("2026-03-23") - dayStart("2026-03-22")).toBe(23 * HOUR_MS);
    expect(dayStart("2026-09-21") - dayStart("2026-09-20")).toBe(25 * HOUR_MS);
  });

  it("names the field of a bad date", () => {
    expect(() => dayStart("2026-02-30")).toThrow(/date: 2026-02-30 is not a calendar date/);
  });
});

describe("dayPieces", () => {
  it("keeps an interval inside one day whole", () => {
    const from = utc("2026-01-10T10:00:00");
    expect(dayPieces(from, from + HOUR_MS)).toEqual([
      { day: "2026-01-10", fromMs: from, toMs: from + HOUR_MS },
    ]);
  });

  it("splits at local midnight (23:00 UTC in January)", () => {
    const from = utc("2026-01-10T22:50:00"); // 23:50 local
    const to = utc("2026-01-11T23:30:00"); // 00:30 local on the 12th
    expect(dayPieces(from, to)).toEqual([
      { day: "2026-01-10", fromMs: from, toMs: utc("2026-01-10T23:00:00") },
      { day: "2026-01-11", fromMs: utc("2026-01-10T23:00:00"), toMs: utc("2026-01-11T23:00:00") },
      { day: "2026-01-12", fromMs: utc("2026-01-11T23:00:00"), toMs: to },
    ]);
  });

  it("gives the 25-hour day one piece of 25 h", () => {
    const pieces = dayPieces(dayStart("2026-02-14") + HOUR_MS, dayStart("2026-02-16") + HOUR_MS);
    expect(pieces.map((p) => [p.day, (p.toMs - p.fromMs) / HOUR_MS])).toEqual([
      ["2026-02-14", 23],
      ["2026-02-15", 25],
      ["2026-02-16", 1],
    ]);
  });

  it("is empty when the interval is, and refuses a non-finite bound", () => {
    const t = utc("2026-01-10T10:00:00");
    expect(dayPieces(t, t)).toEqual([]);
    expect(dayPieces(t, t - 1)).toEqual([]);
    expect(() => dayPieces(Number.NaN, t)).toThrow(/fromMs/);
  });
});

describe("createDayIndex", () => {
  it("answers the day holding an instant, with its bounds, whichever order it is asked in", () => {
    const dayOf = createDayIndex();
    expect(dayOf(utc("2026-01-10T22:59:59.999")).day).toBe("2026-01-10");
    expect(dayOf(utc("2026-01-10T23:00:00"))).toEqual({
      day: "2026-01-11",
      startMs: utc("2026-01-10T23:00:00"),
      endMs: utc("2026-01-11T23:00:00"),
    });
    expect(dayOf(utc("2026-01-05T12:00:00")).day).toBe("2026-01-05");
  });
});

describe("daysBetween", () => {
  it("lists the dates from from to to, both included, across a month end", () => {
    expect(daysBetween("2026-01-30", "2026-02-02")).toEqual([
      "2026-01-30",
      "2026-01-31",
      "2026-02-01",
      "2026-02-02",
    ]);
    expect(daysBetween("2026-01-30", "2026-01-30")).toEqual(["2026-01-30"]);
    expect(daysBetween("2026-02-02", "2026-01-30")).toEqual([]);
  });

  it("names the field of a bad date", () => {
    expect(() => daysBetween("2026-01-32", "2026-02-01")).toThrow(/from: 2026-01-32 is not a calendar date/);
    expect(() => daysBetween("2026-01-01", "soon")).toThrow(/to: must be a date YYYY-MM-DD/);
  });
});
