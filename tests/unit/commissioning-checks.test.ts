// The pure judgements of commissioning, on fixtures: readings at the interval, a streetlight's power following
// its level (and the test dim), an air-quality sensor that is not stuck, a traffic counter that is consistent.
import { describe, expect, it } from "vitest";
import type { ReadingRow } from "../../services/command/commissioning/checks.ts";
import { plausibility } from "../../services/command/commissioning/plausibility.ts";
import { evaluateReadings, tooFewReadings } from "../../services/command/commissioning/readings.ts";
import {
  evaluateTestDim,
  powerRange,
  testDimNotSeen,
} from "../../services/command/commissioning/streetlight.ts";
import type { DeviceRecord } from "../../services/contract/devices.ts";
import { nominalPowerW } from "../../simulators/models/streetlight.ts";

const T0 = Date.UTC(2026, 2, 1, 21, 0, 0);
const at = (...offsetsS: number[]) => offsetsS.map((s) => ({ time: T0 + s * 1000 }));

function device(kind: DeviceRecord["kind"], extra: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id: "dev-1",
    kind,
    district: "Anfa",
    lat: 33.59,
    lon: -7.65,
    installed_at: "2025-01-01",
    report_interval_s: 10,
    led_watts: kind === "streetlight" ? 90 : null,
    legacy_watts: kind === "streetlight" ? 295 : null,
    status: "connected",
    serial: null,
    credential_generation: 1,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    ...extra,
  };
}

describe("readings", () => {
  it("waits until there are enough", () => {
    expect(evaluateReadings(at(0, 10), 10, 3)).toBeUndefined();
  });
  it("passes gaps within ±50 % of the interval, naming them", () => {
    const r = evaluateReadings(at(20, 0, 9.8, 30, 99), 10, 3);
    expect(r).toMatchObject({ status: "passed", detail: "3 readings, gaps 9.8–10.2 s (expected 10 s)" });
    expect(r?.data?.gaps_s).toEqual([9.8, 10.2]);
  });
  it("fails a gap outside the band, at either end", () => {
    expect(evaluateReadings(at(0, 10, 26), 10, 3)).toMatchObject({
      status: "failed",
      detail: expect.stringContaining("a gap of 16 s is outside 5–15 s; readings were missed"),
    });
    expect(evaluateReadings(at(0, 1, 2), 10, 3)?.detail).toContain("faster than the registered interval");
    expect(evaluateReadings(at(0, 15, 20), 10, 3)?.status).toBe("passed"); // 15 s is still in the band
  });
  it("explains a shortfall with the ingest's rejects", () => {
    const f = tooFewReadings(
      1,
      3,
      70,
      { total: 4, by_reason: { "power_w.out_of_range": 3, not_json: 1 } },
      undefined,
    );
    expect(f.detail).toBe(
      "1 of 3 valid readings stored within 70 s of the run's start; 4 rejected by the ingest (power_w.out_of_range ×3, not_json ×1)",
    );
  });
});

const lamp = (time: number, dim: number, power: number, ok = true): ReadingRow => ({
  time: T0 + time * 1000,
  dim_pct: dim,
  power_w: power,
  lamp_ok: ok,
  energy_wh: 1,
});

describe("streetlight power", () => {
  it("the band holds the simulator's lamp at every level", () => {
    for (const watts of [30, 90, 250]) {
      for (let level = 0; level <= 100; level += 1) {
        const p = nominalPowerW(watts, level);
        const { min, max } = powerRange(watts, level);
        expect(p, `${watts} W at ${level} %`).toBeGreaterThanOrEqual(min);
        expect(p, `${watts} W at ${level} %`).toBeLessThanOrEqual(max);
      }
    }
  });
  it("passes power near the LED wattage times the level, and standby when off", () => {
    const r = plausibility(device("streetlight"), [
      lamp(0, 100, 90.4),
      lamp(10, 100, 89.9),
      lamp(20, 0, 0.5),
    ]);
    expect(r).toMatchObject({ status: "passed" });
    expect(r.detail).toBe(
      "3 readings: 100 % → 89.9–90.4 W (expected 72–119 W), 0 % → 0.5–0.5 W (expected 0–5 W); lamp ok",
    );
  });
  it("fails a lamp whose power does not follow, a failed lamp, and power drawn while off", () => {
    expect(plausibility(device("streetlight"), [lamp(0, 100, 12)]).detail).toMatch(
      /^12 W at 100 % at 21:00:00 \(expected 72–119 W for a 90 W LED\)$/,
    );
    expect(plausibility(device("streetlight"), [lamp(0, 100, 90, false)]).detail).toContain("lamp_ok false");
    expect(plausibility(device("streetlight"), [lamp(0, 0, 40)]).detail).toContain("expected < 5 W when off");
    expect(plausibility(device("streetlight", { led_watts: null }), [lamp(0, 100, 90)]).status).toBe(
      "failed",
    );
  });
  it("test dim: passes on a reading at 30 % with power that follows, waits otherwise", () => {
    expect(evaluateTestDim([lamp(1, 100, 90)], 90)).toBeUndefined();
    expect(evaluateTestDim([lamp(1, 30, 90)], 90)).toBeUndefined(); // level reported but power did not follow
    expect(evaluateTestDim([lamp(1, 100, 90), lamp(11, 30, 30.1)], 90)).toMatchObject({
      status: "passed",
      detail: "reading at 21:00:11: 30 % → 30.1 W (expected 21.6–43.4 W)",
    });
    expect(
      testDimNotSeen([lamp(1, 30, 88), lamp(11, 30, 89)], 90, "no reading within 60 s of the ack").detail,
    ).toBe(
      "no reading within 60 s of the ack showed 30 % with 21.6–43.4 W: the level changed, the power did not follow; seen: 30 % → 88 W, 30 % → 89 W",
    );
    // Three readings after the ack and none right: fail now rather than wait for the override to end.
    expect(evaluateTestDim([lamp(1, 100, 90), lamp(11, 100, 90), lamp(21, 100, 90)], 90)?.detail).toBe(
      "none of the 3 readings after the ack showed 30 % with 21.6–43.4 W: the level did not change; seen: 100 % → 90 W, 100 % → 90 W, 100 % → 90 W",
    );
  });
});

