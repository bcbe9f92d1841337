// The simulator's truth for the energy audit (issue 5): dark hours counted from the sun's altitude, energy and
// burning hours per local day over every generated interval, the backfill on its own grid, lost readings, the
// truth file and the true savings figures. Pure parts with fixed numbers; the runtime on a fake clock with the
// in-memory broker (simulators/memory-link.ts).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as SunCalc from "suncalc";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../services/lib/log.ts";
import { localInstant } from "../../services/schedule/zone.ts";
import { createFakeClock } from "../../simulators/clock.ts";
import { simulatorConfigSchema } from "../../simulators/config.ts";
import { createDarknessMeter } from "../../simulators/darkness.ts";
import { NO_FAULTS } from "../../simulators/faults.ts";
import { createFleet } from "../../simulators/fleet.ts";
import { createMemoryBroker } from "../../simulators/memory-link.ts";
import { createDayLedger } from "../../simulators/truth-days.ts";
import { truthFileSchema } from "../../simulators/truth-figures.ts";
import { simDevice } from "./sim-harness.ts";

const CASA = { lat: 33.59, lon: -7.65 };
const H = 3_600_000;

describe("dark hours from the sun's altitude", () => {
  it("skipping far-from-horizon samples changes nothing", () => {
    const fast = createDarknessMeter(CASA);
    const slow = createDarknessMeter(CASA, { skip: false });
    for (const day of ["2025-01-15", "2025-03-20", "2025-06-21", "2026-10-25"]) {
      const from = localInstant(day, "00:00");
      expect(fast.darkSeconds(from, from + 24 * H)).toBeCloseTo(slow.darkSeconds(from, from + 24 * H), 6);
      // Part of a day, starting and ending off the 5-minute grid.
      expect(fast.darkSeconds(from + 123_456, from + 19 * H + 7)).toBeCloseTo(
        slow.darkSeconds(from + 123_456, from + 19 * H + 7),
        6,
      );
    }
  });

  it("agrees with suncalc's sunset and sunrise to within seconds a night", () => {
    const meter = createDarknessMeter(CASA);
    for (const day of ["2025-01-15", "2025-06-21", "2025-09-22", "2025-12-21"]) {
      const noon = Date.parse(`${day}T12:00:00Z`);
      const sunset = SunCalc.getTimes(new Date(noon), CASA.lat, CASA.lon).sunset?.getTime() ?? 0;
      const sunrise = SunCalc.getTimes(new Date(noon + 24 * H), CASA.lat, CASA.lon).sunrise?.getTime() ?? 0;
      // From solar noon to the next solar noon the dark time is exactly sunset → sunrise.
      const dark = meter.darkSeconds(noon, noon + 24 * H);
      // Measured: under 0.5 s (linear interpolation over 5 minutes of a nearly linear altitude).
      expect(Math.abs(dark - (sunrise - sunset) / 1000)).toBeLessThan(5);
    }
  });

  it("gives Casablanca about 14 h of night in December and 10 h in June", () => {
    const meter = createDarknessMeter(CASA);
    const day = (d: string) =>
      meter.darkSeconds(localInstant(d, "00:00"), localInstant(d, "00:00") + 24 * H) / 3600;
    expect(day("2025-12-21")).toBeGreaterThan(13.6);
    expect(day("2025-12-21")).toBeLessThan(14.4);
    expect(day("2025-06-21")).toBeGreaterThan(9.6);
    expect(day("2025-06-21")).toBeLessThan(10.4);
  });

  it("names the bad field", () => {
    expect(() => createDarknessMeter({ lat: 95, lon: 0 })).toThrow(/site.lat/);
    expect(() => createDarknessMeter(CASA).darkSeconds(Number.NaN, 0)).toThrow(/fromMs/);
  });
});

describe("a lamp's days", () => {
  it("splits an interval across local midnight in proportion to time (UTC+1 in January 2025)", () => {
    const ledger = createDayLedger();
    // Local midnight of 2025-01-15 is 2025-01-14T23:00Z. 22:30Z → 23:30Z: 30 min either side.
    const midnight = Date.parse("2025-01-14T23:00:00Z");
    expect(localInstant("2025-01-15", "00:00")).toBe(midnight);
    ledger.add(midnight - 30 * 60_000, midnight + 30 * 60_000, 100, 3600);
    // 23:30Z → 23:45Z: all on the 15th.
    ledger.add(midnight + 30 * 60_000, midnight + 45 * 60_000, 12, 0);
    expect(ledger.days()).toEqual({
      "2025-01-14": { energy_wh: 50, burn_h: 0.5, covered_h: 0.5 },
      "2025-01-15": { energy_wh: 62, burn_h: 0.5, covered_h: 0.75 },
    });
    expect(ledger.span()).toEqual({ fromMs: midnight - 30 * 60_000, toMs: midnight + 45 * 60_000 });
  });
});

