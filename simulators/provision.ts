// Provisioning the fleet before it connects: register (upsert) through the API, keep the secrets of newly
// created devices (credentials.ts), read the registry's view of the fleet (status, live credential
// generation) and rotate the credentials of devices the file has no live secret for. What comes back tells
// the commissioning which devices are not commissioned yet.
//   GET  /v1/devices?limit&after                → {devices: [DeviceRecord & …], next}
//   POST /v1/devices/credentials/rotate {ids}   → {credentials: [...]}   (≤ 1000 ids)
import { DEVICE_STATUSES } from "../services/contract/devices.ts";
import type { Logger } from "../services/lib/log.ts";
import type { Api, RetryPolicy } from "./api.ts";
import {
  type CredentialStore,
  chunks,
  type IssuedCredentials,
  parseCredentialsList,
  planRotation,
  type RegistryView,
} from "./credentials.ts";
import { type SimDevice, toRegistration } from "./plan.ts";
import { type RegisterResult, registerFleet } from "./register.ts";

export const MAX_ROTATE_IDS = 1000;
const LIST_PAGE = 1000;

export type ProvisionResult =
  | { ok: true; registry: ReadonlyMap<string, RegistryView> | undefined; created: number; rotated: number }
  | Exclude<RegisterResult, { ok: true }>;

export type ProvisionDeps = {
  api: Api;
  devices: readonly SimDevice[];
  store: CredentialStore;
  log: Logger;
  retry: RetryPolicy;
};

export async function provisionFleet(deps: ProvisionDeps): Promise<ProvisionResult> {
  const { api, devices, store, log, retry } = deps;
  const register = (list: readonly SimDevice[]) =>
    registerFleet(api, list.map(toRegistration), log, {
      retry,
      // Shown once: on disk before anything else can go wrong.
      onCredentials: async (issued) => {
        if (issued.length === 0) return;
        store.set(issued);
        await store.save();
      },
    });
  let registered = await register(devices);
  // An upsert is all or nothing and the registry will not update a decommissioned device: when those are the only
  // refusals, register the rest without them, as a controller taken off its pole would no longer report.
  if (!registered.ok && registered.reason === "validation_failed" && registered.rows.length > 0) {
    const refused = registered.rows.filter((r) => r.message.startsWith("decommissioned"));
    if (refused.length === registered.rows.length) {
      const gone = new Set(refused.map((r) => devices[r.index]?.id));
      log.info({ devices: gone.size }, "decommissioned devices left out of the fleet's registration");
      registered = await register(devices.filter((d) => !gone.has(d.id)));
    }
  }
  if (!registered.ok) return registered;
  const ids = devices.map((d) => d.id);
  const registry = await readRegistry(api, new Set(ids), log, retry);
  const plan = planRotation(
    ids,
    (id) => store.get(id),
    new Set(registered.credentials.map((c) => c.id)),
    registry,
  );
  let rotated = 0;
  for (const chunk of chunks(
    plan.rotate.map((r) => r.id),
    MAX_ROTATE_IDS,
  )) {
    const issued = await rotate(api, chunk, log, retry);
    store.set(issued);
    await store.save();
    rotated += issued.length;
  }
  const count = (why: string) => plan.rotate.filter((r) => r.why === why).length;
  if (plan.rotate.length > 0)
    log.info(
      { missing: count("missing"), stale: count("stale"), rotated, file: store.path },
      "rotated the credentials of devices the credentials file had no live secret for",
    );
  for (const s of plan.skipped)
    log.warn({ deviceId: s.id, why: s.why }, "device left without credentials: the broker will refuse it");
  return { ok: true, registry, created: registered.created, rotated };
}

/** The registry's view of the fleet's devices, or undefined when it cannot be read (logged). */
export async function readRegistry(
  api: Api,
  ids: ReadonlySet<string>,
  log: Logger,
  retry: RetryPolicy,
): Promise<Map<string, RegistryView> | undefined> {
  const views = new Map<string, RegistryView>();
  let after: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const query = `limit=${LIST_PAGE}${after ? `&after=${encodeURIComponent(after)}` : ""}`;
    const answer = await api.request({ method: "GET", path: `/v1/devices?${query}`, retry });
    if (!answer.ok) {
      log.warn({ status: answer.status, error: answer.error }, "cannot list the registry's devices");
      return undefined;
    }
    const body = (answer.body ?? {}) as { devices?: unknown; next?: unknown };
    for (const d of Array.isArray(body.devices) ? body.devices : []) {
      const { id, status, credential_generation } = d as Record<string, unknown>;
      if (typeof id !== "string" || !ids.has(id)) continue;
      if (!(DEVICE_STATUSES as readonly unknown[]).includes(status)) continue;
      views.set(id, {
        status: status as RegistryView["status"],
        ...(typeof credential_generation === "number" ? { credential_generation } : {}),
      });
    }
    if (typeof body.next !== "string" || body.next === "") return views;
    after = body.next;
  }
  return views;
}

/**
 * POST /v1/devices/credentials/rotate for ≤ 1000 ids. The call is all or nothing: when the registry names ids
 * it will not rotate (decommissioned meanwhile, unknown), they are left out and the rest is asked again once.
 */
async function rotate(
  api: Api,
  ids: string[],
  log: Logger,
  retry: RetryPolicy,
): Promise<IssuedCredentials[]> {
  for (let attempt = 1; ids.length > 0; attempt++) {
    const answer = await api.request({
      method: "POST",
      path: "/v1/devices/credentials/rotate",
      body: { ids },
      retry,
    });
    if (answer.ok)
      return parseCredentialsList((answer.body as { credentials?: unknown } | undefined)?.credentials);
    const issues =
      (answer.body as { issues?: { id?: unknown; message?: unknown }[] } | undefined)?.issues ?? [];
    const refused = new Set(issues.map((i) => i.id).filter((id): id is string => typeof id === "string"));
    if (attempt === 1 && answer.error === "validation_failed" && refused.size > 0) {
      for (const i of issues)
        log.warn({ deviceId: i.id, reason: i.message }, "registry will not rotate this device");
      ids = ids.filter((id) => !refused.has(id));
      continue;
    }
    log.error(
      { devices: ids.length, status: answer.status, error: answer.error, message: answer.message },
      "could not rotate credentials: these devices will be refused by the broker",
    );
    return [];
  }
  return [];
}
