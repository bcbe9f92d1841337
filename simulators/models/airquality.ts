// An air-quality station: PM2.5, PM10, NO2 and CO follow the district's traffic (same diurnal curve as the
// counters) with a lag of about 40 minutes, on top of an urban background that drifts from day to day with the
// air mass; O3 builds up under the afternoon sun and is titrated by NO2, so the two move against each other.
// Levels are plausible for Casablanca (PM2.5 ≈ 10–40 µg/m³). A stuck sensor repeats its last values.
import { episode, FAULT_DURATIONS } from "../faults.ts";
import { localTime } from "../localtime.ts";
import type { AirqualityDevice } from "../plan.ts";
import { clamp, normal, rngFor, round } from "../prng.ts";
import { ambientTempC, DISTRICT_PROFILES, relativeHumidityPct, trafficIntensity } from "../profiles.ts";
import { createSunTracker } from "../sun.ts";
import type { DeviceModel, ModelOptions } from "./model.ts";
import { smoothing } from "./model.ts";

const MINUTE_MS = 60_000;
/** Time constant of the concentrations following their sources. */
const TAU_MS = 40 * MINUTE_MS;
/** Time constant of the air mass (synoptic weather) changing the background. */
const AIRMASS_TAU_MS = 24 * 60 * MINUTE_MS;
/** Photochemistry lags the sun by a couple of hours: ozone peaks mid-afternoon. */
const O3_LAG_MS = 120 * MINUTE_MS;

type Levels = { pm25: number; pm10: number; no2: number; o3: number; co: number };

export function createAirqualityModel(device: AirqualityDevice, opts: ModelOptions): DeviceModel {
  const noise = rngFor(opts.seed, device.id, "noise");
  const faults = rngFor(opts.seed, device.id, "faults");
  const stuck = episode(faults, opts.faults.stuckSensorPerDay, FAULT_DURATIONS.stuckSensor);
  const profile = DISTRICT_PROFILES[device.district];
  const sun = createSunTracker(device);
  const siteFactor = clamp(normal(noise, 1, 0.1), 0.75, 1.25);
  const tempOffset = normal(noise, 0, 0.7);
  let airmass = normal(noise, 0, 0.25);
  let levels: Levels | undefined;
  let last: Record<string, number> | undefined;
  let prevTs: number | undefined;
  let seq = 0;

  const targets = (ts: number, traffic: number): Levels => {
    const background = profile.pm25Background * Math.exp(airmass);
    const pm25 = background + 20 * traffic * siteFactor;
    const no2 = 8 * Math.exp(airmass) + 55 * traffic * siteFactor;
    const sunFactor = Math.max(0, Math.sin((sun.altitude(ts - O3_LAG_MS) * Math.PI) / 180));
    return {
      pm25,
      pm10: pm25 * 1.7 + 12 * profile.coast,
      no2,
      o3: Math.max(3, 35 + 75 * sunFactor - 0.6 * no2),
      co: 0.25 + 0.9 * traffic,
    };
  };

  return {
    next(ts) {
      const dtMs = prevTs === undefined ? 0 : Math.max(0, ts - prevTs);
      const decay = Math.exp(-dtMs / AIRMASS_TAU_MS);
      airmass = airmass * decay + normal(noise, 0, 0.25 * Math.sqrt(1 - decay * decay));
      const lt = localTime(ts);
      const traffic = trafficIntensity(lt) * profile.traffic;
      const target = targets(ts, traffic);
      const a = levels ? smoothing(dtMs, TAU_MS) : 1;
      const cur: Levels = levels ?? target;
      levels = {
        pm25: cur.pm25 + a * (target.pm25 - cur.pm25),
        pm10: cur.pm10 + a * (target.pm10 - cur.pm10),
        no2: cur.no2 + a * (target.no2 - cur.no2),
        o3: cur.o3 + a * (target.o3 - cur.o3),
        co: cur.co + a * (target.co - cur.co),
      };
      const jitter = (v: number, sd: number, max: number) =>
        round(clamp(v * (1 + normal(noise, 0, sd)), 0, max), 1);
      const measured = {
        pm25_ugm3: jitter(levels.pm25, 0.06, 1000),
        pm10_ugm3: jitter(levels.pm10, 0.06, 2000),
        no2_ugm3: jitter(levels.no2, 0.05, 2000),
        o3_ugm3: jitter(levels.o3, 0.05, 1000),
        co_mgm3: round(clamp(levels.co * (1 + normal(noise, 0, 0.05)), 0, 200), 2),
        temp_c: round(ambientTempC(lt) + tempOffset + normal(noise, 0, 0.2), 1),
        rh_pct: round(clamp(relativeHumidityPct(lt, profile.coast) + normal(noise, 0, 1.5), 5, 100), 1),
      };
      // A stuck sensor keeps reporting its last good values (a frozen ADC or a hung firmware task).
      const values = stuck.at(ts, dtMs) && last ? last : measured;
      last = values;
      prevTs = ts;
      return { reading: { ts, seq: seq++, ...(values as typeof measured) }, energyWh: 0, burnS: 0 };
    },
  };
}
