// Reading schemas of the wire contract, one per device kind. Units are in the field names and in the metadata;
// bounds are physical plausibility limits (a reading outside them is rejected with `<field>.<rule>`).
import { z } from "zod";
import { boolean, float, integer } from "./fields.ts";
import type { FieldRule } from "./reasons.ts";
import type { DeviceKind } from "./topics.ts";

/** Largest payload the platform accepts on a telemetry topic. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Largest backlog array in one message. */
export const MAX_BATCH_READINGS = 500;
/** How far ahead of the platform's clock a device's `ts` may be (clock skew allowance). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** Earliest plausible measurement time; earlier means a device whose clock was never set. */
export const EARLIEST_TS_MS = Date.UTC(2000, 0, 1);

const tsError = (iss: { input?: unknown }): FieldRule => (iss.input === undefined ? "missing" : "wrong_type");

/** Fields every reading carries. `ts` becomes the point's time, it is not stored as a field. */
const envelope = {
  ts: z.union([z.number(), z.string()], { error: tsError }),
  seq: integer("", 0, Number.MAX_SAFE_INTEGER, "Per-device message counter, increasing by one per reading."),
};

export const streetlightReading = z.object({
  ...envelope,
  power_w: float("W", 0, 1000, "Active power drawn by the luminaire and its driver."),
  energy_wh: float("Wh", 0, 1e10, "Cumulative energy meter; never decreases unless meter_reset is true."),
  dim_pct: float("%", 0, 100, "Dimming level in effect (0 = off, 100 = full output)."),
  lamp_ok: boolean("False when the luminaire reports a lamp or driver failure."),
  voltage_v: float("V", 0, 300, "Supply voltage (RMS).").optional(),
  current_a: float("A", 0, 10, "Supply current (RMS).").optional(),
  temp_c: float("°C", -40, 125, "Controller or driver temperature.").optional(),
  meter_reset: boolean("True on the first reading after the energy meter restarted from zero.").optional(),
});

export const airqualityReading = z.object({
  ...envelope,
  pm25_ugm3: float("µg/m³", 0, 1000, "PM2.5 mass concentration."),
  pm10_ugm3: float("µg/m³", 0, 2000, "PM10 mass concentration."),
  no2_ugm3: float("µg/m³", 0, 2000, "Nitrogen dioxide concentration."),
  o3_ugm3: float("µg/m³", 0, 1000, "Ozone concentration."),
  co_mgm3: float("mg/m³", 0, 200, "Carbon monoxide concentration.").optional(),
  temp_c: float("°C", -40, 70, "Ambient air temperature.").optional(),
  rh_pct: float("%", 0, 100, "Relative humidity.").optional(),
});

const count = (what: string) =>
  integer("vehicles", 0, 1_000_000, `${what} counted in the period.`).optional();

export const trafficReading = z.object({
  ...envelope,
  period_s: integer("s", 1, 3600, "Length of the counting period that ends at ts."),
  vehicles: integer("vehicles", 0, 1_000_000, "Vehicles counted in the period (all classes)."),
  avg_speed_kmh: float("km/h", 0, 250, "Mean speed of the vehicles counted."),
  occupancy_pct: float("%", 0, 100, "Share of the period the detection zone was occupied."),
  cars: count("Cars"),
  trucks: count("Trucks"),
  buses: count("Buses"),
  motorcycles: count("Motorcycles"),
  bicycles: count("Bicycles"),
});

export const READING_SCHEMAS = {
  streetlight: streetlightReading,
  airquality: airqualityReading,
  traffic: trafficReading,
} as const satisfies Record<DeviceKind, z.ZodObject>;

export type StreetlightReading = z.infer<typeof streetlightReading>;
export type AirqualityReading = z.infer<typeof airqualityReading>;
export type TrafficReading = z.infer<typeof trafficReading>;
export type ReadingOf<K extends DeviceKind> = z.infer<(typeof READING_SCHEMAS)[K]>;
export type AnyReading = StreetlightReading | AirqualityReading | TrafficReading;

/** Most vehicles a counter can plausibly see per second of period, all lanes together. */
export const MAX_VEHICLES_PER_SECOND = 5;

/** Retained device availability payload on `…/state`; `{"online":false}` is also the last will. */
export const statePayload = z.object({ online: z.boolean() });
export type StatePayload = z.infer<typeof statePayload>;
