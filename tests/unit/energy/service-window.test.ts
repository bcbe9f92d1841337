// In-service lamp-hours (services/energy/service-window.ts): installed_at local midnight → decommissioned or now,
// per lamp and per local day, on the 25-hour day of 15 February 2026 (Casablanca 03:00 → 02:00, UTC+1 → UTC+0).
import { describe, expect, it } from "vitest";
import { dayStart } from "../../../services/energy/days.ts";
import { periodDays } from "../../../services/energy/period.ts";
import {
  type Interval,
  installedAtMs,
  missingSeconds,
  serviceByDay,
  serviceWindow,
  windowSecondsByDay,
} from "../../../services/energy/service-window.ts";

// 14 Feb (24 h, from 13 Feb 23:00 UTC), 15 Feb (25 h, from 14 Feb 23:00 UTC), 16 Feb (24 h, from 16 Feb 00:00 UTC).
const DAYS = periodDays("2026-02-14", "2026-02-16");
const PERIOD = { startMs: dayStart("2026-02-14"), endMs: dayStart("2026-02-17") };
// Monday 16 February, 06:00 local (UTC+0 during Ramadan).
const NOW = Date.parse("2026-02-16T06:00:00Z");

const A = { installedAt: "2025-01-01", decommissionedAtMs: null };
// Installed on the 25-hour day: from its local midnight, 2026-02-14T23:00Z.
const B = { installedAt: "2026-02-15", decommissionedAtMs: null };
// Decommissioned on 15 February at 12:00 local (= UTC then): 13 h into that day.
const C = { installedAt: "2024-06-01", decommissionedAtMs: Date.parse("2026-02-15T12:00:00Z") };
// Installed after the period.
const D = { installedAt: "2026-03-01", decommissionedAtMs: null };

describe("serviceWindow", () => {
  it("clips to installation, decommissioning, the period and now", () => {
    const hours = (w: Interval | null) => (w ? (w.endMs - w.startMs) / 3_600_000 : null);
    // A: 24 + 25 + 6 (now) = 55 h. B: 25 + 6 = 31 h. C: 24 + 13 = 37 h. D: none.
    expect([A, B, C, D].map((l) => hours(serviceWindow(l, PERIOD, NOW)))).toEqual([55, 31, 37, null]);
    expect(serviceWindow(B, PERIOD, NOW)?.startMs).toBe(Date.parse("2026-02-14T23:00:00Z"));
  });

  it("reads installed_at as a local date or an ISO instant; garbage never counts", () => {
    expect(installedAtMs("2026-10-01")).toBe(Date.parse("2026-10-01T00:00:00Z"));
    expect(installedAtMs("2026-07-01")).toBe(Date.parse("2026-06-30T23:00:00Z"));
    expect(installedAtMs("2026-07-01T10:00:00Z")).toBe(Date.parse("2026-07-01T10:00:00Z"));
    expect(serviceWindow({ installedAt: "soon", decommissionedAtMs: null }, PERIOD, NOW)).toBeNull();
  });
});

describe("serviceByDay", () => {
  it("lamps and lamp-seconds per day, by hand", () => {
    const windows = [A, B, C, D].flatMap((l) => serviceWindow(l, PERIOD, NOW) ?? []);
    // 14th: A and C whole (2 × 86,400). 15th: A and B whole (2 × 90,000) + C 13 h (46,800) = 226,800.
    // 16th: A and B until 06:00 (2 × 21,600).
    expect(serviceByDay(windows, DAYS)).toEqual([
      { date: "2026-02-14", lamps: 2, seconds: 172_800 },
      { date: "2026-02-15", lamps: 3, seconds: 226_800 },
      { date: "2026-02-16", lamps: 2, seconds: 43_200 },
    ]);
  });

  it("agrees with lamp-by-lamp sums on random windows", () => {
    const days = periodDays("2026-02-01", "2026-03-31");
    const start = days[0]?.startMs as number;
    const end = days.at(-1)?.endMs as number;
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const windows: Interval[] = Array.from({ length: 300 }, () => {
      const a = start + Math.floor(rand() * (end - start));
      const b = a + Math.floor(rand() * (end - a)) + 1;
      return { startMs: a, endMs: Math.min(b, end) };
    });
    const expected = new Map(days.map((d) => [d.date, { lamps: 0, seconds: 0 }]));
    for (const w of windows)
      for (const [date, s] of windowSecondsByDay(w, days)) {
        const e = expected.get(date) as { lamps: number; seconds: number };
        e.lamps++;
        e.seconds += s;
      }
    for (const d of serviceByDay(windows, days)) {
      const e = expected.get(d.date) as { lamps: number; seconds: number };
      expect(d.lamps, d.date).toBe(e.lamps);
      expect(d.seconds, d.date).toBeCloseTo(e.seconds, 3);
    }
  });

  it("no days, no windows", () => {
    expect(serviceByDay([], [])).toEqual([]);
    expect(serviceByDay([], DAYS).map((d) => d.lamps)).toEqual([0, 0, 0]);
  });
});

describe("missingSeconds", () => {
  it("in service minus covered, never below zero", () => {
    expect(missingSeconds(86_400, 50_000, 6_400)).toBe(30_000);
    expect(missingSeconds(3_600, 3_000, 1_000)).toBe(0);
  });
});
