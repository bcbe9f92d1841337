// Registers the simulated fleet in the device registry through the command service's HTTP API before the
// devices connect (the broker only lets registered devices in, with their own secret):
//   POST {url}/v1/devices/bulk  {"devices": DeviceRegistration[], "mode": "upsert"}  (≤ 1000 per request)
//   200 {"created": n, "updated": n, "credentials": [...]}  credentials only for the newly created devices,
//       each secret shown this once (the caller stores it at once: credentials.ts)
//   400 {"error": "validation_failed", "message", "issues": [{"field", "message", "index"}]}
// The command service may be starting at the same time, so connection failures and 5xx answers are retried
// with exponential backoff for a while (api.ts). Outcomes are values (STYLE.md, habit 6); main.ts decides.
import { type DeviceRegistration, deviceRegistration } from "../services/contract/devices.ts";
import type { Logger } from "../services/lib/log.ts";
import { type Api, type RetryPolicy, UNREACHABLE } from "./api.ts";
import { type IssuedCredentials, parseCredentialsList } from "./credentials.ts";

export const MAX_REGISTRATION_CHUNK = 1000;

export type RegistrationRow = { index: number; field: string; message: string };

export type RegisterResult =
  | { ok: true; created: number; updated: number; requests: number; credentials: IssuedCredentials[] }
  | { ok: false; reason: "validation_failed"; detail: string; rows: RegistrationRow[] }
  | { ok: false; reason: "unreachable"; detail: string }
  | { ok: false; reason: "http_error"; status: number; error: string; detail: string };

export type RegisterOptions = {
  chunkSize?: number;
  /** Default: retry an unreachable or failing (5xx) service for 2 minutes. */
  retry?: RetryPolicy;
  /** Called after each chunk with the credentials it brought, so they are stored before the next request. */
  onCredentials?: (credentials: IssuedCredentials[]) => Promise<void> | void;
};

export async function registerFleet(
  api: Api,
  devices: readonly DeviceRegistration[],
  log: Logger,
  opts: RegisterOptions = {},
): Promise<RegisterResult> {
  const rows = localCheck(devices);
  if (rows.length > 0) {
    return {
      ok: false,
      reason: "validation_failed",
      detail: "rejected before sending (contract check)",
      rows,
    };
  }
  const chunkSize = Math.min(opts.chunkSize ?? MAX_REGISTRATION_CHUNK, MAX_REGISTRATION_CHUNK);
  const retry = opts.retry ?? { forMs: 120_000 };
  const credentials: IssuedCredentials[] = [];
  let created = 0;
  let updated = 0;
  let requests = 0;
  for (let offset = 0; offset < devices.length; offset += chunkSize) {
    const chunk = devices.slice(offset, offset + chunkSize);
    const answer = await api.request({
      method: "POST",
      path: "/v1/devices/bulk",
      body: { devices: chunk, mode: "upsert" },
      retry,
    });
    requests++;
    if (!answer.ok) {
      if (answer.error === UNREACHABLE)
        return { ok: false, reason: "unreachable", detail: `${api.url}: ${answer.message}` };
      if (answer.status === 400 && answer.error === "validation_failed") {
        const detail = `rejected by the registry: ${answer.message}`;
        return { ok: false, reason: "validation_failed", detail, rows: issueRows(answer.body, offset) };
      }
      return {
        ok: false,
        reason: "http_error",
        status: answer.status,
        error: answer.error,
        detail: answer.message,
      };
    }
    const body = (answer.body ?? {}) as { created?: unknown; updated?: unknown; credentials?: unknown };
    const issued = parseCredentialsList(body.credentials);
    const n = Number(body.created ?? 0);
    if (issued.length < n)
      log.warn({ created: n, credentials: issued.length }, "registry created devices without credentials");
    await opts.onCredentials?.(issued);
    credentials.push(...issued);
    created += n;
    updated += Number(body.updated ?? 0);
  }
  log.info({ devices: devices.length, created, updated, requests }, "fleet registered");
  return { ok: true, created, updated, requests, credentials };
}

/** The registry's per-row issues, indexed into the whole fleet. */
function issueRows(body: unknown, offset: number): RegistrationRow[] {
  const b = (body ?? {}) as { issues?: unknown };
  const list = Array.isArray(b.issues) ? b.issues : [];
  return list.map((r: { index?: unknown; field?: unknown; message?: unknown }) => ({
    index: (typeof r.index === "number" ? r.index : 0) + offset,
    field: String(r.field ?? ""),
    message: String(r.message ?? ""),
  }));
}

function localCheck(devices: readonly DeviceRegistration[]): RegistrationRow[] {
  const rows: RegistrationRow[] = [];
  devices.forEach((d, index) => {
    const parsed = deviceRegistration.safeParse(d);
    if (parsed.success) return;
    for (const issue of parsed.error.issues)
      rows.push({ index, field: issue.path.join("."), message: issue.message });
  });
  return rows;
}
