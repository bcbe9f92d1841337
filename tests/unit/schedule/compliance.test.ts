// Compliance of one lamp over a night (issue 4, "Checking that lamps obey"): an obedient lamp, lag inside the
// grace window, a day burner (by level and by power), a dark lamp, wrong levels, and merging of deviations.
import { describe, expect, it } from "vitest";
import { assessLamp, compliancePct, type Sample } from "../../../services/schedule/compliance.ts";
import { sunEvents } from "../../../services/schedule/sun.ts";
import { expectedTimeline } from "../../../services/schedule/timeline.ts";
import { localInstant, nightBounds } from "../../../services/schedule/zone.ts";
import { CASABLANCA, doc, MINUTE_MS } from "./helpers.ts";

const opts = { tolerancePct: 5, graceMs: 3 * MINUTE_MS, standbyW: 2 };
// Factory calendar all night: 100 % from sunset, 50 % from 00:00, 100 % from 05:00, 0 % from sunrise.
const factory = expectedTimeline({ calendars: [], overrides: [], site: CASABLANCA });
const night = nightBounds("2026-06-21");
const sun = sunEvents("2026-06-21", CASABLANCA);
const at = (hhmm: string) => localInstant("2026-06-22", hhmm);
const eve = (hhmm: string) => localInstant("2026-06-21", hhmm);

/** Samples every 2 minutes over [from, to) with the level `level(ts)` and a matching power. */
function samples(from: number, to: number, level: (ts: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let ts = from; ts < to; ts += 2 * MINUTE_MS)
    out.push({ ts, dimPct: level(ts), powerW: level(ts) * 0.6 });
  return out;
}

