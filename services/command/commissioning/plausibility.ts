// The plausibility check, pure, per kind. Bounds beyond the contract's physical limits (readings outside those
// never get stored): what a working sensor of the kind reports in a city street.
import type { DeviceRecord } from "../../contract/devices.ts";
import { type CheckOutcome, failed, fmt, num, passed, type ReadingRow, range } from "./checks.ts";
import { GAP_TOLERANCE } from "./readings.ts";
import { streetlightPlausibility } from "./streetlight.ts";

export function plausibility(device: DeviceRecord, rows: readonly ReadingRow[]): CheckOutcome {
  switch (device.kind) {
    case "streetlight":
      return streetlightPlausibility(rows, device.led_watts);
    case "airquality":
      return airqualityPlausibility(rows);
    case "traffic":
      return trafficPlausibility(rows, device.report_interval_s);
  }
}

/** Ambient maxima a street sensor plausibly reports (dust storms included); above: a faulty or misread sensor. */
const AMBIENT_MAX = { pm25_ugm3: 500, pm10_ugm3: 1500, no2_ugm3: 500, o3_ugm3: 400, co_mgm3: 50 } as const;
type Pollutant = keyof typeof AMBIENT_MAX;
/**
 * A frozen sensor (a hung firmware task, a dead ADC) repeats its whole reading: every pollutant unchanged over
 * 2 readings or more is stuck. One channel unchanged is weaker evidence: at low concentrations and a coarse
 * resolution (CO at 0.01 mg/m³, O3 at its floor) three equal values happen by chance; with the simulators'
 * healthy stations, "any pollutant equal over 3 readings" failed 2 % of runs. So a single channel counts as
 * stuck over STUCK_CHANNEL_READINGS readings; over fewer it is only mentioned in the detail.
 */
export const STUCK_CHANNEL_READINGS = 5;

export function airqualityPlausibility(rows: readonly ReadingRow[]): CheckOutcome {
  const problems: string[] = [];
  const ranges: string[] = [];
  const steady: string[] = [];
  let present = 0;
  for (const field of Object.keys(AMBIENT_MAX) as Pollutant[]) {
    const values = rows.map((r) => num(r, field)).filter((v) => v !== undefined);
    if (values.length === 0) continue; // co_mgm3 is optional
    present++;
    ranges.push(`${field} ${range(values)}`);
    const high = values.find((v) => v > AMBIENT_MAX[field]);
    if (high !== undefined) problems.push(`${field} ${fmt(high)} is above a plausible ${AMBIENT_MAX[field]}`);
    if (values.length >= 2 && values.every((v) => v === values[0])) {
      if (values.length >= STUCK_CHANNEL_READINGS)
        problems.push(`${field} stuck at ${fmt(values[0] as number, 2)} over ${values.length} readings`);
      else steady.push(field);
    }
  }
  if (present > 0 && steady.length === present)
    problems.push(`every pollutant unchanged over ${rows.length} readings (a frozen sensor)`);
  // PM10 includes PM2.5: a PM2.5 above PM10 (beyond noise) is a mis-wired or mis-calibrated channel.
  for (const r of rows) {
    const pm25 = num(r, "pm25_ugm3");
    const pm10 = num(r, "pm10_ugm3");
    if (pm25 !== undefined && pm10 !== undefined && pm25 > pm10 * 1.1 + 2) {
      problems.push(`PM2.5 ${fmt(pm25)} > PM10 ${fmt(pm10)} (PM10 includes PM2.5)`);
      break;
    }
  }
  const data = { readings: rows.length, ...(steady.length > 0 ? { unchanged: steady } : {}) };
  if (problems.length > 0) return failed(problems.join("; "), data);
  const note =
    steady.length > 0
      ? `; ${steady.join(", ")} unchanged over ${rows.length} readings (watch it)`
      : "; none stuck";
  return passed(`${rows.length} readings: ${ranges.join(", ")}${note}`, data);
}

/** Fastest plausible mean speed on a city street, km/h. */
const MAX_CITY_SPEED_KMH = 200;
/** An empty detection zone is not occupied; above this with no vehicle counted, the loop or radar is faulty. */
const EMPTY_OCCUPANCY_MAX_PCT = 5;

export function trafficPlausibility(rows: readonly ReadingRow[], intervalS: number): CheckOutcome {
  const problems: string[] = [];
  for (const r of rows) {
    const period = num(r, "period_s");
    const vehicles = num(r, "vehicles");
    const speed = num(r, "avg_speed_kmh");
    const occupancy = num(r, "occupancy_pct");
    if (period === undefined || vehicles === undefined || speed === undefined || occupancy === undefined) {
      problems.push("a reading lacks period_s, vehicles, avg_speed_kmh or occupancy_pct");
      break;
    }
    if (Math.abs(period - intervalS) > intervalS * GAP_TOLERANCE)
      problems.push(`period_s ${period} does not match the report interval ${intervalS} s`);
    if (vehicles > 0 && (speed <= 0 || speed > MAX_CITY_SPEED_KMH))
      problems.push(`${vehicles} vehicles at a mean speed of ${fmt(speed)} km/h`);
    if (vehicles === 0 && occupancy > EMPTY_OCCUPANCY_MAX_PCT)
      problems.push(`occupancy ${fmt(occupancy)} % with no vehicle counted`);
  }
  const vehicles = rows.map((r) => num(r, "vehicles") ?? 0);
  const speeds = rows.map((r) => num(r, "avg_speed_kmh") ?? 0);
  const occupancy = rows.map((r) => num(r, "occupancy_pct") ?? 0);
  const frozen =
    rows.length >= 3 &&
    (vehicles[0] ?? 0) > 0 &&
    rows.every(
      (_, i) => vehicles[i] === vehicles[0] && speeds[i] === speeds[0] && occupancy[i] === occupancy[0],
    );
  if (frozen)
    problems.push(`counts, speed and occupancy identical over ${rows.length} readings (a stuck counter)`);
  const data = { readings: rows.length };
  if (problems.length > 0) return failed([...new Set(problems)].join("; "), data);
  return passed(
    `${rows.length} readings: ${range(vehicles, 0)} vehicles per ${fmt(intervalS)} s, ${range(speeds)} km/h, occupancy ${range(occupancy)} %`,
    data,
  );
}
