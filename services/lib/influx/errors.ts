// One coded error class per way talking to InfluxDB fails (STYLE.md: fastify's FST_ERR_*).
// Both are exceptions, not values: they mean an outage or a bug, and the caller (a durable spool) retries.

/** The server answered but refused: carries the HTTP status and the server's own words. */
export class InfluxHttpError extends Error {
  readonly code = "INFLUX_HTTP";
  readonly status: number;
  /** The raw response body (1.x/2.x send JSON `{"error": ...}` or `{"code","message"}`). */
  readonly body: string;
  constructor(what: string, status: number, body: string) {
    super(`${what}: HTTP ${status}: ${serverMessage(body) || "(empty body)"}`);
    this.name = "InfluxHttpError";
    this.status = status;
    this.body = body;
  }
}

/** No answer at all: connection refused, reset, DNS, timeout. */
export class InfluxUnreachableError extends Error {
  readonly code = "INFLUX_UNREACHABLE";
  constructor(url: string, cause: unknown) {
    super(`InfluxDB at ${url} is unreachable: ${describeCause(cause)}`, { cause });
    this.name = "InfluxUnreachableError";
  }
}

/** Pulls the human message out of an InfluxDB error body, whichever major version wrote it. */
export function serverMessage(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof json.error === "string") return json.error;
    if (typeof json.message === "string") return json.message;
  } catch {
    // not JSON: use the text itself
  }
  return body.trim().slice(0, 1000);
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // fetch() wraps the socket error: "fetch failed" with cause ECONNREFUSED.
  const inner = (cause as { cause?: unknown }).cause;
  const code = (inner as NodeJS.ErrnoException | undefined)?.code ?? (cause as NodeJS.ErrnoException).code;
  return code ? `${cause.message} (${code})` : cause.message;
}
