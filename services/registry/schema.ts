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
  // Issue 3: credentials, API tokens, the access feed, the audit trail, liveness and commissioning.
  `ALTER TABLE devices ADD COLUMN serial TEXT;
   ALTER TABLE devices ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX devices_status ON devices (status);
   -- One row per credential a device was ever given; only the newest unrevoked one is live.
   CREATE TABLE device_credentials (
     device_id TEXT NOT NULL,
     generation INTEGER NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     revoked_at TEXT,
     revoked_by TEXT,
     PRIMARY KEY (device_id, generation)
   );
   -- API tokens (people and services). Only the SHA-256 of a token is kept. source 'file' = provisioned at
   -- start-up from COMMAND_TOKEN_FILE (the bootstrap admin and the services), 'api' = created through the API.
   CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     role TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE,
     source TEXT NOT NULL CHECK (source IN ('api', 'file')),
     generation INTEGER NOT NULL DEFAULT 1,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     expires_at TEXT,
     revoked_at TEXT,
     revoked_by TEXT,
     last_used_at TEXT
   );
   -- The access feed (GET /v1/access/changes): a principal whose access changed; the feed serves its current state.
   CREATE TABLE access_changes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     principal_type TEXT NOT NULL CHECK (principal_type IN ('device', 'service')),
     principal TEXT NOT NULL,
     changed_at TEXT NOT NULL
   );
   -- Who did what to a device and when (every change; detail is JSON).
   CREATE TABLE device_audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     device_id TEXT NOT NULL,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX device_audit_device ON device_audit (device_id, seq);
   -- Liveness, from broker presence, the retained state and the ingest's activity digests. Times are ISO 8601 UTC.
   CREATE TABLE device_activity (
     device_id TEXT PRIMARY KEY,
     online INTEGER NOT NULL DEFAULT 0,
     connected_at TEXT,
     disconnected_at TEXT,
     disconnect_reason TEXT,
     remote_address TEXT,
     state_online INTEGER,
     state_at TEXT,
     last_seen_at TEXT,
     last_reading_at TEXT,
     last_reading_ts TEXT,
     accepted_total INTEGER NOT NULL DEFAULT 0,
     rejected_total INTEGER NOT NULL DEFAULT 0,
     last_reject_reason TEXT,
     last_reject_at TEXT
   );
   CREATE INDEX device_activity_last_seen ON device_activity (last_seen_at);
   CREATE TABLE commissioning_runs (
     id TEXT PRIMARY KEY,
     device_id TEXT NOT NULL,
     generation INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'cancelled')),
     started_at TEXT NOT NULL,
     started_by TEXT NOT NULL,
     finished_at TEXT,
     signed_off_at TEXT,
     signed_off_by TEXT,
     note TEXT
   );
   CREATE INDEX commissioning_runs_device ON commissioning_runs (device_id, started_at);
   CREATE TABLE commissioning_checks (
     run_id TEXT NOT NULL,
     name TEXT NOT NULL,
     position INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'passed', 'failed', 'skipped')),
     started_at TEXT,
     finished_at TEXT,
     detail TEXT,
     data TEXT,
     PRIMARY KEY (run_id, name)
   );`,
  // 3 (issue 4): dimming schedules. Programs and calendars are edited in place (revision + 1); every calendar
  // document sent to lamps is kept (schedule_documents: its version is the one on the wire), and every delivery
  // of a document or an override to a lamp is a row of a rollout, so "what was this lamp told at time t" (the
  // compliance check) and "how far has this push got" are both queries.
  `CREATE TABLE schedule_programs (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     description TEXT,
     switch_points TEXT NOT NULL,
     revision INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     updated_by TEXT NOT NULL,
     deleted_at TEXT
   );
   CREATE TABLE schedule_calendars (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     description TEXT,
     rules TEXT NOT NULL,
     default_program TEXT NOT NULL,
     revision INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     updated_by TEXT NOT NULL,
     deleted_at TEXT
   );
   CREATE TABLE device_groups (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     description TEXT,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE device_group_members (
     group_id TEXT NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
     device_id TEXT NOT NULL,
     added_at TEXT NOT NULL,
     added_by TEXT NOT NULL,
     PRIMARY KEY (group_id, device_id)
   );
   CREATE INDEX device_group_members_device ON device_group_members (device_id);
   CREATE TABLE schedule_assignments (
     target_type TEXT NOT NULL CHECK (target_type IN ('device', 'group', 'district')),
     target_id TEXT NOT NULL,
     calendar_id TEXT NOT NULL,
     assigned_at TEXT NOT NULL,
     assigned_by TEXT NOT NULL,
     PRIMARY KEY (target_type, target_id)
   );
   CREATE INDEX schedule_assignments_calendar ON schedule_assignments (calendar_id);
   CREATE TABLE schedule_documents (
     version INTEGER PRIMARY KEY AUTOINCREMENT,
     calendar_id TEXT NOT NULL,
     calendar_revision INTEGER NOT NULL,
     document TEXT NOT NULL,
     content_hash TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE schedule_overrides (
     id TEXT PRIMARY KEY,
     target_type TEXT NOT NULL CHECK (target_type IN ('devices', 'group', 'district')),
     target_id TEXT NOT NULL,
     level_pct REAL NOT NULL,
     ramp_s INTEGER NOT NULL,
     starts_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     reason TEXT NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL,
     cancelled_at TEXT,
     cancelled_by TEXT
   );
   CREATE INDEX schedule_overrides_expires ON schedule_overrides (expires_at);
   CREATE TABLE schedule_rollouts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL CHECK (kind IN ('calendar', 'override', 'cancel_override')),
     version INTEGER REFERENCES schedule_documents (version),
     override_id TEXT REFERENCES schedule_overrides (id),
     cause TEXT NOT NULL,
     target_type TEXT,
     target_id TEXT,
     total INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     created_by TEXT NOT NULL
   );
   CREATE TABLE schedule_deliveries (
     rollout_id INTEGER NOT NULL REFERENCES schedule_rollouts (id),
     device_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'applied', 'rejected', 'expired', 'superseded')),
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     sent_at TEXT,
     delivered_at TEXT,
     acked_at TEXT,
     state_at TEXT NOT NULL,
     reason TEXT,
     detail TEXT,
     PRIMARY KEY (rollout_id, device_id)
   );
   CREATE INDEX schedule_deliveries_device ON schedule_deliveries (device_id, rollout_id);
   CREATE INDEX schedule_deliveries_open ON schedule_deliveries (state, device_id)
     WHERE state IN ('pending', 'delivered');`,
  // 4 (issue 5): daily energy rollups per lamp, kept up to date from InfluxDB as readings arrive (late ones
  // included) so a report sums rows instead of scanning readings. Derived data: any of it can be recomputed from
  // InfluxDB (POST /v1/energy/rollups/rebuild). Days are local dates in Africa/Casablanca; durations in seconds.
  // A row holds the contributions of the intervals between consecutive readings that fall inside its day, and
  // the wattages the computation used (registry values at the time), so a later correction shows as a change.
  `CREATE TABLE energy_daily (
     device_id TEXT NOT NULL,
     day TEXT NOT NULL,
     legacy_w REAL NOT NULL,
     led_w REAL NOT NULL,
     metered_wh REAL NOT NULL DEFAULT 0,
     estimated_wh REAL NOT NULL DEFAULT 0,
     metered_s REAL NOT NULL DEFAULT 0,
     estimated_s REAL NOT NULL DEFAULT 0,
     dark_s REAL NOT NULL DEFAULT 0,
     lit_s REAL NOT NULL DEFAULT 0,
     readings INTEGER NOT NULL DEFAULT 0,
     resets INTEGER NOT NULL DEFAULT 0,
     gaps INTEGER NOT NULL DEFAULT 0,
     first_ts INTEGER,
     last_ts INTEGER,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (day, device_id)
   ) WITHOUT ROWID;
   CREATE INDEX energy_daily_device ON energy_daily (device_id, day);
   -- Per lamp, the last reading rolled up (the next interval starts from it) and when.
   CREATE TABLE energy_cursors (
     device_id TEXT PRIMARY KEY,
     ts INTEGER NOT NULL,
     energy_wh REAL NOT NULL,
     power_w REAL NOT NULL,
     dim_pct REAL NOT NULL,
     updated_at TEXT NOT NULL
   ) WITHOUT ROWID;`,
];
