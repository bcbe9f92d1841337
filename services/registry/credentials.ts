// Device credentials: one row per secret a device was ever given (device_credentials), only its scrypt hash kept.
// Generation 1 at registration, +1 per rotation or replacement; issuing a new one revokes the previous one in
// the same transaction, so the old secret stops working the moment the new one exists. devices.
// credential_generation names the live one (0: none live, after a revocation or a decommissioning).
import type { DatabaseSync } from "node:sqlite";
import { generateSecret, hashSecret } from "../lib/secrets.ts";

export type CredentialStore = {
  /** Revokes the live credential and stores a new one; returns its generation. Call inside a transaction. */
  issue(deviceId: string, secretHash: string, actor: string, at: string): number;
  /** Revokes every live credential; returns how many were. Call inside a transaction. */
  revokeAll(deviceId: string, actor: string, at: string): number;
  /** The live credential's generation and creation time (the device page), if any. */
  current(deviceId: string): { generation: number; created_at: string } | undefined;
};

export function createCredentialStore(db: DatabaseSync): CredentialStore {
  const revoke = db.prepare(
    "UPDATE device_credentials SET revoked_at = ?, revoked_by = ? WHERE device_id = ? AND revoked_at IS NULL",
  );
  // Generations are never reused, also after a revocation left the device with none live.
  const nextGeneration = db.prepare(
    "SELECT COALESCE(MAX(generation), 0) + 1 AS next FROM device_credentials WHERE device_id = ?",
  );
  const insert = db.prepare(
    `INSERT INTO device_credentials (device_id, generation, secret_hash, created_at, created_by)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const setLive = db.prepare("UPDATE devices SET credential_generation = ?, updated_at = ? WHERE id = ?");
  const current = db.prepare(
    `SELECT c.generation, c.created_at FROM devices d JOIN device_credentials c
       ON c.device_id = d.id AND c.generation = d.credential_generation AND c.revoked_at IS NULL
      WHERE d.id = ?`,
  );
  return {
    issue(deviceId, secretHash, actor, at) {
      revoke.run(at, actor, deviceId);
      const { next } = nextGeneration.get(deviceId) as { next: number };
      insert.run(deviceId, next, secretHash, at, actor);
      setLive.run(next, at, deviceId);
      return next;
    },
    revokeAll(deviceId, actor, at) {
      const { changes } = revoke.run(at, actor, deviceId);
      setLive.run(0, at, deviceId);
      return Number(changes);
    },
    current: (deviceId) => current.get(deviceId) as { generation: number; created_at: string } | undefined,
  };
}

/** How many secrets are hashed at once: scrypt runs on libuv's thread pool (4 threads by default). */
const HASH_CHUNK = 64;

/**
 * New secrets for `ids`, hashed concurrently in chunks before any transaction opens (scrypt takes ~40 ms each;
 * a write transaction held across that would stall every other writer). The plain secret is answered once and
 * never stored.
 */
export async function newSecrets(
  ids: readonly string[],
): Promise<Map<string, { secret: string; hash: string }>> {
  const out = new Map<string, { secret: string; hash: string }>();
  for (let i = 0; i < ids.length; i += HASH_CHUNK) {
    const chunk = ids.slice(i, i + HASH_CHUNK);
    const hashed = await Promise.all(
      chunk.map(async (id) => {
        const secret = generateSecret();
        return [id, { secret, hash: await hashSecret(secret) }] as const;
      }),
    );
    for (const [id, s] of hashed) out.set(id, s);
  }
  return out;
}
