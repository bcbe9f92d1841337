// Behaviour models of the simulated fleet, driven over simulated days with no I/O (tier 1 of STYLE.md).
import * as SunCalc from "suncalc";
import { describe, expect, it } from "vitest";
import type {
  AirqualityReading,
  StreetlightReading,
  TrafficReading,
} from "../../services/contract/readings.ts";
import { checkMeter, type MeterState, validateReading } from "../../services/contract/validate.ts";
import { DAY_MS, type FaultRates, NO_FAULTS } from "../../simulators/faults.ts";
import { localInstant, localTime } from "../../simulators/localtime.ts";
import { createModel } from "../../simulators/models/index.ts";
import { nominalPowerW, STANDBY_W } from "../../simulators/models/streetlight.ts";
import { planFleet, type SimDevice, type StreetlightDevice } from "../../simulators/plan.ts";

const SEED = "unit-models";
const MONDAY = Date.UTC(2025, 0, 13); // a winter week; Africa/Casablanca is UTC+1

function run<R>(
  device: SimDevice,
  fromMs: number,
  days: number,
  faults: FaultRates = NO_FAULTS,
  seed = SEED,
) {
  const model = createModel(device, { seed, faults });
  const out: R[] = [];
  const step = device.intervalS * 1000;
  for (let t = fromMs + device.phaseMs; t < fromMs + days * DAY_MS; t += step)
    out.push(model.next(t).reading as R);
  return out;
}

function fleet(intervalS: number, counts = { streetlights: 16, airquality: 16, traffic: 16 }) {
  return planFleet({ seed: SEED, intervalS, ...counts });
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
function correlation(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] ?? 0) - mx;
    const dy = (ys[i] ?? 0) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Mean of `value` over readings whose local time matches. */
function meanWhere<R extends { ts: number | string }>(
  rs: R[],
  value: (r: R) => number,
  when: (h: number, wd: number) => boolean,
) {
  return mean(
    rs.filter((r) => when(localTime(Number(r.ts)).hour, localTime(Number(r.ts)).weekday)).map(value),
  );
}

describe("readings of every kind pass the contract's validation", () => {
  const faults: FaultRates = {
    ...NO_FAULTS,
    lampFailurePerDay: 2,
    stuckSensorPerDay: 2,
    offlinePerDay: 0,
    meterResetPerDay: 2,
  };
  for (const [label, start, intervalS, days] of [
    ["winter, 10 min", MONDAY, 600, 14],
    ["Ramadan (UTC+0), 1 min", Date.UTC(2025, 2, 10), 60, 2],
    ["summer, 5 min", Date.UTC(2025, 6, 14), 300, 7],
  ] as const) {
    it(label, () => {
      let count = 0;
      for (const device of fleet(intervalS)) {
        let meter: MeterState | undefined;
        for (const reading of run<Record<string, unknown>>(device, start, days, faults)) {
          const result = validateReading(device.kind, reading, Number(reading.ts));
          if (!result.ok)
            expect.fail(`${device.id} ${JSON.stringify(reading)}: ${result.reason} ${result.detail}`);
          if (device.kind === "streetlight") {
            const sl = reading as StreetlightReading;
            expect(checkMeter(meter, Number(sl.ts), sl.energy_wh, sl.meter_reset)).toBeUndefined();
            meter = { tsMs: Number(sl.ts), energyWh: sl.energy_wh };
          }
          count++;
        }
      }
      expect(count).toBeGreaterThan(30_000);
    });
  }
});

