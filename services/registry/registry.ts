// The registry's stores over one SQLite connection, as the command service uses them. Other modules of the
// command service (commissioning, liveness) build their own stores on `db` and record device changes through
// `audit` (services/registry/audit.ts), so every change lands in the same three logs.
import type { DatabaseSync } from "node:sqlite";
import { type AccessStore, createAccessStore } from "./access.ts";
import { type AuditStore, createAuditStore } from "./audit.ts";
import { type CredentialStore, createCredentialStore } from "./credentials.ts";
import { createLifecycle, type Lifecycle } from "./lifecycle.ts";
import { createDeviceStore, type DeviceStoreOptions, openRegistryDb, type RegistryStore } from "./store.ts";
import { createTokenStore, type TokenStore } from "./tokens.ts";

export type Registry = {
  db: DatabaseSync;
  devices: RegistryStore;
  lifecycle: Lifecycle;
  credentials: CredentialStore;
  tokens: TokenStore;
  access: AccessStore;
  audit: AuditStore;
  close(): void;
};

export function createRegistry(db: DatabaseSync, opts: DeviceStoreOptions = {}): Registry {
  const now = opts.now ?? (() => new Date());
  return {
    db,
    devices: createDeviceStore(db, opts),
    lifecycle: createLifecycle(db, now),
    credentials: createCredentialStore(db),
    tokens: createTokenStore(db, now),
    access: createAccessStore(db),
    audit: createAuditStore(db),
    close: () => db.close(),
  };
}

export function openRegistry(path: string, opts: DeviceStoreOptions = {}): Registry {
  return createRegistry(openRegistryDb(path), opts);
}
