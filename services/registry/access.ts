// The access feed (GET /v1/access/changes): which principals' access changed, and their current state. The
// broker follows it to authenticate devices and services from memory (services/broker/access/).
// Writers call touch() in the same transaction as the change; the feed resolves each touched principal to its
// state at read time, so a consumer that applies entries in order ends up with the current state.
import type { DatabaseSync } from "node:sqlite";
import { type AccessChangesResponse, type AccessEntry, isServiceRole } from "../contract/access.ts";
import type { DeviceKind } from "../contract/topics.ts";

export type AccessStore = {
  /** Records that a principal's access changed (call inside the writer's transaction). */
  touch(type: "device" | "service", principal: string, at?: string): void;
  changesSince(seq: number, limit: number): AccessChangesResponse;
};

type DeviceRow = {
  kind: DeviceKind;
  status: string;
  credential_generation: number;
  secret_hash: string | null;
};
type TokenRow = {
  role: string;
  generation: number;
  token_hash: string;
  revoked_at: string | null;
  expires_at: string | null;
};

/**
 * Whether an API token still works at `at` (ISO 8601, compared as a string), and if not, why: revoked, or
 * expired (expires_at is the first moment it no longer works). Authentication and the access feed both ask.
 */
export function tokenState(
  t: { revoked_at: string | null; expires_at: string | null },
  at: string,
): "live" | "revoked" | "expired" {
  if (t.revoked_at !== null) return "revoked";
  return t.expires_at !== null && t.expires_at <= at ? "expired" : "live";
}

export function createAccessStore(db: DatabaseSync): AccessStore {
  const insert = db.prepare(
    "INSERT INTO access_changes (principal_type, principal, changed_at) VALUES (?, ?, ?)",
  );
  // Only the newest touch of each principal matters; older ones are skipped by the GROUP BY.
  const page = db.prepare(
    `SELECT MAX(seq) AS seq, principal_type, principal FROM access_changes WHERE seq > ?
      GROUP BY principal_type, principal ORDER BY seq LIMIT ?`,
  );
  const latest = db.prepare("SELECT COALESCE(MAX(seq), 0) AS latest FROM access_changes");
  const device = db.prepare(
    `SELECT d.kind, d.status, d.credential_generation, c.secret_hash
       FROM devices d LEFT JOIN device_credentials c
         ON c.device_id = d.id AND c.generation = d.credential_generation AND c.revoked_at IS NULL
      WHERE d.id = ?`,
  );
  const token = db.prepare(
    "SELECT role, generation, token_hash, revoked_at, expires_at FROM api_tokens WHERE name = ?",
  );

  function resolve(seq: number, type: string, principal: string, now: string): AccessEntry | undefined {
    if (type === "device") {
      const d = device.get(principal) as DeviceRow | undefined;
      if (!d) return undefined; // never stored: nothing to grant or revoke
      const live = d.status !== "decommissioned" && d.credential_generation > 0 && d.secret_hash !== null;
      return {
        seq,
        type: "device",
        principal,
        kind: d.kind,
        allowed: live,
        generation: d.credential_generation,
        secret_hash: live ? d.secret_hash : null,
      };
    }
    const t = token.get(principal) as TokenRow | undefined;
    if (!t || !isServiceRole(t.role)) {
      // A deleted token, or one whose role is no longer a service role: refuse it over MQTT.
      return {
        seq,
        type: "service",
        principal,
        role: "service_command",
        allowed: false,
        generation: 0,
        secret_hash: null,
      };
    }
    const live = tokenState(t, now) === "live";
    return {
      seq,
      type: "service",
      principal,
      role: t.role,
      allowed: live,
      generation: t.generation,
      secret_hash: live ? t.token_hash : null,
    };
  }

  return {
    touch(type, principal, at = new Date().toISOString()) {
      insert.run(type, principal, at);
    },
    changesSince(seq, limit) {
      const now = new Date().toISOString();
      const rows = page.all(seq, limit) as { seq: number; principal_type: string; principal: string }[];
      const entries: AccessEntry[] = [];
      for (const r of rows) {
        const e = resolve(r.seq, r.principal_type, r.principal, now);
        if (e) entries.push(e);
      }
      return { entries, next: rows.at(-1)?.seq ?? seq, latest: (latest.get() as { latest: number }).latest };
    },
  };
}
