// Section K's fleet and what it is sent: N streetlights in one district, seeded straight into the command
// service's registry database before the service starts (bench/seed.ts says why that is only a setup shortcut),
// and the programs and calendar the section assigns.
import { CITY, DISTRICTS } from "../services/contract/city.ts";
import {
  type CalendarBody,
  type CalendarDocument,
  calendarDocument,
  type ProgramBody,
} from "../services/contract/schedule.ts";
import { generateSecret } from "../services/lib/secrets.ts";
import { seedDevices, writeTokenFile } from "./seed.ts";

/** The district the whole fleet stands in: one PUT /v1/assignments reaches every lamp. */
export const K_DISTRICT = "Anfa";

export type Lamp = { id: string; secret: string; lat: number; lon: number };

export function lampIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `bench-lamp-${String(i + 1).padStart(5, "0")}`);
}

/** Lamps spread over ~2 km around the district's centre, so their sunsets differ by seconds as in the field. */
function siteOf(i: number): { lat: number; lon: number } {
  const centre = DISTRICTS.find((d) => d.name === K_DISTRICT) ?? CITY;
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  return {
    lat: round(centre.lat - 0.01 + (i % 100) * 0.0002),
    lon: round(centre.lon - 0.01 + (Math.floor(i / 100) % 100) * 0.0002),
  };
}

/**
 * Registers `n` streetlights of K_DISTRICT in the registry database at `dbPath` (created and migrated if new),
 * each with its own secret; answers the lamps with their secrets (their MQTT passwords).
 */
export async function seedFleet(dbPath: string, n: number): Promise<Lamp[]> {
  const lamps: Lamp[] = lampIds(n).map((id, i) => ({ id, secret: generateSecret(), ...siteOf(i) }));
  await seedDevices(
    dbPath,
    lamps.map((l) => ({
      secret: l.secret,
      device: {
        id: l.id,
        kind: "streetlight",
        district: K_DISTRICT,
        lat: l.lat,
        lon: l.lon,
        installed_at: "2024-03-01",
        report_interval_s: 60,
        led_watts: 60,
        legacy_watts: 150,
      },
    })),
  );
  return lamps;
}

/** The section's API tokens: an engineer for the API, and the broker's and the command service's accounts. */
export type KTokens = { file: string; engineer: string; broker: string; command: string };

export function writeKTokens(dir: string): KTokens {
  return writeTokenFile(dir, "k-tokens.csv", {
    engineer: { name: "bench-engineer", role: "engineer" },
    broker: { name: "svc-broker", role: "service_broker" },
    command: { name: "svc-command", role: "service_command" },
  });
}

/**
 * What the section assigns: a realistic city calendar (midnight dimming, a Ramadan program, weekend and match
 * nights, a national holiday), three programs with ramps. About 1.5 KB as a lamp receives it.
 */
export const K_PROGRAMS: (ProgramBody & { id: string })[] = [
  {
    id: "bench-midnight-dim",
    name: "Midnight dimming",
    description: "Full light at dusk, 50 % from midnight to 05:00, back up for the morning, off at dawn",
    switch_points: [
      { at: "sunset", offset_min: 10, level_pct: 100, ramp_s: 0 },
      { at: "00:00", level_pct: 50, ramp_s: 300 },
      { at: "05:00", level_pct: 100, ramp_s: 300 },
      { at: "sunrise", offset_min: -15, level_pct: 0, ramp_s: 0 },
    ],
  },
  {
    id: "bench-ramadan",
    name: "Ramadan nights",
    description: "Streets busy until late and again before the dawn meal",
    switch_points: [
      { at: "sunset", level_pct: 100, ramp_s: 0 },
      { at: "02:00", level_pct: 70, ramp_s: 600 },
      { at: "03:30", level_pct: 100, ramp_s: 300 },
      { at: "sunrise", offset_min: -10, level_pct: 0, ramp_s: 0 },
    ],
  },
  {
    id: "bench-full-night",
    name: "Full night (events, weekends)",
    switch_points: [
      { at: "sunset", offset_min: -5, level_pct: 100, ramp_s: 0 },
      { at: "sunrise", offset_min: 5, level_pct: 0, ramp_s: 0 },
    ],
  },
];

export const K_CALENDAR: CalendarBody & { id: string } = {
  id: "bench-district-calendar",
  name: "Anfa district calendar",
  description: "Benchmark calendar (section K)",
  rules: [
    { name: "match nights", program: "bench-full-night", dates: ["2026-11-28", "2026-12-05", "2026-12-19"] },
    { name: "Ramadan 2027", program: "bench-ramadan", from: "2027-02-07", to: "2027-03-08" },
    { name: "weekend", program: "bench-full-night", weekdays: ["fri", "sat"] },
    {
      name: "last Saturday of summer months",
      program: "bench-full-night",
      nth_weekday: { n: -1, weekday: "sat", months: [6, 7, 8] },
    },
  ],
  default_program: "bench-midnight-dim",
};

/** The same calendar as a lamp receives it, built here for the baseline (which has no planner). */
export function baselineDocument(version: number): CalendarDocument {
  const programs: CalendarDocument["programs"] = {};
  for (const p of K_PROGRAMS) programs[p.id] = { name: p.name, switch_points: p.switch_points };
  return calendarDocument.parse({
    version,
    calendar: { id: K_CALENDAR.id, name: K_CALENDAR.name, revision: 1 },
    time_zone: CITY.timeZone,
    issued_at: new Date().toISOString(),
    rules: K_CALENDAR.rules,
    default_program: K_CALENDAR.default_program,
    programs,
  });
}
