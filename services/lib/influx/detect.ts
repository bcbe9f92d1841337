// Which InfluxDB answers at a URL, decided by what the server reports, never by a user flag:
// GET /ping → `X-Influxdb-Version` (1.x, 2.x and 3 all send it), else a JSON body with `version`
// (3 Core), else GET /health (2.x: `{"name":"influxdb","version":"v2.7.x"}`).
import { authHeader, type HttpContext, http, type Major } from "./http.ts";

export type ServerInfo = { major: Major; version: string; build?: string };

export type DetectFailure = {
  ok: false;
  /** unreachable: no answer; unauthorized: 401/403 (3 Core guards /ping); not_influxdb: answered but unrecognised. */
  reason: "unreachable" | "unauthorized" | "not_influxdb";
  message: string;
  status?: number;
};
export type DetectResult = { ok: true; server: ServerInfo } | DetectFailure;

/** "1.6.7~rc0", "v2.7.11", "3.2.0", "3.0.0-nightly" → major + version; undefined when unrecognised. */
export function parseServerVersion(
  version: string | null | undefined,
  build?: string | null,
): ServerInfo | undefined {
  const v = version?.trim();
  const m = v ? /^v?(\d+)\.\d+/.exec(v) : null;
  if (!m || !v) return undefined;
  const major = Number(m[1]);
  if (major !== 1 && major !== 2 && major !== 3) return undefined;
  return build ? { major, version: v.replace(/^v/, ""), build } : { major, version: v.replace(/^v/, "") };
}

async function jsonVersion(res: Response): Promise<string | undefined> {
  if (!res.headers.get("content-type")?.includes("json")) {
    await res.body?.cancel();
    return undefined;
  }
  try {
    const body = (await res.json()) as { version?: unknown };
    return typeof body.version === "string" ? body.version : undefined;
  } catch {
    return undefined;
  }
}

export async function detectServer(url: string, token: string, timeoutMs = 5000): Promise<DetectResult> {
  const ctx: HttpContext = { url: url.replace(/\/+$/, ""), timeoutMs, headers: authHeader(undefined, token) };
  let ping: Response;
  try {
    ping = await http(ctx, "GET", "/ping");
  } catch (err) {
    return { ok: false, reason: "unreachable", message: (err as Error).message };
  }
  if (ping.status === 401 || ping.status === 403) {
    await ping.body?.cancel();
    return {
      ok: false,
      reason: "unauthorized",
      status: ping.status,
      message: `InfluxDB at ${url} refused /ping with HTTP ${ping.status}: check INFLUX_TOKEN`,
    };
  }
  // A proxy in front of a stopped InfluxDB answers 502/503/504: that is an outage, not a wrong server.
  if (ping.status >= 500) {
    await ping.body?.cancel();
    return {
      ok: false,
      reason: "unreachable",
      status: ping.status,
      message: `/ping answered HTTP ${ping.status}`,
    };
  }
  const build = ping.headers.get("x-influxdb-build");
  const fromHeader = parseServerVersion(ping.headers.get("x-influxdb-version"), build);
  if (fromHeader) {
    await ping.body?.cancel();
    return { ok: true, server: fromHeader };
  }
  const fromBody = ping.ok ? parseServerVersion(await jsonVersion(ping), build) : undefined;
  if (!ping.ok) await ping.body?.cancel();
  if (fromBody) return { ok: true, server: fromBody };
  try {
    const health = await http(ctx, "GET", "/health");
    const fromHealth = health.ok ? parseServerVersion(await jsonVersion(health), build) : undefined;
    if (!health.ok) await health.body?.cancel();
    if (fromHealth) return { ok: true, server: fromHealth };
  } catch {
    // fall through: the /ping answer already told us something is there
  }
  return {
    ok: false,
    reason: "not_influxdb",
    status: ping.status,
    message: `${url} answered /ping with HTTP ${ping.status} but no recognisable InfluxDB version`,
  };
}
