// Writes to devices through their lifecycle (after TALQ's commissioning model, contract/devices.ts): register
// (one or many, all or nothing), correct, rotate or revoke credentials, replace the controller, decommission.
// Each operation is one transaction that also records the change (audit.ts: registry feed, history, access feed).
// The policy checks (exists? decommissioned?) run inside the transaction, so they hold even if another request
// changed the device while this one was hashing secrets. Expected refusals are values, not exceptions.
import type { DatabaseSync } from "node:sqlite";
import type { DeviceRecord, DeviceStatus } from "../contract/devices.ts";
import { createAuditStore } from "./audit.ts";
import { createCredentialStore } from "./credentials.ts";
import { inTransaction, statementCache } from "./sqlite.ts";
import type { NewDevice } from "./store.ts";

export type Refusal = {
  id: string;
  reason: "not_found" | "decommissioned" | "already_registered" | "kind_changed";
};
export type Refused = { ok: false; refusals: Refusal[] };

/** Fields an engineer may correct (PATCH /v1/devices/:id). */
export type DevicePatch = Partial<Omit<NewDevice, "id" | "kind">>;
export const PATCHABLE = [
  "district",
  "lat",
  "lon",
  "installed_at",
  "report_interval_s",
  "led_watts",
  "legacy_watts",
  "serial",
] as const satisfies readonly (keyof DevicePatch)[];
/** The columns of a registration besides its id, in the order of the table and of the CSV import. */
export const COLUMNS = ["kind", ...PATCHABLE] as const;

/** Why nothing more can be done to a device: there is none, or it is decommissioned. */
export type Unusable = { id: string; reason: "not_found" | "decommissioned" };

/**
 * Device `id` as read (`d`, undefined when there is none) if it exists and is not decommissioned, else why
 * not. Every operation on a device but its registration and its history starts with this.
 */
export function usable<D extends { status: DeviceStatus }>(id: string, d: D | undefined): D | Unusable {
  if (!d) return { id, reason: "not_found" };
  return d.status === "decommissioned" ? { id, reason: "decommissioned" } : d;
}
export const isUnusable = <D extends object>(x: D | Unusable): x is Unusable => "reason" in x;
/** The words of the API's 404 and 409 for an unusable device (errors.ts notFound, routes/devices.ts). */
export const unusableMessage = (u: Unusable): string =>
  u.reason === "not_found" ? `device ${u.id} not found` : `device ${u.id} is decommissioned`;

/** Why registering `d` over the existing device `existing` is refused, if it is. */
export function registrationRefusal(
  existing: DeviceRecord,
  d: NewDevice,
  mode: "create" | "upsert",
): Refusal | undefined {
  if (mode === "create") return { id: d.id, reason: "already_registered" };
  if (existing.status === "decommissioned") return { id: d.id, reason: "decommissioned" };
  if (existing.kind !== d.kind) return { id: d.id, reason: "kind_changed" };
  return undefined;
}

export type Lifecycle = {
  /**
   * Registers the devices given a secret hash and, in mode `upsert`, updates the others with the fields given (an
   * absent optional field stays as it is, and so do their credentials).
   * `create` refuses ids that exist. Nothing is written if anything is refused.
   */
  register(
    rows: readonly { device: NewDevice; secretHash?: string | undefined }[],
    mode: "create" | "upsert",
    actor: string,
  ): { ok: true; created: { id: string; generation: number }[]; updated: string[] } | Refused;
  patch(id: string, patch: DevicePatch, actor: string): { ok: true; device: DeviceRecord } | Refused;
  /** New credentials for each device (secret hashes made beforehand); all or nothing. */
  rotate(
    rows: readonly { id: string; secretHash: string }[],
    actor: string,
  ): { ok: true; generations: Map<string, number> } | Refused;
  revokeCredentials(id: string, actor: string): { ok: true; device: DeviceRecord } | Refused;
  /** A new controller at the same point: new credential, back to `registered`, running commissioning cancelled. */
  replace(
    id: string,
    change: { serial?: string | undefined; note?: string | undefined; secretHash: string },
    actor: string,
  ): { ok: true; device: DeviceRecord; generation: number } | Refused;
  decommission(id: string, reason: string, actor: string): { ok: true; device: DeviceRecord } | Refused;
};

