// The one way the CLI talks to the command service. An API refusal (4xx/5xx with `{error, message, issues}`)
// and an unreachable service are values, not exceptions (STYLE.md, habit 6): commands map them to exit codes.
import type { ApiErrorBody } from "./api-types.ts";

export type Outcome<T> =
  | { kind: "ok"; status: number; body: T }
  | { kind: "refused"; status: number; error: ApiErrorBody; retryAfter: string | null }
  | { kind: "unreachable"; message: string };

export type RequestOptions = {
  /** JSON-encoded unless `contentType` says otherwise (then sent as is). */
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | undefined>;
  /** Default 30 s; identify waits for the device's ack, so longer. */
  timeoutMs?: number;
  signal?: AbortSignal;
};

export type ApiClient = {
  readonly url: string;
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<Outcome<T>>;
};

export type ClientOptions = {
  url: string;
  token: string | null;
  fetch?: typeof fetch;
  /** Aborts every request (Ctrl-C). */
  signal?: AbortSignal;
};

export function createClient(opts: ClientOptions): ApiClient {
  const doFetch = opts.fetch ?? fetch;
  return {
    url: opts.url,
    async request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<Outcome<T>> {
      const target = new URL(path.replace(/^\//, ""), `${opts.url}/`);
      for (const [k, v] of Object.entries(ro.query ?? {})) {
        if (v !== undefined) target.searchParams.set(k, String(v));
      }
      const headers: Record<string, string> = { accept: "application/json" };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (ro.body !== undefined) {
        headers["content-type"] = ro.contentType ?? "application/json";
        body = ro.contentType ? String(ro.body) : JSON.stringify(ro.body);
      }
      const timeout = AbortSignal.timeout(ro.timeoutMs ?? 30_000);
      let res: Response;
      let text: string;
      try {
        res = await doFetch(target, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.any([timeout, ...[ro.signal, opts.signal].filter((x) => x !== undefined)]),
        });
        text = await res.text();
      } catch (err) {
        return { kind: "unreachable", message: unreachableMessage(opts.url, err) };
      }
      const parsed = parseJson(text);
      if (res.ok) return { kind: "ok", status: res.status, body: parsed as T };
      return {
        kind: "refused",
        status: res.status,
        error: errorBody(res.status, parsed, text),
        retryAfter: res.headers.get("retry-after"),
      };
    },
  };
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Normalises any error answer to `{error, message, issues}` (a proxy's HTML page included). */
export function errorBody(status: number, parsed: unknown, text: string): ApiErrorBody {
  if (parsed && typeof parsed === "object" && "error" in parsed) {
    const p = parsed as Partial<ApiErrorBody> & { error: unknown };
    return {
      error: String(p.error),
      message: typeof p.message === "string" ? p.message : "",
      issues: Array.isArray(p.issues) ? p.issues : [],
    };
  }
  return { error: `http_${status}`, message: text.slice(0, 200).trim() || `HTTP ${status}`, issues: [] };
}

function unreachableMessage(url: string, err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer from ${url} in time`;
  if (e.name === "AbortError") return "request aborted";
  const cause = e.cause?.code ?? e.cause?.message ?? e.message;
  return `cannot reach the command service at ${url} (${cause})`;
}
