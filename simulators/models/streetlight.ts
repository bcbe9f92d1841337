// A connected LED streetlight: burns from sunset to sunrise at its own position under its dimming program,
// draws about its rated watts times the level (plus a driver's fixed loss and a controller's standby), and
// integrates the power into a cumulative energy meter. The first reading after a (re)start carries
// meter_reset: true — a restarted controller counts from zero, and the contract says so explicitly.
import { chance, episode, FAULT_DURATIONS } from "../faults.ts";
import { localTime } from "../localtime.ts";
import type { StreetlightDevice } from "../plan.ts";
import { clamp, normal, rngFor, round } from "../prng.ts";
import { ambientTempC } from "../profiles.ts";
import { DEFAULT_PROGRAM, type DimmingProgram } from "../program.ts";
import { createSunTracker } from "../sun.ts";
import type { DeviceModel, ModelOptions } from "./model.ts";

/** Controller and driver standby draw when the lamp is off, W. */
export const STANDBY_W = 0.5;
/** Share of rated power a driver draws at any non-zero level (its losses do not dim). */
const DRIVER_FLOOR = 0.04;
const NOMINAL_V = 230;

/** Power drawn at a level (0–100 %) by a luminaire of `ledWatts`, without noise. */
export function nominalPowerW(ledWatts: number, levelPct: number): number {
  if (levelPct <= 0) return STANDBY_W;
  return STANDBY_W + ledWatts * (DRIVER_FLOOR + (1 - DRIVER_FLOOR) * (levelPct / 100));
}

export function createStreetlightModel(device: StreetlightDevice, opts: ModelOptions): DeviceModel {
  const noise = rngFor(opts.seed, device.id, "noise");
  const faults = rngFor(opts.seed, device.id, "faults");
  const lampFailure = episode(faults, opts.faults.lampFailurePerDay, FAULT_DURATIONS.lampFailure);
  const sun = createSunTracker(device);
  const tempOffset = normal(noise, 0, 1);
  let program: DimmingProgram = opts.program ?? DEFAULT_PROGRAM;
  let seq = 0;
  let prevTs: number | undefined;
  let prevPowerW = STANDBY_W;
  let prevBurning = false;
  let meterWh = 0;
  let voltage = NOMINAL_V + normal(noise, 0, 2);

  return {
    setProgram(p) {
      program = p;
    },
    next(ts) {
      const dtMs = prevTs === undefined ? 0 : Math.max(0, ts - prevTs);
      // The power in effect since the previous reading was drawn for dt (a left Riemann sum); the truth file
      // adds the same increments, so meter and truth agree to the rounding of the reported value.
      const drawnWh = (prevPowerW * dtMs) / 3_600_000;
      const burnS = prevBurning ? dtMs / 1000 : 0;
      const meterReset = seq === 0 || chance(faults, opts.faults.meterResetPerDay, dtMs);
      meterWh = meterReset ? drawnWh : meterWh + drawnWh;

      const level = clamp(program.levelAt(ts, { sun }), 0, 100);
      const failed = lampFailure.at(ts, dtMs);
      const burning = level > 0 && !failed;
      const powerW = burning
        ? nominalPowerW(device.ledWatts, level) * (1 + normal(noise, 0, 0.01))
        : STANDBY_W + normal(noise, 0, 0.02);
      // Supply voltage wanders slowly around 230 V (AR(1)), and sags a little under the evening load.
      voltage = NOMINAL_V + 0.97 * (voltage - NOMINAL_V) + normal(noise, 0, 0.5) - (burning ? 0.05 : 0);
      const powerFactor = burning ? 0.96 - 0.12 * (1 - level / 100) : 0.3;
      const ambient = ambientTempC(localTime(ts)) + tempOffset;
      const tempC = ambient + (burning ? 20 * (powerW / device.ledWatts) : 1) + normal(noise, 0, 0.3);

      const reading = {
        ts,
        seq,
        power_w: round(Math.max(0, powerW)),
        energy_wh: round(meterWh),
        dim_pct: level,
        lamp_ok: !failed,
        voltage_v: round(clamp(voltage, 190, 260), 1),
        current_a: round(Math.max(0, powerW) / (voltage * powerFactor), 3),
        temp_c: round(tempC, 1),
        ...(meterReset ? { meter_reset: true } : {}),
      };
      prevTs = ts;
      prevPowerW = Math.max(0, powerW);
      prevBurning = burning;
      seq++;
      return { reading, energyWh: drawnWh, burnS };
    },
  };
}
