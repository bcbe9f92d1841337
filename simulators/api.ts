// The simulators' client of the command service's REST API (docs: GET /docs on the service): JSON in and
// out, the fleet's API token as `Authorization: Bearer`, and retries with exponential backoff while the
// service is starting or overloaded (connection refused, 5xx, 408, 429 with its Retry-After). Answers are
// values (STYLE.md, habit 6): `ok` with the body, or the service's error code and message.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../services/lib/log.ts";

export type ApiAnswer =
  | { ok: true; status: number; body: unknown }
  | { ok: false; status: number; error: string; message: string; body: unknown };

export type RetryPolicy = {
  /** Keep retrying an unreachable or failing service for this long, ms (0: one attempt). */
  forMs: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
};

export type ApiRequest = {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  retry?: RetryPolicy;
  signal?: AbortSignal;
};

export type Api = {
  readonly url: string;
  request(req: ApiRequest): Promise<ApiAnswer>;
};

export type ApiOptions = { url: string; token: string; log: Logger; timeoutMs?: number };

/** Status 0: no HTTP answer at all (refused, reset, timed out). */
export const UNREACHABLE = "unreachable";

export function createApi(opts: ApiOptions): Api {
  const base = opts.url.replace(/\/+$/, "");
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;

  async function once(req: ApiRequest): Promise<ApiAnswer & { retryAfterMs?: number }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${base}${req.path}`, {
        method: req.method,
        headers: req.body === undefined ? headers : { ...headers, "content-type": "application/json" },
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
        signal: AbortSignal.any([
          AbortSignal.timeout(opts.timeoutMs ?? 30_000),
          ...(req.signal ? [req.signal] : []),
        ]),
      });
      text = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      return {
        ok: false,
        status: 0,
        error: UNREACHABLE,
        message: cause?.code ?? (err as Error).message,
        body: undefined,
      };
    }
    const body = parseJson(text);
    if (res.ok) return { ok: true, status: res.status, body };
    const e = (body ?? {}) as { error?: unknown; message?: unknown };
    const retryAfterS = Number(res.headers.get("retry-after"));
    return {
      ok: false,
      status: res.status,
      error: typeof e.error === "string" ? e.error : `http_${res.status}`,
      message: typeof e.message === "string" ? e.message : text.slice(0, 300),
      body,
      ...(Number.isFinite(retryAfterS) && retryAfterS > 0 ? { retryAfterMs: retryAfterS * 1000 } : {}),
    };
  }

  return {
    url: base,
    async request(req) {
      const policy = req.retry ?? { forMs: 0 };
      const deadline = Date.now() + policy.forMs;
      let backoff = policy.initialBackoffMs ?? 250;
      for (let attempt = 1; ; attempt++) {
        const { retryAfterMs, ...answer } = await once(req);
        if (answer.ok || !isTransient(answer.status) || req.signal?.aborted) return answer;
        const wait = Math.max(backoff, retryAfterMs ?? 0);
        if (Date.now() + wait > deadline) return answer;
        opts.log.info(
          { path: req.path, attempt, retryInMs: wait, status: answer.status, reason: answer.message },
          "command service not ready, retrying",
        );
        await sleep(wait, undefined, req.signal ? { signal: req.signal } : {}).catch(() => undefined);
        backoff = Math.min(backoff * 2, policy.maxBackoffMs ?? 5000);
      }
    },
  };
}

/** Worth retrying: no answer, a server error, a timeout or rate limiting. */
export function isTransient(status: number): boolean {
  return status === 0 || status >= 500 || status === 408 || status === 429;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
