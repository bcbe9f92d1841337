// Section N's fleet (the energy audit, issue 5): N streetlights spread over Casablanca's 16 districts with the
// retrofit classes of the simulator (HPS 150/250/400 W replaced by 60–150 W LEDs), seeded straight into the
// command service's registry database before it starts, as section K seeds its lamps (bench/schedule-fleet.ts:
// the registry's own stores, each lamp's secret hashed at a low scrypt cost so 10,000 CONNECTs stay cheap; the
// broker's access control is the real one). Also the section's API tokens.
import { DISTRICTS } from "../services/contract/city.ts";
import { generateSecret } from "../services/lib/secrets.ts";
import { seedDevices, writeTokenFile } from "./seed.ts";

export type EnergyLamp = {
  id: string;
  secret: string;
  district: string;
  lat: number;
  lon: number;
  ledW: number;
  legacyW: number;
  /** Offset of its readings within the hour, ms: the fleet does not publish in lockstep. */
  phaseMs: number;
};

/** Legacy system watts (lamp + ballast, shared/DOMAIN.md) and the LED that replaced it, in a fixed mix. */
const CLASSES = [
  [180, 60],
  [295, 100],
  [180, 75],
  [295, 90],
  [460, 150],
  [295, 120],
  [180, 60],
  [295, 100],
  [460, 130],
  [295, 90],
] as const;

export function energyLampIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `bench-sl-${String(i + 1).padStart(5, "0")}`);
}

/** The fleet: lamp i in district i mod 16, within ~1 km of its centre; deterministic. */
export function energyFleet(n: number, intervalS: number): Omit<EnergyLamp, "secret">[] {
  return energyLampIds(n).map((id, i) => {
    const d = DISTRICTS[i % DISTRICTS.length] ?? (DISTRICTS[0] as (typeof DISTRICTS)[number]);
    const k = Math.floor(i / DISTRICTS.length);
    const [legacyW, ledW] = CLASSES[i % CLASSES.length] as readonly [number, number];
    const round = (x: number) => Math.round(x * 1e5) / 1e5;
    return {
      id,
      district: d.name,
      lat: round(d.lat - 0.005 + (k % 50) * 0.0002),
      lon: round(d.lon - 0.005 + (Math.floor(k / 50) % 50) * 0.0002),
      ledW,
      legacyW,
      phaseMs: Math.floor(((i * 7919) % 3600) * 1000 * (intervalS / 3600)),
    };
  });
}

/** Registers the fleet in the registry database at `dbPath` (created and migrated if new); answers the lamps. */
export async function seedEnergyFleet(dbPath: string, n: number, intervalS: number): Promise<EnergyLamp[]> {
  const lamps: EnergyLamp[] = energyFleet(n, intervalS).map((l) => ({ ...l, secret: generateSecret() }));
  await seedDevices(
    dbPath,
    lamps.map((l) => ({
      secret: l.secret,
      device: {
        id: l.id,
        kind: "streetlight",
        district: l.district,
        lat: l.lat,
        lon: l.lon,
        installed_at: "2024-03-01",
        report_interval_s: intervalS,
        led_watts: l.ledW,
        legacy_watts: l.legacyW,
      },
    })),
  );
  return lamps;
}

/** The section's API tokens: an energy manager for the reports, and the three services' accounts. */
export type EnergyTokens = { file: string; manager: string; broker: string; ingest: string; command: string };

export function writeEnergyTokens(dir: string): EnergyTokens {
  return writeTokenFile(dir, "n-tokens.csv", {
    manager: { name: "bench-energy-manager", role: "energy_manager" },
    broker: { name: "svc-broker", role: "service_broker" },
    ingest: { name: "svc-ingest", role: "service_ingest" },
    command: { name: "svc-command", role: "service_command" },
  });
}
