// Registers the simulated fleet in the device registry through the command service's HTTP API before the
// devices connect (the broker and the ingest only accept registered devices):
//   POST {registryUrl}/v1/devices/bulk  {"devices": DeviceRegistration[], "mode": "upsert"}  (≤ 1000 per request)
//   200 {"created":n,"updated":n} | 400 {"error":"validation_failed","rows":[{"index","field","message"}]}
// The command service may be starting at the same time, so connection failures and 5xx answers are retried
// with exponential backoff for a while. Outcomes are values (STYLE.md, habit 6); main.ts decides to exit.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { type DeviceRegistration, deviceRegistration } from "../services/contract/devices.ts";

export const MAX_REGISTRATION_CHUNK = 1000;

export type RegistrationRow = { index: number; field: string; message: string };

export type RegisterResult =
  | { ok: true; created: number; updated: number; requests: number }
  | { ok: false; reason: "validation_failed"; detail: string; rows: RegistrationRow[] }
  | { ok: false; reason: "unreachable"; detail: string }
  | { ok: false; reason: "http_error"; status: number; detail: string };

export type RegisterOptions = {
  chunkSize?: number;
  /** Keep retrying an unreachable or failing (5xx) service for this long, ms. */
  retryForMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
};

type Attempt = { done: RegisterResult | { created: number; updated: number } } | { retry: string };

export async function registerFleet(
  url: string,
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
  const endpoint = `${url.replace(/\/+$/, "")}/v1/devices/bulk`;
  const deadline = Date.now() + (opts.retryForMs ?? 120_000);
  let created = 0;
  let updated = 0;
  let requests = 0;
  for (let offset = 0; offset < devices.length; offset += chunkSize) {
    const body = JSON.stringify({ devices: devices.slice(offset, offset + chunkSize), mode: "upsert" });
    let backoff = opts.initialBackoffMs ?? 250;
    for (let attempt = 1; ; attempt++) {
      const outcome = await post(endpoint, body, offset, opts.requestTimeoutMs ?? 30_000);
      requests++;
      if ("done" in outcome) {
        if ("ok" in outcome.done) return outcome.done;
        created += outcome.done.created;
        updated += outcome.done.updated;
        break;
      }
      if (Date.now() + backoff > deadline) {
        return {
          ok: false,
          reason: "unreachable",
          detail: `${endpoint}: ${outcome.retry} (gave up after ${attempt} attempts)`,
        };
      }
      log.info(
        { url: endpoint, attempt, retryInMs: backoff, reason: outcome.retry },
        "registry not ready, retrying",
      );
      await sleep(backoff);
      backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 5000);
    }
  }
  log.info({ devices: devices.length, created, updated, requests }, "fleet registered");
  return { ok: true, created, updated, requests };
}

async function post(endpoint: string, body: string, offset: number, timeoutMs: number): Promise<Attempt> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { retry: cause?.code ?? (err as Error).message };
  }
  const json = parseJson(text);
  if (res.ok) {
    const counts = json as { created?: unknown; updated?: unknown } | undefined;
    return { done: { created: Number(counts?.created ?? 0), updated: Number(counts?.updated ?? 0) } };
  }
  if (res.status >= 500 || res.status === 408 || res.status === 429) return { retry: `HTTP ${res.status}` };
  const answer = json as { error?: string; rows?: RegistrationRow[] } | undefined;
  if (res.status === 400 && answer?.error === "validation_failed") {
    const rows = (answer.rows ?? []).map((r) => ({ ...r, index: r.index + offset }));
    return { done: { ok: false, reason: "validation_failed", detail: "rejected by the registry", rows } };
  }
  return { done: { ok: false, reason: "http_error", status: res.status, detail: text.slice(0, 500) } };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
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
