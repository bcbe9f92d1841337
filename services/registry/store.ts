// The device registry, owned by the command service: SQLite through Node's built-in node:sqlite.
// Every change appends to `device_changes` (with who made it), which is both the audit trail and the change feed
// that the broker and the ingest follow to keep their in-memory caches fresh (services/registry/cache.ts).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { DeviceRecord, RegistryChange } from "../contract/devices.ts";
import type { DeviceKind } from "../contract/topics.ts";
import { MIGRATIONS } from "./schema.ts";

/** A registration after validation (defaults applied). */
export type NewDevice = {
  id: string;
  kind: DeviceKind;
  district: string;
  lat: number;
  lon: number;
  installed_at: string;
  report_interval_s: number;
  led_watts?: number | undefined;
  legacy_watts?: number | undefined;
};

export type DeviceFilter = {
  kind?: DeviceKind;
  district?: string;
  status?: string;
  limit: number;
  after?: string;
};

export type RegistryStore = {
  upsertMany(devices: readonly NewDevice[], actor: string): { created: number; updated: number };
  get(id: string): DeviceRecord | undefined;
  list(filter: DeviceFilter): DeviceRecord[];
  count(): number;
  changesSince(seq: number, limit: number): { changes: RegistryChange[]; latest: number };
  close(): void;
};

/** Opens (creating if needed) and migrates the registry database; the stores of services/registry/ share it. */
export function openRegistryDb(path: string): DatabaseSync {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  // WAL: readers never block the writer; NORMAL sync is durable across process crashes in WAL mode.
  db.exec(
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
  );
  migrate(db);
  return db;
}

export function openRegistryStore(path: string): RegistryStore {
  return createDeviceStore(openRegistryDb(path));
}

export function createDeviceStore(db: DatabaseSync): RegistryStore {

  const selectOne = db.prepare("SELECT * FROM devices WHERE id = ?");
  const insert = db.prepare(
    `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, led_watts, legacy_watts,
       status, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?)`,
  );
  const update = db.prepare(
    `UPDATE devices SET kind = ?, district = ?, lat = ?, lon = ?, installed_at = ?, report_interval_s = ?,
       led_watts = ?, legacy_watts = ?, updated_at = ? WHERE id = ?`,
  );
  const logChange = db.prepare(
    "INSERT INTO device_changes (op, device_id, actor, changed_at) VALUES (?, ?, ?, ?)",
  );
  const changes = db.prepare(
    `SELECT c.seq AS seq, c.op AS op, c.device_id AS change_id, d.*
       FROM device_changes c LEFT JOIN devices d ON d.id = c.device_id
      WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
  );
  const latest = db.prepare("SELECT COALESCE(MAX(seq), 0) AS latest FROM device_changes");

  return {
    upsertMany(devices, actor) {
      const now = new Date().toISOString();
      let created = 0;
      let updated = 0;
      db.exec("BEGIN IMMEDIATE");
      try {
        for (const d of devices) {
          const existing = selectOne.get(d.id) as DeviceRecord | undefined;
          const values = [d.kind, d.district, d.lat, d.lon, d.installed_at, d.report_interval_s] as const;
          const watts = [d.led_watts ?? null, d.legacy_watts ?? null] as const;
          if (!existing) {
            insert.run(d.id, ...values, ...watts, now, now);
            created++;
          } else if (differs(existing, d)) {
            update.run(...values, ...watts, now, d.id);
            updated++;
          } else continue;
          logChange.run("upsert", d.id, actor, now);
        }
        db.exec("COMMIT");
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
      return { created, updated };
    },
    get: (id) => selectOne.get(id) as DeviceRecord | undefined,
    list(filter) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.kind) where.push("kind = ?") && params.push(filter.kind);
      if (filter.district) where.push("district = ?") && params.push(filter.district);
      if (filter.status) where.push("status = ?") && params.push(filter.status);
      if (filter.after) where.push("id > ?") && params.push(filter.after);
      const sql = `SELECT * FROM devices ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id LIMIT ?`;
      return db.prepare(sql).all(...params, filter.limit) as DeviceRecord[];
    },
    count: () => (db.prepare("SELECT COUNT(*) AS n FROM devices").get() as { n: number }).n,
    changesSince(seq, limit) {
      const rows = changes.all(seq, limit) as (Record<string, unknown> & {
        seq: number;
        op: string;
        change_id: string;
      })[];
      const out: RegistryChange[] = rows.map((r) => {
        const { seq: s, op, change_id, ...device } = r;
        const present = device.id !== null && device.id !== undefined;
        return {
          seq: s,
          op: op === "delete" || !present ? "delete" : "upsert",
          id: change_id,
          device: present ? (device as DeviceRecord) : null,
        };
      });
      return { changes: out, latest: (latest.get() as { latest: number }).latest };
    },
    close: () => db.close(),
  };
}

function differs(existing: DeviceRecord, d: NewDevice): boolean {
  return (
    existing.kind !== d.kind ||
    existing.district !== d.district ||
    existing.lat !== d.lat ||
    existing.lon !== d.lon ||
    existing.installed_at !== d.installed_at ||
    existing.report_interval_s !== d.report_interval_s ||
    existing.led_watts !== (d.led_watts ?? null) ||
    existing.legacy_watts !== (d.legacy_watts ?? null)
  );
}

function migrate(db: DatabaseSync): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
  );
  const done = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  for (const [i, sql] of MIGRATIONS.entries()) {
    const version = i + 1;
    if (done.has(version)) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(sql);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
        version,
        new Date().toISOString(),
      );
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }
}
