// The device registry, owned by the command service: SQLite through Node's built-in node:sqlite.
// This file opens and migrates the database and reads devices; the writes live in lifecycle.ts (devices and their
// credentials), tokens.ts (API tokens) and access.ts (the access feed), all sharing one connection. Every device
// change appends to `device_changes`, the change feed that the broker and the ingest follow to keep their
// in-memory caches fresh (services/registry/cache.ts), and to `device_audit`, who did what (audit.ts).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { z } from "zod";
import type {
  DeviceRecord,
  DeviceStatus,
  deviceRegistration,
  Liveness,
  RegistryChangesResponse,
} from "../contract/devices.ts";
import type { DeviceKind } from "../contract/topics.ts";
import { LIVENESS_RULE_SQL } from "./activity.ts";
import { MIGRATIONS } from "./schema.ts";
import { inTransaction, statementCache } from "./sqlite.ts";

/** A registration after validation (defaults applied). */
export type NewDevice = z.output<typeof deviceRegistration>;

export type DeviceFilter = {
  kind?: DeviceKind | undefined;
  district?: string | undefined;
  status?: DeviceStatus | undefined;
  liveness?: Liveness | undefined;
  /** ISO 8601; devices whose last_seen_at is at or after it (never-seen devices are left out). */
  seenAfter?: string | undefined;
  /** ISO 8601; devices whose last_seen_at is before it (never-seen devices are left out). */
  seenBefore?: string | undefined;
  limit: number;
  /** Id of the last device of the previous page. */
  after?: string | undefined;
};

export type ListedDevice = DeviceRecord & {
  liveness: Liveness;
  online: boolean;
  last_seen_at: string | null;
};

export type RegistryStore = {
  get(id: string): DeviceRecord | undefined;
  list(filter: DeviceFilter): ListedDevice[];
  count(): number;
  changesSince(seq: number, limit: number): RegistryChangesResponse;
  close(): void;
};

export type DeviceStoreOptions = {
  /** A connected device with no reading for this many of its intervals is silent (config liveness). */
  silentAfterIntervals?: number;
  now?: () => Date;
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

type ListRow = DeviceRecord & { liveness: Liveness; a_online: number | null; a_last_seen_at: string | null };

export function createDeviceStore(db: DatabaseSync, opts: DeviceStoreOptions = {}): RegistryStore {
  const now = opts.now ?? (() => new Date());
  const silentAfter = opts.silentAfterIntervals ?? 3;
  const selectOne = db.prepare("SELECT * FROM devices WHERE id = ?");
  const changes = db.prepare(
    `SELECT c.seq AS seq, c.op AS op, c.device_id AS change_id, d.*
       FROM device_changes c LEFT JOIN devices d ON d.id = c.device_id
      WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
  );
  const latest = db.prepare("SELECT COALESCE(MAX(seq), 0) AS latest FROM device_changes");
  const count = db.prepare("SELECT COUNT(*) AS n FROM devices");
  const listSql = statementCache(db); // one statement per combination of filters: at most 2^7

  return {
    get: (id) => selectOne.get(id) as DeviceRecord | undefined,
    list(filter) {
      const where: string[] = [];
      const params: Record<string, SQLInputValue> = {
        $now: now().toISOString(),
        $silent_after: silentAfter,
        $limit: filter.limit,
      };
      const add = (sql: string, name: string, value: string | undefined) => {
        if (value === undefined) return;
        where.push(sql);
        params[name] = value;
      };
      add("kind = $kind", "$kind", filter.kind);
      add("district = $district", "$district", filter.district);
      add("status = $status", "$status", filter.status);
      add("liveness = $liveness", "$liveness", filter.liveness);
      add("a_last_seen_at >= $seen_after", "$seen_after", filter.seenAfter);
      add("a_last_seen_at < $seen_before", "$seen_before", filter.seenBefore);
      add("id > $after", "$after", filter.after);
      // Liveness by the same rule as the device page (activity.ts, tested against liveness/rule.ts).
      const sql = `SELECT * FROM (
          SELECT d.*, a.online AS a_online, a.last_seen_at AS a_last_seen_at, ${LIVENESS_RULE_SQL} AS liveness
            FROM devices d LEFT JOIN device_activity a ON a.device_id = d.id)
        ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id LIMIT $limit`;
      return (listSql(sql).all(params) as ListRow[]).map(({ a_online, a_last_seen_at, ...d }) => ({
        ...d,
        online: a_online === 1,
        last_seen_at: a_last_seen_at,
      }));
    },
    count: () => (count.get() as { n: number }).n,
    changesSince(seq, limit) {
      const rows = changes.all(seq, limit) as (Record<string, unknown> & {
        seq: number;
        op: string;
        change_id: string;
      })[];
      return {
        changes: rows.map((r) => {
          const { seq: s, op, change_id, ...device } = r;
          const present = device.id !== null && device.id !== undefined;
          return {
            seq: s,
            op: op === "delete" || !present ? "delete" : "upsert",
            id: change_id,
            device: present ? (device as DeviceRecord) : null,
          };
        }),
        latest: (latest.get() as { latest: number }).latest,
      };
    },
    close: () => db.close(),
  };
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
    inTransaction(db, () => {
      db.exec(sql);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
        version,
        new Date().toISOString(),
      );
    });
  }
}
