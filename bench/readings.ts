// The benchmark's fleet and its readings: valid streetlight readings of the wire contract (services/contract),
// cheap to build so that the load generator does not need the CPU the measured processes need.
// Streetlights only: they are most of the city's devices, and their meter rule (energy never runs backwards)
// is the ingest's most expensive validation path.
import { DISTRICT_NAMES } from "../services/contract/city.ts";
import type { DeviceRegistration } from "../services/contract/devices.ts";
import type { StreetlightReading } from "../services/contract/readings.ts";
import { deviceTopic } from "../services/contract/topics.ts";

export const READINGS_PER_BATCH = 50;
export type Shape = "single" | "batch50";
export const readingsPerMessage = (shape: Shape): number => (shape === "single" ? 1 : READINGS_PER_BATCH);

export const PROBE_ID = "bench-probe-0001";

export function deviceIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `bench-sl-${String(i + 1).padStart(5, "0")}`);
}

export function districtOf(index: number): string {
  return DISTRICT_NAMES[index % DISTRICT_NAMES.length] as string;
}

/** Registry rows for the fleet (and the latency probe), for POST /v1/devices/bulk. */
export function registrations(ids: readonly string[]): DeviceRegistration[] {
  return [...ids, PROBE_ID].map((id, i) => ({
    id,
    kind: "streetlight",
    district: districtOf(i),
    lat: 33.57 + (i % 100) * 0.001,
    lon: -7.59 - (i % 100) * 0.001,
    installed_at: "2024-03-01",
    report_interval_s: 60,
    led_watts: 60,
    legacy_watts: 150,
  }));
}

export type DeviceState = { id: string; topic: string; seq: number; energyWh: number };

export function deviceState(id: string): DeviceState {
  return { id, topic: deviceTopic("streetlight", id, "telemetry"), seq: 0, energyWh: 1000 };
}

/** The next reading of a device: seq +1, the energy meter moving forward. */
export function nextReading(d: DeviceState, tsMs: number): StreetlightReading {
  d.seq++;
  d.energyWh += 0.05;
  const dim = 40 + (d.seq % 61);
  return {
    ts: tsMs,
    seq: d.seq,
    power_w: Math.round(0.6 * dim * 10) / 10,
    energy_wh: Math.round(d.energyWh * 100) / 100,
    dim_pct: dim,
    lamp_ok: true,
    voltage_v: 229.6,
    current_a: 0.19,
    temp_c: 31.5,
  };
}

/**
 * One telemetry payload: a reading, or a backlog array of 50 (a device catching up after a link outage),
 * 1 ms apart and ending now. Distinct seq keeps every point's key distinct (services/ingest/line-protocol.ts).
 */
export function payloadOf(d: DeviceState, shape: Shape, nowMs: number): string {
  if (shape === "single") return JSON.stringify(nextReading(d, nowMs));
  const batch: StreetlightReading[] = new Array(READINGS_PER_BATCH);
  for (let i = 0; i < READINGS_PER_BATCH; i++)
    batch[i] = nextReading(d, nowMs - (READINGS_PER_BATCH - 1 - i));
  return JSON.stringify(batch);
}