describe("streetlight", () => {
  const lights = fleet(300).filter((d): d is StreetlightDevice => d.kind === "streetlight");

  it("burns from sunset to sunrise at its own position and is off by day (checked against suncalc)", () => {
    for (const device of lights.slice(0, 4)) {
      for (const start of [MONDAY, Date.UTC(2025, 5, 16)]) {
        for (const r of run<StreetlightReading>(device, start, 3)) {
          const ts = Number(r.ts);
          const t = SunCalc.getTimes(new Date(ts), device.lat, device.lon);
          const sunrise = t.sunrise?.getTime() ?? 0;
          const sunset = t.sunset?.getTime() ?? 0;
          const margin = 2 * 60_000;
          if (ts > sunrise + margin && ts < sunset - margin) {
            expect(r.dim_pct, new Date(ts).toISOString()).toBe(0);
            expect(r.power_w).toBeLessThan(1);
          } else if (ts < sunrise - margin || ts > sunset + margin) {
            expect(r.dim_pct, new Date(ts).toISOString()).toBeGreaterThan(0);
            expect(r.power_w).toBeGreaterThan(0.4 * device.ledWatts);
          }
        }
      }
    }
  });

  it("dims to 50 % from midnight to 05:00 local time, 100 % otherwise at night", () => {
    const device = lights[0] as StreetlightDevice;
    const model = createModel(device, { seed: SEED, faults: NO_FAULTS });
    // Winter (UTC+1), Ramadan (UTC+0) and summer nights.
    for (const date of ["2025-01-14", "2025-03-12", "2025-07-15"]) {
      const at = (h: number, m = 0) => model.next(localInstant(date, h, m)).reading as StreetlightReading;
      expect(at(0, 30).dim_pct).toBe(50);
      expect(at(4, 50).dim_pct).toBe(50);
      expect(at(5, 10).dim_pct).toBe(100);
      expect(at(13).dim_pct).toBe(0);
      expect(at(22).dim_pct).toBe(100);
      expect(at(23, 59).dim_pct).toBe(100);
    }
  });

  it("draws power in proportion to the dim level", () => {
    for (const device of lights) {
      for (const r of run<StreetlightReading>(device, MONDAY, 2)) {
        const expected = nominalPowerW(device.ledWatts, r.dim_pct);
        expect(Math.abs(r.power_w - expected)).toBeLessThan(Math.max(0.1, 0.05 * expected));
      }
    }
    const dimmed = nominalPowerW(100, 50);
    expect(dimmed).toBeGreaterThan(50);
    expect(dimmed).toBeLessThan(56);
    expect(nominalPowerW(100, 0)).toBe(STANDBY_W);
  });

  it("meters the power it draws and never runs backwards except with meter_reset", () => {
    const faults = { ...NO_FAULTS, meterResetPerDay: 3 };
    let resets = 0;
    for (const device of lights) {
      const model = createModel(device, { seed: SEED, faults });
      let prev: { r: StreetlightReading; ts: number } | undefined;
      for (let t = MONDAY + device.phaseMs; t < MONDAY + 3 * DAY_MS; t += 300_000) {
        const { reading, energyWh } = model.next(t);
        const r = reading as StreetlightReading;
        if (prev) expect(energyWh).toBeCloseTo((prev.r.power_w * (t - prev.ts)) / 3_600_000, 1);
        if (r.meter_reset) resets++;
        else if (prev) {
          expect(r.energy_wh).toBeGreaterThanOrEqual(prev.r.energy_wh);
          expect(r.energy_wh - prev.r.energy_wh).toBeCloseTo(energyWh, 1);
        }
        prev = { r, ts: t };
      }
    }
    // The first reading of a run carries meter_reset (a restarted controller counts from zero), and some more.
    expect(resets).toBeGreaterThan(lights.length);
  });

  it("a failed lamp reports lamp_ok false and draws almost nothing while it should burn", () => {
    const faults = { ...NO_FAULTS, lampFailurePerDay: 1 };
    const failedAtNight = lights.flatMap((d) =>
      run<StreetlightReading>(d, MONDAY, 7, faults).filter((r) => !r.lamp_ok && r.dim_pct > 0),
    );
    expect(failedAtNight.length).toBeGreaterThan(0);
    for (const r of failedAtNight) expect(r.power_w).toBeLessThan(1);
  });
});

describe("traffic counter", () => {
  const counters = fleet(300).filter((d) => d.kind === "traffic");
  const readings = counters.flatMap((d) => run<TrafficReading>(d, MONDAY, 14));
  const vehicles = (r: TrafficReading) => r.vehicles;

  it("has morning and evening peaks far above the night", () => {
    const night = meanWhere(readings, vehicles, (h, wd) => wd >= 1 && wd <= 4 && h >= 2 && h < 4);
    const morning = meanWhere(readings, vehicles, (h, wd) => wd >= 1 && wd <= 4 && h >= 7.5 && h < 9);
    const evening = meanWhere(readings, vehicles, (h, wd) => wd >= 1 && wd <= 4 && h >= 17.5 && h < 19);
    expect(morning).toBeGreaterThan(5 * night);
    expect(evening).toBeGreaterThan(5 * night);
  });

  it("dips on Friday during the midday prayer", () => {
    const at = (weekday: number) =>
      meanWhere(readings, vehicles, (h, wd) => wd === weekday && h >= 13 && h < 14);
    expect(at(5)).toBeLessThan(0.7 * at(4));
  });

  it("has a quieter weekend morning", () => {
    const weekday = meanWhere(readings, vehicles, (h, wd) => wd >= 1 && wd <= 5 && h >= 7.5 && h < 9);
    const weekend = meanWhere(readings, vehicles, (h, wd) => (wd === 0 || wd === 6) && h >= 7.5 && h < 9);
    expect(weekend).toBeLessThan(0.6 * weekday);
  });

  it("slows down as occupancy rises, and classes never exceed the total", () => {
    const moving = readings.filter((r) => r.vehicles > 0);
    expect(
      correlation(
        moving.map((r) => r.occupancy_pct),
        moving.map((r) => r.avg_speed_kmh),
      ),
    ).toBeLessThan(-0.5);
    for (const r of readings) {
      const byClass =
        (r.cars ?? 0) + (r.trucks ?? 0) + (r.buses ?? 0) + (r.motorcycles ?? 0) + (r.bicycles ?? 0);
      expect(byClass).toBeLessThanOrEqual(r.vehicles);
    }
  });
});