export function createLifecycle(db: DatabaseSync, now: () => Date = () => new Date()): Lifecycle {
  const audit = createAuditStore(db);
  const credentials = createCredentialStore(db);
  const get = db.prepare("SELECT * FROM devices WHERE id = ?");
  const insert = db.prepare(
    `INSERT INTO devices (id, ${COLUMNS.join(", ")}, status, credential_generation, created_at, updated_at)
     VALUES (?, ${COLUMNS.map(() => "?").join(", ")}, 'registered', 0, ?, ?)`,
  );
  const setStatus = db.prepare("UPDATE devices SET status = ?, updated_at = ? WHERE id = ?");
  // Commissioning runs are the commissioning helper's (registry/commissioning.ts); a replacement or a
  // decommissioning ends a running one here, in the same transaction, so no run outlives the device it checks.
  const cancelChecks = db.prepare(
    `UPDATE commissioning_checks SET status = 'skipped', finished_at = ?, detail = ?
      WHERE status IN ('pending', 'running')
        AND run_id IN (SELECT id FROM commissioning_runs WHERE device_id = ? AND status = 'running')`,
  );
  const cancelRuns = db.prepare(
    "UPDATE commissioning_runs SET status = 'cancelled', finished_at = ? WHERE device_id = ? AND status = 'running'",
  );

  // One UPDATE per set of changed columns, their SQL in the order of COLUMNS: at most 2^8.
  const updateOf = statementCache(db);

  const find = (id: string) => get.get(id) as DeviceRecord | undefined;
  const refused = (refusals: Refusal[]): Refused => ({ ok: false, refusals });
  const live = (id: string) => usable(id, find(id));
  const cancelCommissioning = (id: string, at: string, why: string): number => {
    cancelChecks.run(at, `cancelled: ${why}`, id);
    return Number(cancelRuns.run(at, id).changes);
  };
  /** Updates the given columns (undefined: left as is); returns {column: {from, to}} of those that changed. */
  const update = (
    d: DeviceRecord,
    fields: Partial<Record<(typeof COLUMNS)[number], unknown>>,
    at: string,
  ) => {
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const [k, to] of Object.entries(fields)) {
      const from = d[k as keyof DeviceRecord];
      if (to !== undefined && from !== to) changes[k] = { from, to };
    }
    const keys = COLUMNS.filter((c) => c in changes);
    if (keys.length > 0) {
      updateOf(
        `UPDATE devices SET ${keys.map((k) => `${k} = ?`).join(", ")}, updated_at = ? WHERE id = ?`,
      ).run(...keys.map((k) => changes[k]?.to as string | number | null), at, d.id);
    }
    return changes;
  };

  return {
    register(rows, mode, actor) {
      const at = now().toISOString();
      const refusals: Refusal[] = [];
      const created: { id: string; generation: number }[] = [];
      const updated: string[] = [];
      inTransaction(
        db,
        () => {
          for (const { device: d, secretHash } of rows) {
            const existing = find(d.id);
            if (!existing && secretHash) {
              insert.run(d.id, ...COLUMNS.map((c) => d[c] ?? null), at, at);
              const generation = credentials.issue(d.id, secretHash, actor, at);
              const { id: _, ...facts } = d;
              audit.record({
                id: d.id,
                actor,
                action: "registered",
                detail: { ...facts, generation },
                access: true,
                at,
              });
              created.push({ id: d.id, generation });
              continue;
            }
            const refusal = existing
              ? registrationRefusal(existing, d, mode)
              : { id: d.id, reason: "not_found" as const };
            if (refusal) refusals.push(refusal);
            else if (existing) {
              const { id: _, kind: __, ...fields } = d;
              const changes = update(existing, fields, at);
              if (Object.keys(changes).length === 0) continue;
              audit.record({ id: d.id, actor, action: "updated", detail: { changes }, access: false, at });
              updated.push(d.id);
            }
          }
          return refusals.length === 0;
        },
        (ok) => ok,
      );
      return refusals.length > 0 ? refused(refusals) : { ok: true, created, updated };
    },

    patch(id, patch, actor) {
      const at = now().toISOString();
      return inTransaction(db, () => {
        const d = live(id);
        if (isUnusable(d)) return refused([d]);
        const changes = update(d, patch, at);
        if (Object.keys(changes).length > 0)
          audit.record({ id, actor, action: "updated", detail: { changes }, access: false, at });
        return { ok: true as const, device: find(id) as DeviceRecord };
      });
    },

    rotate(rows, actor) {
      const at = now().toISOString();
      const generations = new Map<string, number>();
      const refusals: Refusal[] = [];
      inTransaction(
        db,
        () => {
          for (const { id, secretHash } of rows) {
            const d = live(id);
            if (isUnusable(d)) {
              refusals.push(d);
              continue;
            }
            const generation = credentials.issue(id, secretHash, actor, at);
            generations.set(id, generation);
            audit.record({
              id,
              actor,
              action: "credentials_rotated",
              detail: { generation, previous: d.credential_generation },
              access: true,
              at,
            });
          }
          return refusals.length === 0;
        },
        (ok) => ok,
      );
      return refusals.length > 0 ? refused(refusals) : { ok: true, generations };
    },

    revokeCredentials(id, actor) {
      const at = now().toISOString();
      return inTransaction(db, () => {
        const d = live(id);
        if (isUnusable(d)) return refused([d]);
        const revoked = credentials.revokeAll(id, actor, at);
        audit.record({
          id,
          actor,
          action: "credentials_revoked",
          detail: { generation: d.credential_generation, revoked },
          access: true,
          at,
        });
        return { ok: true as const, device: find(id) as DeviceRecord };
      });
    },

    replace(id, change, actor) {
      const at = now().toISOString();
      return inTransaction(db, () => {
        const d = live(id);
        if (isUnusable(d)) return refused([d]);
        const changes = change.serial === undefined ? {} : update(d, { serial: change.serial }, at);
        setStatus.run("registered", at, id);
        const generation = credentials.issue(id, change.secretHash, actor, at);
        const cancelledRuns = cancelCommissioning(id, at, "device replaced");
        audit.record({
          id,
          actor,
          action: "replaced",
          detail: {
            status: { from: d.status, to: "registered" },
            generation: { from: d.credential_generation, to: generation },
            ...changes,
            ...(change.note ? { note: change.note } : {}),
            ...(cancelledRuns > 0 ? { cancelled_commissioning_runs: cancelledRuns } : {}),
          },
          access: true,
          at,
        });
        return { ok: true as const, device: find(id) as DeviceRecord, generation };
      });
    },

    decommission(id, reason, actor) {
      const at = now().toISOString();
      return inTransaction(db, () => {
        const d = live(id);
        if (isUnusable(d)) return refused([d]);
        const revoked = credentials.revokeAll(id, actor, at);
        setStatus.run("decommissioned", at, id);
        const cancelledRuns = cancelCommissioning(id, at, "device decommissioned");
        audit.record({
          id,
          actor,
          action: "decommissioned",
          detail: {
            reason,
            status: { from: d.status, to: "decommissioned" },
            revoked_credentials: revoked,
            ...(cancelledRuns > 0 ? { cancelled_commissioning_runs: cancelledRuns } : {}),
          },
          access: true,
          at,
        });
        return { ok: true as const, device: find(id) as DeviceRecord };
      });
    },
  };
}
