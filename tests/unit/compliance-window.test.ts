// The compliance check's window (services/command/schedules/compliance-window.ts): the default "last complete
// night" in Casablanca's local time on both sides of its offsets, nights and ranges, and a 400 issue per field.
import { describe, expect, it } from "vitest";
import { MAX_WINDOW_DAYS, resolveWindow } from "../../services/command/schedules/compliance-window.ts";

const at = (iso: string) => Date.parse(iso);
const window = (q: Parameters<typeof resolveWindow>[0], now: string) => {
  const r = resolveWindow(q, at(now));
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.issues)}`);
  return {
    from: new Date(r.window.fromMs).toISOString(),
    to: new Date(r.window.toMs).toISOString(),
    ...r.window,
  };
};
const issues = (q: Parameters<typeof resolveWindow>[0], now = "2026-11-23T04:00:00Z") => {
  const r = resolveWindow(q, at(now));
  if (r.ok) throw new Error("accepted");
  return r.issues;
};

describe("default window: the last complete night", () => {
  it("before local noon the night in progress began yesterday, so last night is the one before (UTC+0)", () => {
    // 2026-11-23 04:00 UTC = 04:00 local (UTC+0 for good since 2026-09-20): night 2026-11-22 is in progress.
    const w = window({}, "2026-11-23T04:00:00Z");
    expect(w).toMatchObject({
      basis: "last_night",
      night: "2026-11-21",
      from: "2026-11-21T12:00:00.000Z",
      to: "2026-11-22T12:00:00.000Z",
    });
  });

  it("after local noon last night is the one that just ended", () => {
    expect(window({}, "2026-11-23T12:30:00Z")).toMatchObject({ night: "2026-11-22" });
  });

  it("in summer (UTC+1) local noon is 11:00 UTC", () => {
    // 2026-07-10 10:30 UTC = 11:30 local: night 2026-07-09 is still in progress.
    expect(window({}, "2026-07-10T10:30:00Z")).toMatchObject({
      night: "2026-07-08",
      from: "2026-07-08T11:00:00.000Z",
      to: "2026-07-09T11:00:00.000Z",
    });
    // 11:30 UTC = 12:30 local: night 2026-07-09 has ended.
    expect(window({}, "2026-07-10T11:30:00Z")).toMatchObject({ night: "2026-07-09" });
  });

  it("a night spanning the end of Ramadan time (2026-03-22 02:00 → 03:00) lasts 23 hours", () => {
    const w = window({ night: "2026-03-21" }, "2026-03-25T00:00:00Z");
    expect(w).toMatchObject({ from: "2026-03-21T12:00:00.000Z", to: "2026-03-22T11:00:00.000Z" });
  });
});

describe("night and range", () => {
  it("night=D is local noon D to local noon D+1", () => {
    expect(window({ night: "2026-10-17" }, "2026-11-23T04:00:00Z")).toMatchObject({
      basis: "night",
      night: "2026-10-17",
      from: "2026-10-17T12:00:00.000Z",
      to: "2026-10-18T12:00:00.000Z",
    });
  });

  it("from and to as instants with zones", () => {
    expect(
      window({ from: "2026-10-17T19:00:00+01:00", to: "2026-10-18T06:30:00Z" }, "2026-11-23T04:00:00Z"),
    ).toMatchObject({
      basis: "range",
      night: null,
      from: "2026-10-17T18:00:00.000Z",
      to: "2026-10-18T06:30:00.000Z",
    });
  });

  it("dates as bounds mean their local noon: from=D&to=D+7 is seven nights", () => {
    const w = window({ from: "2026-06-01", to: "2026-06-08" }, "2026-11-23T04:00:00Z");
    expect(w).toMatchObject({ from: "2026-06-01T11:00:00.000Z", to: "2026-06-08T11:00:00.000Z" });
  });

  it(`accepts exactly ${MAX_WINDOW_DAYS} days`, () => {
    expect(
      window({ from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z" }, "2026-11-23T04:00:00Z"),
    ).toMatchObject({
      to: "2026-11-01T00:00:00.000Z",
    });
  });
});

describe("refusals name the field", () => {
  it("night together with from or to", () => {
    expect(issues({ night: "2026-10-17", from: "2026-10-17" })).toEqual([
      { field: "query.night", message: "give either night or from and to, not both" },
    ]);
  });

  it("a night that is not a date, does not exist or has not started", () => {
    expect(issues({ night: "17/10/2026" })[0]?.field).toBe("query.night");
    expect(issues({ night: "2026-02-30" })[0]?.message).toMatch(/YYYY-MM-DD/);
    expect(issues({ night: "2026-11-24" })).toEqual([
      { field: "query.night", message: "has not started yet" },
    ]);
  });

  it("from without to, and to without from", () => {
    expect(issues({ from: "2026-10-17" })).toEqual([{ field: "query.to", message: "is required with from" }]);
    expect(issues({ to: "2026-10-17" })).toEqual([{ field: "query.from", message: "is required with to" }]);
  });

  it("a time without a zone, or not a time at all", () => {
    const got = issues({ from: "2026-10-17T18:00:00", to: "yesterday" });
    expect(got.map((i) => i.field)).toEqual(["query.from", "query.to"]);
    expect(got[0]?.message).toMatch(/ISO 8601 time with a zone/);
  });

  it("an impossible date", () => {
    expect(issues({ from: "2026-02-30", to: "2026-03-02" })).toEqual([
      { field: "query.from", message: "2026-02-30 is not a calendar date" },
    ]);
  });

  it("to not after from", () => {
    expect(issues({ from: "2026-10-18T00:00:00Z", to: "2026-10-18T00:00:00Z" })).toEqual([
      { field: "query.to", message: "must be after from" },
    ]);
  });

  it(`longer than ${MAX_WINDOW_DAYS} days`, () => {
    expect(issues({ from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:01Z" })).toEqual([
      { field: "query.to", message: `the window may span at most ${MAX_WINDOW_DAYS} days` },
    ]);
  });

  it("a start in the future", () => {
    expect(issues({ from: "2026-11-24T00:00:00Z", to: "2026-11-25T00:00:00Z" })).toEqual([
      { field: "query.from", message: "is in the future" },
    ]);
  });
});
