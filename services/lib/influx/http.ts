// The few plain HTTP calls we make ourselves (ping, /query, bucket and database management).
// Writes go through @influxdata/influxdb-client instead (write.ts).
import { InfluxHttpError, InfluxUnreachableError } from "./errors.ts";

export type Major = 1 | 2 | 3;

/**
 * How each major version expects credentials:
 * - 1.x: "user:password" as HTTP Basic (1.6 knows only Basic, u/p and JWT Bearer; `Token user:pass`
 *   arrived in 1.8); anything else is passed as a token for 1.8+'s 2.x-compatible API.
 * - 2.x and 3: `Authorization: Token <token>` (3 also accepts Bearer).
 * With the major not yet known (detection), a "user:password" token is still sent as Basic.
 */
export function authHeader(major: Major | undefined, token: string): Record<string, string> {
  if (!token) return {};
  if ((major === 1 || major === undefined) && token.includes(":")) {
    return { authorization: `Basic ${Buffer.from(token).toString("base64")}` };
  }
  return { authorization: `Token ${token}` };
}

export type HttpContext = { url: string; timeoutMs: number; headers: Record<string, string> };

export async function http(
  ctx: HttpContext,
  method: "GET" | "POST" | "HEAD",
  path: string,
  body?: { form?: URLSearchParams; json?: unknown },
): Promise<Response> {
  const headers: Record<string, string> = { ...ctx.headers };
  let payload: string | URLSearchParams | undefined;
  if (body?.form) payload = body.form;
  else if (body?.json !== undefined) {
    payload = JSON.stringify(body.json);
    headers["content-type"] = "application/json";
  }
  try {
    return await fetch(`${ctx.url}${path}`, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
  } catch (err) {
    throw new InfluxUnreachableError(ctx.url, err);
  }
}

/** Reads the body and throws InfluxHttpError unless the status is 2xx. */
export async function okText(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new InfluxHttpError(what, res.status, text);
  return text;
}