describe("assessLamp", () => {
  it("an obedient lamp is 100 % compliant over the whole night", () => {
    const s = samples(night.startMs, night.endMs, (ts) => factory.levelAt(ts));
    const r = assessLamp(s, factory, CASABLANCA, opts);
    expect(r.samples).toBe(s.length);
    expect(r.compliant).toBe(s.length);
    expect(r.deviations).toEqual([]);
    expect(compliancePct(r)).toBe(100);
  });

  it("a change late by less than the grace is compliant; one late beyond it is a deviation", () => {
    const late = (lagMs: number) => (ts: number) => factory.levelAt(ts - lagMs);
    const within = assessLamp(samples(eve("23:30"), at("00:30"), late(150_000)), factory, CASABLANCA, opts);
    expect(within.deviations).toEqual([]);
    const beyond = assessLamp(
      samples(eve("23:30"), at("00:30"), late(5 * MINUTE_MS)),
      factory,
      CASABLANCA,
      opts,
    );
    // Samples at 00:04 (still 100 while 50 is due, and 100 was due more than 3 min before): one merged run.
    expect(beyond.deviations).toEqual([
      {
        kind: "wrong_level",
        fromMs: at("00:04"),
        toMs: at("00:04"),
        expectedPct: 50,
        reportedMin: 100,
        reportedMax: 100,
        samples: 1,
      },
    ]);
    expect(beyond.compliant).toBe(beyond.samples - 1);
  });

  it("a lamp still burning after sunrise is a burning_by_day deviation (merged, after the grace)", () => {
    const s = samples(sun.sunrise - 10 * MINUTE_MS, sun.sunrise + 30 * MINUTE_MS, () => 100);
    const r = assessLamp(s, factory, CASABLANCA, opts);
    expect(r.deviations).toHaveLength(1);
    const [d] = r.deviations;
    expect(d).toMatchObject({ kind: "burning_by_day", expectedPct: 0, reportedMin: 100, reportedMax: 100 });
    expect(d?.fromMs).toBeGreaterThan(sun.sunrise + opts.graceMs);
    expect(d?.fromMs).toBeLessThanOrEqual(sun.sunrise + opts.graceMs + 2 * MINUTE_MS);
    expect(d?.samples).toBe(r.samples - r.compliant);
  });

  it("reporting 0 % while drawing power by day is burning_by_day (a stuck relay); standby power is not", () => {
    const noon = localInstant("2026-06-22", "13:00");
    const stuck = assessLamp([{ ts: noon, dimPct: 0, powerW: 40 }], factory, CASABLANCA, opts);
    expect(stuck.deviations.map((d) => d.kind)).toEqual(["burning_by_day"]);
    const standby = assessLamp([{ ts: noon, dimPct: 0, powerW: 1.5 }], factory, CASABLANCA, opts);
    expect(standby.deviations).toEqual([]);
    // Last watts reported just after the sunrise switch-off: inside the grace, not a deviation.
    const tail = assessLamp(
      [{ ts: sun.sunrise + MINUTE_MS, dimPct: 0, powerW: 40 }],
      factory,
      CASABLANCA,
      opts,
    );
    expect(tail.deviations).toEqual([]);
  });

  it("a dark lamp: consecutive samples merge, a compliant sample splits, another kind splits", () => {
    const levels = new Map<number, number>([
      [at("01:00"), 0],
      [at("01:02"), 0],
      [at("01:04"), 0],
      [at("01:06"), 50],
      [at("01:08"), 0],
      [at("01:10"), 30],
      [at("01:12"), 35],
    ]);
    const s = [...levels].map(([ts, dimPct]) => ({ ts, dimPct }));
    const r = assessLamp(s.reverse(), factory, CASABLANCA, opts); // any order
    expect(r.deviations.map((d) => [d.kind, d.samples, d.reportedMin, d.reportedMax, d.expectedPct])).toEqual(
      [
        ["dark", 3, 0, 0, 50],
        ["dark", 1, 0, 0, 50],
        ["wrong_level", 2, 30, 35, 50],
      ],
    );
    expect(r.deviations[0]?.fromMs).toBe(at("01:00"));
    expect(r.deviations[0]?.toMs).toBe(at("01:04"));
    expect(r.compliant).toBe(1);
  });

  it("a lamp on when the program says off at night is wrong_level, not burning_by_day", () => {
    const offAt2 = expectedTimeline({
      calendars: [
        {
          fromMs: night.startMs - 1,
          doc: doc({
            offnight: [
              { at: "sunset", level_pct: 100 },
              { at: "02:00", level_pct: 0 },
            ],
          }),
        },
      ],
      overrides: [],
      site: CASABLANCA,
    });
    const r = assessLamp([{ ts: at("03:00"), dimPct: 50, powerW: 30 }], offAt2, CASABLANCA, opts);
    expect(r.deviations.map((d) => d.kind)).toEqual(["wrong_level"]);
  });

  it("ignores samples without a finite level and validates options", () => {
    const r = assessLamp([{ ts: at("01:00"), dimPct: Number.NaN }], factory, CASABLANCA, opts);
    expect(r).toEqual({ samples: 0, compliant: 0, deviations: [] });
    expect(compliancePct(r)).toBeNull();
    expect(() => assessLamp([], factory, CASABLANCA, { ...opts, tolerancePct: -1 })).toThrow(/tolerancePct/);
    expect(() => assessLamp([], factory, CASABLANCA, { ...opts, graceMs: Number.NaN })).toThrow(/graceMs/);
  });

  it("stays O(samples · log switches): a night of 720 samples for 200 lamps in well under a second", () => {
    // Every sample 20 % off the schedule: none takes the fast path of a sample matching its own instant.
    const s = samples(night.startMs, night.endMs, (ts) => Math.abs(factory.levelAt(ts) - 20)).slice(0, 720);
    const t0 = performance.now();
    for (let lamp = 0; lamp < 200; lamp++) {
      const site = { lat: 33.5 + lamp * 0.0005, lon: -7.6 };
      assessLamp(s, expectedTimeline({ calendars: [], overrides: [], site }), site, opts);
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
