// Registry schema migrations, applied in order once each (schema_migrations records which ran).
// Append new migrations; never edit one that has shipped.
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('streetlight', 'airquality', 'traffic')),
     district TEXT NOT NULL,
     lat REAL NOT NULL,
     lon REAL NOT NULL,
     installed_at TEXT NOT NULL,
     report_interval_s INTEGER NOT NULL,
     led_watts REAL,
     legacy_watts REAL,
     status TEXT NOT NULL DEFAULT 'registered',
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX devices_kind_district ON devices (kind, district);
   CREATE TABLE device_changes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
     device_id TEXT NOT NULL,
     actor TEXT NOT NULL,
     changed_at TEXT NOT NULL
   );
   CREATE INDEX device_changes_device ON device_changes (device_id);`,
];