const air = (time: number, pm25: number, pm10: number, no2: number, o3: number): ReadingRow => ({
  time: T0 + time * 1000,
  pm25_ugm3: pm25,
  pm10_ugm3: pm10,
  no2_ugm3: no2,
  o3_ugm3: o3,
  co_mgm3: null,
});

describe("air quality", () => {
  it("passes varying, plausible values", () => {
    const r = plausibility(device("airquality"), [
      air(0, 18.2, 35.1, 40, 30),
      air(10, 18.9, 36, 41.2, 29.5),
      air(20, 19, 36.3, 40.8, 29),
    ]);
    expect(r.status).toBe("passed");
    expect(r.detail).toContain("pm25_ugm3 18.2–19");
    expect(r.detail).toContain("none stuck");
  });
  it("fails a frozen sensor (every pollutant unchanged), a channel stuck over 5 readings", () => {
    const frozen = plausibility(device("airquality"), [air(0, 18, 35, 41.2, 30), air(10, 18, 35, 41.2, 30)]);
    expect(frozen).toMatchObject({
      status: "failed",
      detail: "every pollutant unchanged over 2 readings (a frozen sensor)",
    });
    const five = [0, 1, 2, 3, 4].map((i) => air(i * 10, 18 + i, 35 + i, 41.2, 30 + i));
    expect(plausibility(device("airquality"), five)).toMatchObject({
      status: "failed",
      detail: "no2_ugm3 stuck at 41.2 over 5 readings",
    });
  });
  it("one channel unchanged over 3 readings is mentioned, not failed (coarse channels repeat by chance)", () => {
    const r = plausibility(device("airquality"), [
      air(0, 18, 35, 41.2, 30),
      air(10, 19, 36, 41.2, 31),
      air(20, 20, 37, 41.2, 32),
    ]);
    expect(r).toMatchObject({ status: "passed", data: { unchanged: ["no2_ugm3"] } });
    expect(r.detail).toContain("no2_ugm3 unchanged over 3 readings (watch it)");
  });
  it("fails an implausible level and PM2.5 above PM10", () => {
    expect(plausibility(device("airquality"), [air(0, 900, 950, 40, 30)]).detail).toContain(
      "pm25_ugm3 900 is above a plausible 500",
    );
    expect(plausibility(device("airquality"), [air(0, 60, 30, 40, 30)]).detail).toContain(
      "PM2.5 60 > PM10 30",
    );
  });
});

const count = (
  time: number,
  vehicles: number,
  speed: number,
  occupancy: number,
  period = 10,
): ReadingRow => ({
  time: T0 + time * 1000,
  period_s: period,
  vehicles,
  avg_speed_kmh: speed,
  occupancy_pct: occupancy,
});

describe("traffic", () => {
  it("passes consistent counts, an empty road included", () => {
    const r = plausibility(device("traffic"), [
      count(0, 12, 38.5, 3.1),
      count(10, 0, 0, 0),
      count(20, 18, 44, 4.2),
    ]);
    expect(r).toMatchObject({
      status: "passed",
      detail: "3 readings: 0–18 vehicles per 10 s, 0–44 km/h, occupancy 0–4.2 %",
    });
  });
  it("fails vehicles without speed, occupancy without vehicles, another period and a frozen counter", () => {
    const d = device("traffic");
    expect(plausibility(d, [count(0, 12, 0, 3)]).detail).toBe("12 vehicles at a mean speed of 0 km/h");
    expect(plausibility(d, [count(0, 0, 0, 40)]).detail).toBe("occupancy 40 % with no vehicle counted");
    expect(plausibility(d, [count(0, 5, 40, 1, 60)]).detail).toBe(
      "period_s 60 does not match the report interval 10 s",
    );
    expect(plausibility(d, [count(0, 7, 40, 2), count(10, 7, 40, 2), count(20, 7, 40, 2)]).detail).toContain(
      "a stuck counter",
    );
  });
});