describe("the device's truth", () => {
  async function connected(opts: Parameters<typeof simDevice>[0]) {
    const s = simDevice(opts);
    const c = s.runtime.connect(1000);
    await s.clock.advance(0);
    await c;
    const readings = () =>
      s.broker.sent
        .filter((m) => m.topic.endsWith("/telemetry"))
        .flatMap(
          (m) =>
            [JSON.parse(m.payload)].flat() as {
              ts: number;
              seq: number;
              energy_wh: number;
              meter_reset?: boolean;
            }[],
        );
    return { ...s, readings };
  }

  it("backfills on its own grid, then goes on live on the device's, the meter unbroken", async () => {
    const start = Date.UTC(2025, 0, 20, 12);
    const { runtime, clock, device, readings } = await connected({
      seed: "truth",
      kind: "streetlight",
      startMs: start,
      idPrefix: "u",
      intervalS: 10,
    });
    await runtime.backfill(start - 2 * 86_400_000, start, 900);
    const history = readings();
    expect(history).toHaveLength(192);
    const phase = history[0]?.ts ?? 0;
    for (const [i, r] of history.entries()) expect(r.ts).toBe(phase + i * 900_000);
    runtime.startLive();
    await clock.advance(60_000);
    const live = readings().slice(history.length);
    expect(live.length).toBeGreaterThanOrEqual(5);
    for (const r of live) expect((r.ts - device.phaseMs) % 10_000).toBe(0);
    expect((live[0]?.ts ?? 0) - (history.at(-1)?.ts ?? 0)).toBeLessThanOrEqual(910_000);
    // One meter from the first reading on: only the first restarts it, and it never goes back.
    const all = readings();
    expect(all.filter((r) => r.meter_reset).map((r) => r.seq)).toEqual([0]);
    for (let i = 1; i < all.length; i++)
      expect(all[i]?.energy_wh).toBeGreaterThanOrEqual(all[i - 1]?.energy_wh ?? 0);
    // The per-day truth adds up to the meter (nothing lost), and covers the generated span.
    const t = runtime.truth();
    const days = Object.values(t.days ?? {});
    const sumWh = days.reduce((s, d) => s + d.energy_wh, 0);
    expect(sumWh).toBeCloseTo(all.at(-1)?.energy_wh ?? 0, 1);
    expect(sumWh).toBeCloseTo(t.energy_wh ?? 0, 1);
    const covered = days.reduce((s, d) => s + d.covered_h, 0);
    expect(covered * H).toBeCloseTo((all.at(-1)?.ts ?? 0) - (all[0]?.ts ?? 0), -2);
  });

  it("loses readings under the loss fault: counted as lost, their energy still in the day truth", async () => {
    const start = Date.UTC(2025, 0, 20, 12);
    const { runtime, readings } = await connected({
      seed: "truth",
      kind: "streetlight",
      startMs: start,
      idPrefix: "l",
      intervalS: 900,
      faults: { ...NO_FAULTS, readingLossPerDay: 3, meterResetPerDay: 4 },
    });
    await runtime.backfill(start - 10 * 86_400_000, start);
    const sent = readings();
    const t = runtime.truth();
    expect(t.lost).toBeGreaterThan(0);
    expect(sent.length + t.lost).toBe(t.generated);
    // A seq gap where readings were lost; the meter never runs backwards without saying so.
    expect(sent.some((r, i) => i > 0 && r.seq - (sent[i - 1]?.seq ?? 0) > 1)).toBe(true);
    for (let i = 1; i < sent.length; i++)
      if (!sent[i]?.meter_reset)
        expect(sent[i]?.energy_wh).toBeGreaterThanOrEqual(sent[i - 1]?.energy_wh ?? 0);
    // The physical truth counts every generated interval; the delivered energy misses what lost resets took.
    const dayWh = Object.values(t.days ?? {}).reduce((s, d) => s + d.energy_wh, 0);
    expect(dayWh).toBeGreaterThan(0);
    expect(t.energy_wh ?? 0).toBeLessThan(dayWh);
  });
});

describe("the fleet's truth file", () => {
  it("records the backfill, and every streetlight day's dark hours when written", async () => {
    const start = Date.UTC(2025, 0, 20, 12);
    const config = simulatorConfigSchema.parse({
      fleet: { seed: "file", streetlights: 3, airquality: 1, traffic: 0, intervalS: 10, idPrefix: "f" },
      backfill: { intervalS: 1800 },
      faults: NO_FAULTS,
      registry: { register: false },
    });
    const broker = createMemoryBroker();
    const clock = createFakeClock(start);
    const fleet = createFleet({ config, log: silentLogger(), clock, link: broker.factory });
    const connecting = fleet.connect();
    await clock.advance(0);
    await connecting;
    const summary = await fleet.backfill(3);
    expect(summary).toMatchObject({ devices: 4, intervalS: 1800, readings: 4 * 144 });
    const file = join(mkdtempSync(join(tmpdir(), "sim-truth-")), "truth.json");
    await fleet.writeTruth(file, "backfill");
    const parsed = truthFileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
    expect(parsed).toMatchObject({
      phase: "backfill",
      backfill: { from_ts: start - 3 * 86_400_000, to_ts: start, interval_s: 1800, completed: true },
    });
    const lamps = parsed.devices.filter((d) => d.kind === "streetlight");
    expect(lamps).toHaveLength(3);
    for (const lamp of lamps) {
      const days = Object.entries(lamp.days ?? {});
      expect(days.map(([d]) => d)).toEqual(["2025-01-17", "2025-01-18", "2025-01-19", "2025-01-20"]);
      // Whole days inside the span: a January night at Casablanca, about 13.5 h.
      for (const [, d] of days.slice(1, 3)) {
        expect(d.covered_h).toBeCloseTo(24, 5);
        expect(d.dark_h).toBeGreaterThan(13);
        expect(d.dark_h).toBeLessThan(14);
        // The lamp burns about the night (its readings every 30 min switch it late by up to one step).
        expect(Math.abs(d.burn_h - d.dark_h)).toBeLessThan(1);
      }
    }
    expect(parsed.devices.find((d) => d.kind === "airquality")?.days).toBeUndefined();
  });
});
