// Section N's fleet (the energy audit, issue 5): N streetlights spread over Casablanca's 16 districts with the
// retrofit classes of the simulator (HPS 150/250/400 W replaced by 60–150 W LEDs), seeded straight into the
// command service's registry database before it starts, as section K seeds its lamps (bench/schedule-fleet.ts:
// the registry's own stores, each lamp's secret hashed at a low scrypt cost so 10,000 CONNECTs stay cheap; the
// broker's access control is the real one). Also the section's API tokens.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DISTRICTS } from "../services/contract/city.ts";
import { generateSecret, generateToken, hashSecret, sha256Hash } from "../services/lib/secrets.ts";
import { openRegistry } from "../services/registry/registry.ts";
import type { NewDevice } from "../services/registry/store.ts";
import { SEED_SCRYPT } from "./schedule-fleet.ts";

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
  const hashes: string[] = [];
  for (let i = 0; i < lamps.length; i += 256) {
    const chunk = lamps.slice(i, i + 256);
    hashes.push(...(await Promise.all(chunk.map((l) => hashSecret(l.secret, SEED_SCRYPT)))));
  }
  const registry = openRegistry(dbPath);
  try {
    const rows = lamps.map((l, i) => {
      const device: NewDevice = {
        id: l.id,
        kind: "streetlight",
        district: l.district,
        lat: l.lat,
        lon: l.lon,
        installed_at: "2024-03-01",
        report_interval_s: intervalS,
        led_watts: l.ledW,
        legacy_watts: l.legacyW,
      };
      return { device, secretHash: hashes[i] as string };
    });
    const res = registry.lifecycle.register(rows, "create", "bench");
    if (!res.ok)
      throw new Error(
        `seeding the fleet: ${res.refusals.length} refused, first ${JSON.stringify(res.refusals[0])}`,
      );
    if (res.created.length !== n) throw new Error(`seeding the fleet: ${res.created.length} of ${n} created`);
  } finally {
    registry.close();
  }
  return lamps;
}

/** The section's API tokens: an energy manager for the reports, and the three services' accounts. */
export type EnergyTokens = { file: string; manager: string; broker: string; ingest: string; command: string };

export function writeEnergyTokens(dir: string): EnergyTokens {
  const t = {
    manager: generateToken(),
    broker: generateToken(),
    ingest: generateToken(),
    command: generateToken(),
  };
  const rows = [
    ["bench-energy-manager", "energy_manager", t.manager],
    ["svc-broker", "service_broker", t.broker],
    ["svc-ingest", "service_ingest", t.ingest],
    ["svc-command", "service_command", t.command],
  ].map(([name, role, token]) => `${name},${role},${sha256Hash(token as string)}`);
  const file = join(dir, "n-tokens.csv");
  writeFileSync(file, `name,role,token_sha256\n${rows.join("\n")}\n`, { mode: 0o600 });
  return { file, ...t };
}
