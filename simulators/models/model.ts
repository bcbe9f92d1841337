// What every behaviour model gives the device runtime: the next reading at a given simulated time.
// Models are pure state machines over (time, their own PRNG streams): no I/O, no clock of their own.
import type { AnyReading } from "../../services/contract/readings.ts";
import type { FaultRates } from "../faults.ts";
import type { DimmingProgram } from "../program.ts";

export type ModelStep = {
  reading: AnyReading;
  /** Streetlights: energy drawn since the previous reading, Wh (the truth the meter should show). */
  energyWh: number;
  /** Streetlights: seconds the lamp was burning since the previous reading. */
  burnS: number;
};

export type DeviceModel = {
  /** The reading at `tsMs`; calls must come in increasing time order. */
  next(tsMs: number): ModelStep;
  /** Streetlights only: replaces the dimming program (issue 4 pushes calendars over MQTT). */
  setProgram?(program: DimmingProgram): void;
};

export type ModelOptions = {
  seed: string | number;
  faults: FaultRates;
  program?: DimmingProgram;
};

/** Exponential smoothing factor for a step of `dtMs` towards a target with time constant `tauMs`. */
export function smoothing(dtMs: number, tauMs: number): number {
  return dtMs <= 0 ? 1 : 1 - Math.exp(-dtMs / tauMs);
}
