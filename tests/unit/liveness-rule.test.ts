// The liveness rule: the pure function (device page) and its SQL twin (device list, the sweep) agree, edge cases
// included: never connected, offline, exactly at the silent threshold and one millisecond past it.
import type { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { type LivenessFacts, livenessOf } from "../../services/command/liveness/rule.ts";
import { LIVENESS_RULE_SQL } from "../../services/registry/activity.ts";
import { openRegistryDb } from "../../services/registry/store.ts";

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0, 123);
const iso = (ms: number) => new Date(ms).toISOString();
const db: DatabaseSync = openRegistryDb(":memory:");
afterAll(() => db.close());

function sqlLiveness(facts: LivenessFacts | undefined, intervalS: number, nowMs: number, n: number): string {
  db.exec("DELETE FROM device_activity; DELETE FROM devices");
  db.prepare(
    `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, created_at, updated_at)
     VALUES ('d-1', 'airquality', 'Anfa', 33.59, -7.65, '2025-01-01', ?, ?, ?)`,
  ).run(intervalS, iso(T0), iso(T0));
  if (facts)
    db.prepare(
      "INSERT INTO device_activity (device_id, online, connected_at, last_reading_at) VALUES ('d-1', ?, ?, ?)",
    ).run(facts.online ? 1 : 0, facts.connected_at, facts.last_reading_at);
  const row = db
    .prepare(
      `SELECT ${LIVENESS_RULE_SQL} AS liveness FROM devices d LEFT JOIN device_activity a ON a.device_id = d.id`,
    )
    .get({ $now: iso(nowMs), $silent_after: n }) as { liveness: string };
  return row.liveness;
}

type Case = [what: string, facts: LivenessFacts | undefined, nowMs: number, expected: string];
const interval = 10;
const cases: Case[] = [
  ["no activity row", undefined, T0, "never_seen"],
  [
    "a digest but never connected",
    { online: 0, connected_at: null, last_reading_at: iso(T0) },
    T0,
    "never_seen",
  ],
  ["disconnected", { online: 0, connected_at: iso(T0), last_reading_at: iso(T0) }, T0 + 1000, "offline"],
  [
    "offline stays offline however old",
    { online: 0, connected_at: iso(T0), last_reading_at: null },
    T0 + 1e9,
    "offline",
  ],
  [
    "just connected, no reading",
    { online: 1, connected_at: iso(T0), last_reading_at: null },
    T0 + 1,
    "online",
  ],
  [
    "exactly 3 intervals since connect",
    { online: 1, connected_at: iso(T0), last_reading_at: null },
    T0 + 30_000,
    "online",
  ],
  [
    "1 ms past 3 intervals since connect",
    { online: 1, connected_at: iso(T0), last_reading_at: null },
    T0 + 30_001,
    "silent",
  ],
  [
    "exactly 3 intervals since the last reading",
    { online: 1, connected_at: iso(T0), last_reading_at: iso(T0 + 50_000) },
    T0 + 80_000,
    "online",
  ],
  [
    "1 ms past 3 intervals since the last reading",
    { online: 1, connected_at: iso(T0), last_reading_at: iso(T0 + 50_000) },
    T0 + 80_001,
    "silent",
  ],
  [
    "a reading older than the connection counts from the connection",
    { online: 1, connected_at: iso(T0 + 60_000), last_reading_at: iso(T0) },
    T0 + 89_000,
    "online",
  ],
  [
    "reconnected long after the last reading, then silent",
    { online: 1, connected_at: iso(T0 + 60_000), last_reading_at: iso(T0) },
    T0 + 90_001,
    "silent",
  ],
];

describe("livenessOf and LIVENESS_RULE_SQL", () => {
  it.each(cases)("%s", (_what, facts, nowMs, expected) => {
    expect(livenessOf(facts, interval, nowMs, 3)).toBe(expected);
    expect(sqlLiveness(facts, interval, nowMs, 3)).toBe(expected);
  });

  it("agree on random times around the threshold, fractional interval multiples too", () => {
    for (let i = 0; i < 300; i++) {
      const intervalS = 1 + Math.floor(Math.random() * 900);
      const n = [1, 2.5, 3][i % 3] as number;
      const connected = T0 + Math.floor(Math.random() * 1e9);
      const reading = Math.random() < 0.3 ? null : connected + Math.floor(Math.random() * 1e6) - 5e5;
      const since = Math.max(connected, reading ?? connected);
      const now = since + Math.round(n * intervalS * 1000) + ((i % 3) - 1);
      const facts = {
        online: 1,
        connected_at: iso(connected),
        last_reading_at: reading === null ? null : iso(reading),
      };
      expect(sqlLiveness(facts, intervalS, now, n)).toBe(livenessOf(facts, intervalS, now, n));
    }
  });
});
