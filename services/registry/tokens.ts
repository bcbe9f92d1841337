// API tokens (api_tokens): people's and services' bearer tokens, only their SHA-256 kept. Provisioned from the
// token file at start-up (source 'file': the bootstrap admin and the platform's services) or created through the
// API (source 'api'). A token with a service role is also an MQTT account (username = its name), so a change to
// one is announced on the access feed the broker follows.
import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { isServiceRole, type Role } from "../contract/access.ts";
import { generateToken, sha256Hash } from "../lib/secrets.ts";
import { createAccessStore, tokenState } from "./access.ts";
import { inTransaction } from "./sqlite.ts";

export type TokenRecord = {
  id: string;
  name: string;
  role: Role;
  source: "api" | "file";
  generation: number;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
};

export type Authenticated =
  | { ok: true; token: TokenRecord }
  | { ok: false; reason: "unknown" | "revoked" | "expired" };

export type FileToken = { name: string; role: Role; hash: string };

/** The token file cannot be used as it is: the service must not start (main.ts reports it and exits). */
export class TokenFileError extends Error {
  constructor(path: string, problems: readonly string[]) {
    super(`token file ${path} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "TokenFileError";
  }
}

export type TokenStore = {
  /** Looks a presented token up by its hash (a UNIQUE index: no scan, nothing cached past a revocation). */
  authenticate(token: string): Authenticated;
  create(
    req: { name: string; role: Role; expires_at?: string | undefined },
    actor: string,
  ):
    | { ok: true; token: string; record: TokenRecord }
    | { ok: false; reason: "name_taken" | "provisioned_by_file" };
  list(): TokenRecord[];
  revoke(
    id: string,
    actor: string,
  ): { ok: true; record: TokenRecord } | { ok: false; reason: "not_found" | "provisioned_by_file" };
  /**
   * Makes the file's tokens the file rows of the table; returns what changed. Throws TokenFileError, writing
   * nothing, when a file token is already another token (`path` names the file in the message).
   */
  syncFile(
    tokens: readonly FileToken[],
    path?: string,
  ): { added: string[]; changed: string[]; revoked: string[] };
};

/** Writes last_used_at at most once a minute per token: one write per request would serialise reads on SQLite. */
const LAST_USED_RESOLUTION_MS = 60_000;
export const FILE_ACTOR = "token-file";

export function createTokenStore(db: DatabaseSync, now: () => Date = () => new Date()): TokenStore {
  const access = createAccessStore(db);
  const byHash = db.prepare("SELECT * FROM api_tokens WHERE token_hash = ?");
  const byName = db.prepare("SELECT * FROM api_tokens WHERE name = ?");
  const byId = db.prepare("SELECT * FROM api_tokens WHERE id = ?");
  const all = db.prepare("SELECT * FROM api_tokens ORDER BY created_at, name");
  const used = db.prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
  const insert = db.prepare(
    `INSERT INTO api_tokens (id, name, role, token_hash, source, generation, created_at, created_by, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const remove = db.prepare("DELETE FROM api_tokens WHERE id = ?");
  const revoke = db.prepare("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?");
  const touchIfService = (role: string, name: string, at: string) => {
    if (isServiceRole(role)) access.touch("service", name, at);
  };

  /** Replaces the row of `name` (if any) by a new token; the generation goes on (the broker drops old sessions). */
  function put(
    name: string,
    role: Role,
    hash: string,
    source: "api" | "file",
    actor: string,
    expires: string | null,
  ) {
    const at = now().toISOString();
    const old = byName.get(name) as TokenRecord | undefined;
    if (old) remove.run(old.id);
    const id = randomUUID();
    insert.run(id, name, role, hash, source, (old?.generation ?? 0) + 1, at, actor, expires);
    if (old && old.role !== role) touchIfService(old.role, name, at);
    touchIfService(role, name, at);
    return byId.get(id) as TokenRecord;
  }

  return {
    authenticate(token) {
      const t = byHash.get(sha256Hash(token)) as TokenRecord | undefined;
      if (!t) return { ok: false, reason: "unknown" };
      const at = now();
      const state = tokenState(t, at.toISOString());
      if (state !== "live") return { ok: false, reason: state };
      if (t.last_used_at === null || at.getTime() - Date.parse(t.last_used_at) >= LAST_USED_RESOLUTION_MS) {
        used.run(at.toISOString(), t.id);
      }
      return { ok: true, token: t };
    },
    create(req, actor) {
      return inTransaction(db, () => {
        const old = byName.get(req.name) as TokenRecord | undefined;
        // A name is free again once its token is revoked or expired (a service's token is renewed this way).
        if (old?.source === "file" && old.revoked_at === null)
          return { ok: false, reason: "provisioned_by_file" } as const;
        if (old && tokenState(old, now().toISOString()) === "live")
          return { ok: false, reason: "name_taken" } as const;
        const token = generateToken();
        const record = put(req.name, req.role, sha256Hash(token), "api", actor, req.expires_at ?? null);
        return { ok: true, token, record } as const;
      });
    },
    list: () => all.all() as TokenRecord[],
    revoke(id, actor) {
      return inTransaction(db, () => {
        const t = byId.get(id) as TokenRecord | undefined;
        if (!t) return { ok: false, reason: "not_found" } as const;
        // File tokens come back at the next start: remove them from the file instead.
        if (t.source === "file" && t.revoked_at === null)
          return { ok: false, reason: "provisioned_by_file" } as const;
        if (t.revoked_at === null) {
          const at = now().toISOString();
          revoke.run(at, actor, id);
          touchIfService(t.role, t.name, at);
        }
        return { ok: true, record: byId.get(id) as TokenRecord } as const;
      });
    },
    syncFile(tokens, path = "(token file)") {
      const result = { added: [] as string[], changed: [] as string[], revoked: [] as string[] };
      inTransaction(db, () => {
        const listed = new Set<string>();
        for (const f of tokens) {
          listed.add(f.name);
          const old = byName.get(f.name) as TokenRecord | undefined;
          const holder = byHash.get(f.hash) as TokenRecord | undefined;
          if (holder && holder.name !== f.name) {
            throw new TokenFileError(path, [`the token of ${f.name} is already the token of ${holder.name}`]);
          }
          if (!old) result.added.push(f.name);
          else if (old.source === "file" && old.role === f.role && holder && old.revoked_at === null)
            continue;
          else result.changed.push(f.name);
          put(f.name, f.role, f.hash, "file", FILE_ACTOR, null);
        }
        const at = now().toISOString();
        for (const t of all.all() as TokenRecord[]) {
          if (t.source !== "file" || t.revoked_at !== null || listed.has(t.name)) continue;
          revoke.run(at, FILE_ACTOR, t.id);
          touchIfService(t.role, t.name, at);
          result.revoked.push(t.name);
        }
      });
      return result;
    },
  };
}
