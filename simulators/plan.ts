// Fleet generation: which devices exist, where, and with what equipment — a pure function of the seed and
// the counts. Devices are dealt round-robin over the arrondissements and jittered around the district centre.
// Every device draws from its own PRNG stream (seed + id), so growing the fleet leaves existing devices as
// they were.
import { DISTRICTS, type DistrictName } from "../services/contract/city.ts";
import type { DeviceRecord, DeviceRegistration } from "../services/contract/devices.ts";
import type { DeviceKind } from "../services/contract/topics.ts";
import { integerBetween, pick, type Rng, rngFor, round, uniform, weighted } from "./prng.ts";
import { DISTRICT_PROFILES } from "./profiles.ts";

type BaseDevice = {
  id: string;
  district: DistrictName;
  lat: number;
  lon: number;
  /** YYYY-MM-DD. */
  installedAt: string;
  intervalS: number;
  /** Offset of this device's readings within its interval, so that the fleet does not publish in lockstep. */
  phaseMs: number;
};

export type StreetlightDevice = BaseDevice & {
  kind: "streetlight";
  /** LED luminaire's rated system power. */
  ledWatts: number;
  /** Replaced lamp's system power, lamp plus ballast (the IPMVP baseline). */
  legacyWatts: number;
  legacyLamp: string;
};
export type AirqualityDevice = BaseDevice & { kind: "airquality" };
export type TrafficDevice = BaseDevice & {
  kind: "traffic";
  lanes: number;
  /** Vehicles per hour, all lanes, at a weekday rush hour. */
  peakVph: number;
  freeFlowKmh: number;
};
export type SimDevice = StreetlightDevice | AirqualityDevice | TrafficDevice;

export type FleetPlanOptions = {
  seed: string | number;
  streetlights: number;
  airquality: number;
  traffic: number;
  intervalS: number;
  /** Prepended to every id so that a test's devices never collide with another's. */
  idPrefix?: string;
  /** Largest distance from the district centre, metres. */
  jitterM?: number;
};

export const KIND_CODES: Record<DeviceKind, string> = { streetlight: "sl", airquality: "aq", traffic: "tr" };

/**
 * Sodium lamps being replaced (system watts with the ballast, shared/DOMAIN.md: 250 W draws ≈ 295 W,
 * 400 W ≈ 460 W) and the LED ratings that replace them.
 */
type Retrofit = { legacyLamp: string; legacyWatts: number; led: readonly number[] };
const RETROFITS: readonly (readonly [Retrofit, number])[] = [
  [{ legacyLamp: "HPS 150 W", legacyWatts: 180, led: [60, 75] }, 3],
  [{ legacyLamp: "HPS 250 W", legacyWatts: 295, led: [90, 100, 120] }, 5],
  [{ legacyLamp: "HPS 400 W", legacyWatts: 460, led: [130, 150] }, 2],
];

const INSTALL_YEARS: Record<DeviceKind, readonly [number, number]> = {
  streetlight: [2021, 2024],
  airquality: [2022, 2024],
  traffic: [2019, 2024],
};

export function districtSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/'/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

export function deviceId(prefix: string, kind: DeviceKind, district: string, n: number): string {
  const p = prefix === "" || prefix.endsWith("-") ? prefix : `${prefix}-`;
  return `${p}${KIND_CODES[kind]}-${districtSlug(district)}-${String(n).padStart(4, "0")}`;
}

export function planFleet(opts: FleetPlanOptions): SimDevice[] {
  const devices: SimDevice[] = [];
  const counts: [DeviceKind, number][] = [
    ["streetlight", opts.streetlights],
    ["airquality", opts.airquality],
    ["traffic", opts.traffic],
  ];
  for (const [kind, count] of counts) {
    for (let i = 0; i < count; i++) {
      const district = DISTRICTS[i % DISTRICTS.length] ?? DISTRICTS[0];
      const id = deviceId(opts.idPrefix ?? "", kind, district.name, Math.floor(i / DISTRICTS.length) + 1);
      devices.push(planDevice(opts, kind, id, district, rngFor(opts.seed, id, "plan")));
    }
  }
  return devices;
}

function planDevice(
  opts: FleetPlanOptions,
  kind: DeviceKind,
  id: string,
  district: (typeof DISTRICTS)[number],
  rng: Rng,
): SimDevice {
  // Uniform over a disc of radius jitterM around the centre.
  const r = (opts.jitterM ?? 400) * Math.sqrt(rng());
  const theta = 2 * Math.PI * rng();
  const lat = district.lat + (r * Math.cos(theta)) / 111_320;
  const lon = district.lon + (r * Math.sin(theta)) / (111_320 * Math.cos((district.lat * Math.PI) / 180));
  const [fromYear, toYear] = INSTALL_YEARS[kind];
  const installed = new Date(
    Date.UTC(integerBetween(rng, fromYear, toYear), 0, 1 + integerBetween(rng, 0, 364)),
  );
  const base: BaseDevice = {
    id,
    district: district.name,
    lat: round(lat, 6),
    lon: round(lon, 6),
    installedAt: installed.toISOString().slice(0, 10),
    intervalS: opts.intervalS,
    phaseMs: Math.floor(rng() * opts.intervalS * 1000),
  };
  switch (kind) {
    case "streetlight": {
      const retrofit = weighted(rng, RETROFITS);
      return {
        ...base,
        kind,
        ledWatts: pick(rng, retrofit.led),
        legacyWatts: retrofit.legacyWatts,
        legacyLamp: retrofit.legacyLamp,
      };
    }
    case "airquality":
      return { ...base, kind };
    case "traffic": {
      const lanes = integerBetween(rng, 2, 4);
      const perLane = uniform(rng, 550, 800) * DISTRICT_PROFILES[district.name].traffic;
      return {
        ...base,
        kind,
        lanes,
        peakVph: Math.round(lanes * perLane),
        freeFlowKmh: integerBetween(rng, 45, 70),
      };
    }
  }
}

/** The device's record for the registry (services/contract/devices.ts `deviceRegistration`). */
export function toRegistration(d: SimDevice): DeviceRegistration {
  const reg: DeviceRegistration = {
    id: d.id,
    kind: d.kind,
    district: d.district,
    lat: d.lat,
    lon: d.lon,
    installed_at: d.installedAt,
    report_interval_s: d.intervalS,
  };
  if (d.kind === "streetlight") {
    reg.led_watts = d.ledWatts;
    reg.legacy_watts = d.legacyWatts;
  }
  return reg;
}

/**
 * A device registered by someone else (an engineer with the CLI) as a simulated one: its registration as
 * the registry holds it (kind, place, interval, wattages), and what the registry does not know (lanes, reading
 * phase, …) drawn from the seed as for a planned device. Undefined for a district the city map does not know.
 */
export function fromRecord(r: DeviceRecord, seed: string | number): SimDevice | undefined {
  const district = DISTRICTS.find((d) => d.name === r.district);
  if (!district) return undefined;
  const planned = planDevice(
    { seed, streetlights: 0, airquality: 0, traffic: 0, intervalS: r.report_interval_s, jitterM: 0 },
    r.kind,
    r.id,
    district,
    rngFor(seed, r.id, "plan"),
  );
  const base = {
    lat: r.lat,
    lon: r.lon,
    installedAt: r.installed_at.slice(0, 10),
    intervalS: r.report_interval_s,
  };
  if (planned.kind !== "streetlight") return { ...planned, ...base };
  return {
    ...planned,
    ...base,
    ledWatts: r.led_watts ?? planned.ledWatts,
    legacyWatts: r.legacy_watts ?? planned.legacyWatts,
  };
}
