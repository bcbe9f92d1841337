// Report periods (services/energy/period.ts): calendar and relative texts resolved in Africa/Casablanca, the bounds
// as instants (a month is the 1st 00:00 to the next 1st 00:00 local), refusals naming the field.
import { describe, expect, it } from "vitest";
import { isoWeekOf, periodDays, periodLabel, resolvePeriod } from "../../../services/energy/period.ts";

// Monday 23 November 2026, 06:00 local. Casablanca has been on UTC+0 for good since 2026-09-20, so local = UTC.
const NOW = Date.parse("2026-11-23T06:00:00Z");
const ok = (input: Parameters<typeof resolvePeriod>[0], now = NOW) => {
  const r = resolvePeriod(input, now);
  if (!r.ok) throw new Error(`${r.field}: ${r.message}`);
  return r.period;
};

describe("resolvePeriod", () => {
  it("relative periods at the clock's local date; weeks start on Monday", () => {
    const cases: [string, string, string, boolean, string][] = [
      ["yesterday", "2026-11-22", "2026-11-22", false, "2026-11-22"],
      ["this-week", "2026-11-23", "2026-11-29", true, "2026-W48"],
      ["last-week", "2026-11-16", "2026-11-22", false, "2026-W47"],
      ["this-month", "2026-11-01", "2026-11-30", true, "2026-11"],
      ["last-month", "2026-10-01", "2026-10-31", false, "2026-10"],
      ["this-year", "2026-01-01", "2026-12-31", true, "2026"],
      ["last-year", "2025-01-01", "2025-12-31", false, "2025"],
    ];
    for (const [text, from, to, partial, label] of cases)
      expect(ok({ period: text }), text).toMatchObject({ from, to, partial, label });
  });

  it("last month in January is December of the year before", () => {
    expect(ok({ period: "last-month" }, Date.parse("2027-01-10T12:00:00Z"))).toMatchObject({
      from: "2026-12-01",
      to: "2026-12-31",
      days: 31,
    });
  });

  it("a month is local midnight to local midnight; 2025 began at 23:00 UTC on New Year's Eve (UTC+1)", () => {
    const oct = ok({ period: "2026-10" });
    expect([new Date(oct.startMs).toISOString(), new Date(oct.endMs).toISOString(), oct.days]).toEqual([
      "2026-10-01T00:00:00.000Z",
      "2026-11-01T00:00:00.000Z",
      31,
    ]);
    const y2025 = ok({ period: "2025" });
    expect([new Date(y2025.startMs).toISOString(), new Date(y2025.endMs).toISOString(), y2025.days]).toEqual([
      "2024-12-31T23:00:00.000Z",
      "2025-12-31T23:00:00.000Z",
      365,
    ]);
  });

  it("ISO weeks: week 1 holds 4 January; 53-week years only", () => {
    // 4 January 2026 is a Sunday: week 1 runs from Monday 29 December 2025.
    expect(ok({ period: "2026-W01" })).toMatchObject({ from: "2025-12-29", to: "2026-01-04", days: 7 });
    // 2020 began on a Wednesday and was a leap year: 53 weeks.
    expect(ok({ period: "2020-W53" })).toMatchObject({ from: "2020-12-28", to: "2021-01-03" });
    expect(resolvePeriod({ period: "2021-W53" }, NOW)).toEqual({
      ok: false,
      field: "period",
      message: "2021 has ISO weeks 01 to 52",
    });
  });

  it("a day, and a range of days inclusive", () => {
    expect(ok({ period: "2026-10-05" })).toMatchObject({ from: "2026-10-05", to: "2026-10-05", days: 1 });
    expect(ok({ from: "2026-10-01", to: "2026-10-15" })).toMatchObject({
      days: 15,
      label: "2026-10-01_2026-10-15",
      partial: false,
    });
    // Reaching past now: partial.
    expect(ok({ from: "2026-11-01", to: "2026-11-23" }).partial).toBe(true);
  });

  it("refusals name the field and say why", () => {
    const refused = (input: Parameters<typeof resolvePeriod>[0]) => resolvePeriod(input, NOW);
    expect(refused({ period: "2026-13" })).toMatchObject({
      field: "period",
      message: expect.stringMatching(/01 to 12/),
    });
    expect(refused({ period: "2026-02-30" })).toMatchObject({
      field: "period",
      message: expect.stringMatching(/not a calendar date/),
    });
    expect(refused({ period: "october" })).toMatchObject({
      field: "period",
      message: expect.stringMatching(/last-month/),
    });
    expect(refused({ from: "2026-10-31", to: "2026-10-01" })).toMatchObject({
      field: "to",
      message: "must not be before from",
    });
    expect(refused({ from: "2026-09-31", to: "2026-10-01" })).toMatchObject({ field: "from" });
    expect(refused({ period: "2026-12" })).toMatchObject({
      field: "period",
      message: "starts on 2026-12-01, after today (2026-11-23, Africa/Casablanca)",
    });
    expect(refused({ from: "2020-01-01", to: "2023-12-31" })).toMatchObject({
      field: "from",
      message: "covers 1461 days; a report covers at most 1098",
    });
    expect(refused({})).toMatchObject({ field: "period", message: "required (or from and to)" });
  });
});

describe("periodDays", () => {
  it("days of 25 and 23 hours when Morocco's clocks change around Ramadan 2026", () => {
    const hours = (from: string, to: string) =>
      periodDays(from, to).map((d) => [d.date, (d.endMs - d.startMs) / 3_600_000]);
    // 15 February 2026, 03:00 → 02:00 (UTC+1 → UTC+0); 22 March 2026, 02:00 → 03:00.
    expect(hours("2026-02-14", "2026-02-16")).toEqual([
      ["2026-02-14", 24],
      ["2026-02-15", 25],
      ["2026-02-16", 24],
    ]);
    expect(hours("2026-03-21", "2026-03-23")).toEqual([
      ["2026-03-21", 24],
      ["2026-03-22", 23],
      ["2026-03-23", 24],
    ]);
  });
});

describe("labels", () => {
  it("names a range by the calendar unit it is", () => {
    expect(periodLabel("2026-10-01", "2026-10-31")).toBe("2026-10");
    expect(periodLabel("2026-02-01", "2026-02-28")).toBe("2026-02");
    expect(periodLabel("2026-01-01", "2026-12-31")).toBe("2026");
    expect(periodLabel("2026-11-16", "2026-11-22")).toBe("2026-W47");
    expect(periodLabel("2026-11-17", "2026-11-23")).toBe("2026-11-17_2026-11-23");
    expect(periodLabel("2026-10-05", "2026-10-05")).toBe("2026-10-05");
    expect(periodLabel("2026-10-01", "2026-10-30")).toBe("2026-10-01_2026-10-30");
  });

  it("ISO week of a date, across year ends", () => {
    expect(isoWeekOf("2026-01-01")).toBe("2026-W01");
    expect(isoWeekOf("2027-01-01")).toBe("2026-W53");
    expect(isoWeekOf("2024-12-30")).toBe("2025-W01");
  });
});