describe("air-quality station", () => {
  const stations = fleet(600).filter((d) => d.kind === "airquality");
  const readings = stations.flatMap((d) => run<AirqualityReading>(d, MONDAY, 14));
  const weekday = (h0: number, h1: number) => (h: number, wd: number) =>
    wd >= 1 && wd <= 5 && h >= h0 && h < h1;

  it("PM and NO2 rise with the traffic", () => {
    const pmNight = meanWhere(readings, (r) => r.pm25_ugm3, weekday(2, 5));
    const pmRush = meanWhere(readings, (r) => r.pm25_ugm3, weekday(8, 10));
    expect(pmRush).toBeGreaterThan(1.4 * pmNight);
    expect(meanWhere(readings, (r) => r.no2_ugm3, weekday(8, 10))).toBeGreaterThan(
      2 * meanWhere(readings, (r) => r.no2_ugm3, weekday(2, 5)),
    );
  });

  it("has plausible Casablanca levels", () => {
    const pm25 = mean(readings.map((r) => r.pm25_ugm3));
    expect(pm25).toBeGreaterThan(10);
    expect(pm25).toBeLessThan(40);
    for (const r of readings) expect(r.pm10_ugm3).toBeGreaterThan(r.pm25_ugm3);
  });

  it("O3 peaks in the afternoon sun and moves against NO2", () => {
    const o3Afternoon = meanWhere(
      readings,
      (r) => r.o3_ugm3,
      (h) => h >= 14 && h < 17,
    );
    const o3Night = meanWhere(
      readings,
      (r) => r.o3_ugm3,
      (h) => h >= 2 && h < 5,
    );
    expect(o3Afternoon).toBeGreaterThan(1.5 * o3Night);
    // Titration (NO + O3 → NO2): with the sun out of the picture (at night), more NO2 means less O3.
    const night = readings.filter((r) => {
      const h = localTime(Number(r.ts)).hour;
      return h >= 21 || h < 6;
    });
    expect(
      correlation(
        night.map((r) => r.o3_ugm3),
        night.map((r) => r.no2_ugm3),
      ),
    ).toBeLessThan(-0.5);
  });

  it("is humid at night from the sea, drier in the afternoon", () => {
    const night = meanWhere(
      readings,
      (r) => r.rh_pct ?? 0,
      (h) => h >= 2 && h < 5,
    );
    const afternoon = meanWhere(
      readings,
      (r) => r.rh_pct ?? 0,
      (h) => h >= 13 && h < 16,
    );
    expect(night).toBeGreaterThan(afternoon + 10);
  });

  it("a stuck sensor repeats its values; a healthy one does not", () => {
    const values = (r: AirqualityReading) => JSON.stringify({ ...r, ts: 0, seq: 0 });
    const repeats = (rs: AirqualityReading[]) =>
      rs.filter((r, i) => i > 0 && values(r) === values(rs[i - 1] as AirqualityReading)).length;
    const station = stations[0] as SimDevice;
    expect(repeats(run<AirqualityReading>(station, MONDAY, 7))).toBe(0);
    expect(
      repeats(run<AirqualityReading>(station, MONDAY, 7, { ...NO_FAULTS, stuckSensorPerDay: 2 })),
    ).toBeGreaterThan(5);
  });
});

describe("determinism", () => {
  it("replays the same readings from the same seed, different ones from another", () => {
    for (const device of fleet(600, { streetlights: 2, airquality: 2, traffic: 2 })) {
      const faults = { ...NO_FAULTS, lampFailurePerDay: 1, stuckSensorPerDay: 1, meterResetPerDay: 1 };
      const a = JSON.stringify(run(device, MONDAY, 2, faults));
      expect(JSON.stringify(run(device, MONDAY, 2, faults))).toBe(a);
      expect(JSON.stringify(run(device, MONDAY, 2, faults, "another seed"))).not.toBe(a);
    }
  });
});
