// A traffic counter at a junction: counts vehicles over its report interval (period_s ends at ts), with
// the diurnal and weekly profile, Poisson noise, mean speed falling as the road fills (a Greenshields-like
// speed–flow curve) and occupancy = flow × effective vehicle length / speed. Class counts never exceed the total.
import { MAX_VEHICLES_PER_SECOND } from "../../services/contract/readings.ts";
import { localTime } from "../localtime.ts";
import type { TrafficDevice } from "../plan.ts";
import { clamp, normal, poisson, type Rng, rngFor, round } from "../prng.ts";
import { DISTRICT_PROFILES, trafficIntensity } from "../profiles.ts";
import type { DeviceModel, ModelOptions } from "./model.ts";

/** Saturation flow of an urban lane, vehicles per hour. */
const LANE_CAPACITY_VPH = 1800;
/** Vehicle length plus detection zone, metres. */
const EFFECTIVE_LENGTH_M = 6.5;

/** Mean speed for a flow of `vphPerLane` on a road with free-flow speed `freeFlowKmh`. */
export function speedKmh(freeFlowKmh: number, vphPerLane: number): number {
  const x = clamp(vphPerLane / LANE_CAPACITY_VPH, 0, 1.2);
  return Math.max(5, freeFlowKmh * (1 - 0.85 * x ** 1.8));
}

/** Draws a class count (binomial, normal approximation) without exceeding what is left. */
function classCount(rng: Rng, total: number, share: number, left: number): number {
  const mean = total * share;
  const n = Math.round(normal(rng, mean, Math.sqrt(mean * (1 - share))));
  return clamp(n, 0, left);
}

export function createTrafficModel(device: TrafficDevice, opts: ModelOptions): DeviceModel {
  const noise = rngFor(opts.seed, device.id, "noise");
  const profile = DISTRICT_PROFILES[device.district];
  let seq = 0;

  return {
    next(ts) {
      const periodS = clamp(Math.round(device.intervalS), 1, 3600);
      // The profile at the middle of the counting period.
      const intensity = trafficIntensity(localTime(ts - (periodS * 1000) / 2));
      const mean = (device.peakVph * intensity * periodS) / 3600;
      const vehicles = Math.min(poisson(noise, mean), periodS * MAX_VEHICLES_PER_SECOND);
      const vphPerLane = (vehicles * 3600) / periodS / device.lanes;
      const speed = clamp(speedKmh(device.freeFlowKmh, vphPerLane) + normal(noise, 0, 2), 3, 130);
      const flowPerLane = vphPerLane / 3600;
      const occupancy = clamp((100 * flowPerLane * EFFECTIVE_LENGTH_M) / (speed / 3.6), 0, 100);
      let left = vehicles;
      const take = (share: number) => {
        const n = classCount(noise, vehicles, share, left);
        left -= n;
        return n;
      };
      const trucks = take(profile.trucks);
      const buses = take(0.025);
      const motorcycles = take(0.12);
      const bicycles = take(0.015);
      // About 3 % of vehicles are not classified (too close together, odd shapes).
      const cars = take(1 - profile.trucks - 0.025 - 0.12 - 0.015 - 0.03);
      const reading = {
        ts,
        seq: seq++,
        period_s: periodS,
        vehicles,
        avg_speed_kmh: vehicles > 0 ? round(speed, 1) : 0,
        occupancy_pct: round(occupancy, 1),
        cars,
        trucks,
        buses,
        motorcycles,
        bicycles,
      };
      return { reading, energyWh: 0, burnS: 0 };
    },
  };
}
