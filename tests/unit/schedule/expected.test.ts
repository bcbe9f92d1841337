// The level the platform expects from a lamp's history: factory calendar before the first delivery, calendar
// changes from their rollout time, clipped overrides with ramps from the level in effect, and the exact range and
// distance over a grace window.
import { describe, expect, it } from "vitest";
import { FACTORY_CALENDAR } from "../../../services/contract/schedule.ts";
import { clipOverrides } from "../../../services/schedule/overrides.ts";
import { sunEvents } from "../../../services/schedule/sun.ts";
import { expectedTimeline } from "../../../services/schedule/timeline.ts";
import { localInstant } from "../../../services/schedule/zone.ts";
import { CASABLANCA, doc, MINUTE_MS } from "./helpers.ts";

// From the rollout on 2026-06-21 at 23:00 local: 70 % from sunset, 30 % from 01:00, off at sunrise.
const deliveredAt = localInstant("2026-06-21", "23:00");
const v9 = doc(
  {
    dim: [
      { at: "sunset", level_pct: 70 },
      { at: "01:00", level_pct: 30 },
      { at: "sunrise", level_pct: 0 },
    ],
  },
  { version: 9 },
);
const t = (date: string, hhmm: string) => localInstant(date, hhmm);

describe("expectedTimeline: calendars", () => {
  const tl = expectedTimeline({
    calendars: [{ fromMs: deliveredAt, doc: v9 }],
    overrides: [],
    site: CASABLANCA,
  });

  it("follows FACTORY_CALENDAR before the first delivery and the new calendar at once after it", () => {
    expect(tl.levelAt(t("2026-06-21", "22:59"))).toBe(100);
    expect(tl.sourceAt(t("2026-06-21", "22:59"))).toEqual({
      kind: "calendar",
      version: 1,
      programId: "factory-default",
    });
    expect(tl.levelAt(deliveredAt)).toBe(70);
    expect(tl.sourceAt(deliveredAt)).toEqual({ kind: "calendar", version: 9, programId: "dim" });
    expect(tl.levelAt(t("2026-06-22", "00:30"))).toBe(70); // factory would say 50
    expect(tl.levelAt(t("2026-06-22", "01:00"))).toBe(30);
  });

  it("rangeOver spans the levels on both sides of a change inside the window", () => {
    expect(tl.rangeOver(deliveredAt - 2 * MINUTE_MS, deliveredAt + MINUTE_MS)).toEqual({ min: 70, max: 100 });
    expect(tl.rangeOver(deliveredAt, deliveredAt + MINUTE_MS)).toEqual({ min: 70, max: 70 });
  });

  it("distanceOver does not bridge a jump: 85 % was never expected between 100 and 70", () => {
    const from = deliveredAt - 2 * MINUTE_MS;
    const to = deliveredAt + MINUTE_MS;
    expect(tl.distanceOver(from, to, 100)).toBe(0);
    expect(tl.distanceOver(from, to, 70)).toBe(0);
    expect(tl.distanceOver(from, to, 85)).toBe(15);
    expect(tl.distanceOver(from, to, 60)).toBe(10);
  });

  it("refuses calendars out of order", () => {
    expect(() =>
      expectedTimeline({
        calendars: [
          { fromMs: 2, doc: v9 },
          { fromMs: 1, doc: v9 },
        ],
        overrides: [],
        site: CASABLANCA,
      }),
    ).toThrow(/calendars\.1\.fromMs: calendars must be sorted/);
  });
});

describe("expectedTimeline: overrides", () => {
  // Event night: an override to 100 % from 00:30 to 02:00 with a 10-minute ramp, then another one issued at
  // 01:30 (replacing the first) to 20 % until 03:00, no ramp. Program: factory (50 % from 00:00).
  const spans = clipOverrides([
    {
      id: "ovr-a",
      createdMs: t("2026-06-22", "00:20"),
      startsMs: t("2026-06-22", "00:30"),
      expiresMs: t("2026-06-22", "02:00"),
      cancelledMs: null,
      levelPct: 100,
      rampMs: 10 * MINUTE_MS,
    },
    {
      id: "ovr-b",
      createdMs: t("2026-06-22", "01:30"),
      startsMs: t("2026-06-22", "01:30"),
      expiresMs: t("2026-06-22", "03:00"),
      cancelledMs: null,
      levelPct: 20,
      rampMs: 0,
    },
  ]);
  const tl = expectedTimeline({ calendars: [], overrides: spans, site: CASABLANCA });

  it("an override ramps from the level in effect at its start", () => {
    expect(tl.levelAt(t("2026-06-22", "00:29"))).toBe(50);
    expect(tl.levelAt(t("2026-06-22", "00:30"))).toBe(50);
    expect(tl.levelAt(t("2026-06-22", "00:35"))).toBeCloseTo(75, 9);
    expect(tl.levelAt(t("2026-06-22", "00:40"))).toBe(100);
    expect(tl.sourceAt(t("2026-06-22", "00:35"))).toEqual({ kind: "override", id: "ovr-a" });
  });

  it("a newer override replaces the older one at its creation; after it the lamp is back on its program", () => {
    expect(tl.levelAt(t("2026-06-22", "01:29"))).toBe(100);
    expect(tl.levelAt(t("2026-06-22", "01:30"))).toBe(20);
    expect(tl.levelAt(t("2026-06-22", "02:59"))).toBe(20);
    expect(tl.levelAt(t("2026-06-22", "03:00"))).toBe(50);
    expect(tl.sourceAt(t("2026-06-22", "03:00"))).toMatchObject({ kind: "calendar", version: 1 });
    const { sunrise } = sunEvents("2026-06-21", CASABLANCA);
    expect(tl.levelAt(t("2026-06-22", "05:00"))).toBe(100);
    expect(tl.levelAt(sunrise)).toBe(0);
  });

  it("rangeOver and distanceOver follow a ramp exactly", () => {
    const r = tl.rangeOver(t("2026-06-22", "00:25"), t("2026-06-22", "00:35"));
    expect(r.min).toBe(50);
    expect(r.max).toBeCloseTo(75, 9);
    expect(tl.distanceOver(t("2026-06-22", "00:25"), t("2026-06-22", "00:35"), 60)).toBe(0);
    expect(tl.distanceOver(t("2026-06-22", "00:25"), t("2026-06-22", "00:35"), 80)).toBeCloseTo(5, 9);
  });

  it("refuses overlapping spans (clip them first)", () => {
    const span = { id: "x", fromMs: 0, untilMs: 10, levelPct: 10, rampMs: 0 };
    expect(() =>
      expectedTimeline({
        calendars: [],
        overrides: [span, { ...span, id: "y", fromMs: 5 }],
        site: CASABLANCA,
      }),
    ).toThrow(/y overlaps x/);
  });
});

describe("expectedTimeline: factory default", () => {
  it("is FACTORY_CALENDAR with no history", () => {
    const tl = expectedTimeline({ calendars: [], overrides: [], site: CASABLANCA });
    expect(tl.levelAt(t("2026-12-01", "01:00"))).toBe(50);
    expect(tl.sourceAt(t("2026-12-01", "01:00"))).toEqual({
      kind: "calendar",
      version: FACTORY_CALENDAR.version,
      programId: FACTORY_CALENDAR.default_program,
    });
  });
});
