// `connectInflux(config, log)`: the one object services use to talk to InfluxDB 1.x, 2.x or 3.
// The server's major version is detected (detect.ts) and decides the write path and credentials;
// detection is lazy and repeated after an outage, so a service may start before its InfluxDB does.
import type { Logger } from "../log.ts";
import type { InfluxConfig } from "./config.ts";
import { type EnsureResult, ensureDatabase as ensureFor } from "./database.ts";
import { type DetectFailure, type DetectResult, detectServer, type ServerInfo } from "./detect.ts";
import { InfluxHttpError, InfluxUnreachableError } from "./errors.ts";
import { authHeader, type HttpContext, http, okText } from "./http.ts";
import { bindParams, type InfluxSeries, isReadOnly, parseQueryResponse, type QueryParams } from "./query.ts";
import { splitBucket } from "./v1-transport.ts";
import {
  type BodyWriter,
  createBodyWriter,
  createLineWriter,
  type LineWriter,
  type Precision,
} from "./write.ts";

export type PingResult = { ok: true; server: ServerInfo; latencyMs: number } | DetectFailure;

export type InfluxClient = {
  /** What the server reported at the last successful detection; undefined until then. */
  readonly server: ServerInfo | undefined;
  /** Resolves once the server accepted the whole batch; rejects (InfluxHttpError / InfluxUnreachableError) otherwise. */
  writeLines(lines: readonly string[], precision: Precision): Promise<void>;
  /** The same for newline-terminated line protocol already in bytes (a spool batch), posted as it is. */
  writeBody(body: Buffer, precision: Precision): Promise<void>;
  /** InfluxQL against the configured database; `$name` placeholders are bound from `params`. */
  query(influxql: string, params?: QueryParams): Promise<InfluxSeries[]>;
  /** Creates the database/bucket if missing (1.x: CREATE DATABASE; 2.x: buckets API; 3: configure API). */
  ensureDatabase(): Promise<EnsureResult>;
  /** Health check; never throws. Refreshes `server`. */
  ping(): Promise<PingResult>;
  close(): Promise<void>;
};

type Connection = { server: ServerInfo; write: LineWriter; writeBody: BodyWriter; ctx: HttpContext };

class InfluxClosedError extends Error {
  readonly code = "INFLUX_CLOSED";
  constructor() {
    super("InfluxDB client is closed");
    this.name = "InfluxClosedError";
  }
}

export async function connectInflux(config: Readonly<InfluxConfig>, log: Logger): Promise<InfluxClient> {
  const ilog = log.child({ module: "influx", url: config.url });
  let current: Connection | undefined;
  let pending: Promise<Connection> | undefined;
  let closed = false;

  function connectionFor(server: ServerInfo): Connection {
    if (current && current.server.version === server.version) return current;
    ilog.info({ major: server.major, version: server.version }, "InfluxDB detected");
    current = {
      server,
      write: createLineWriter({ ...config, major: server.major }),
      writeBody: createBodyWriter({ ...config, major: server.major }),
      ctx: { url: config.url, timeoutMs: config.timeoutMs, headers: authHeader(server.major, config.token) },
    };
    return current;
  }

  async function detect(): Promise<DetectResult> {
    const result = await detectServer(config.url, config.token, config.timeoutMs);
    if (result.ok) connectionFor(result.server);
    return result;
  }

  function connection(): Promise<Connection> {
    if (closed) return Promise.reject(new InfluxClosedError());
    if (current) return Promise.resolve(current);
    pending ??= detect()
      .then((r) => {
        if (r.ok) return connectionFor(r.server);
        throw r.reason === "unreachable"
          ? new InfluxUnreachableError(config.url, new Error(r.message))
          : new InfluxHttpError(r.message, r.status ?? 0, "");
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  /** After an outage the server may come back as another version: detect again on next use. */
  function forgetOn<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      if (err instanceof InfluxUnreachableError) current = undefined;
      throw err;
    });
  }

  const first = await detect();
  if (!first.ok) {
    if (first.reason !== "unreachable") throw new InfluxHttpError(first.message, first.status ?? 0, "");
    ilog.warn({ reason: first.message }, "InfluxDB not reachable yet; will detect its version on first use");
  }

  const { db, rp } = splitBucket(config.bucket);

  return {
    get server() {
      return current?.server;
    },
    writeLines: (lines, precision) => forgetOn(connection().then((c) => c.write(lines, precision))),
    writeBody: (body, precision) => forgetOn(connection().then((c) => c.writeBody(body, precision))),
    query: (statement, params) =>
      forgetOn(
        connection().then(async (c) => {
          const q = bindParams(statement, params);
          // 1.x: database + retention policy. 2.x: a bucket's "virtual DBRP mapping" is db = the name up to
          // a "/", rp = the rest or autogen (docs.influxdata.com/influxdb/v2/reference/api/influxdb-1x/dbrp/).
          // 3: the database (names cannot contain "/").
          const search = new URLSearchParams({ db, epoch: "ms" });
          if (rp) search.set("rp", rp);
          const res = isReadOnly(q)
            ? await http(c.ctx, "GET", `/query?${search}&${new URLSearchParams({ q })}`)
            : await http(c.ctx, "POST", `/query?${search}`, { form: new URLSearchParams({ q }) });
          return parseQueryResponse(res.status, await okText(res, "InfluxDB query failed"));
        }),
      ),
    ensureDatabase: () =>
      forgetOn(connection().then((c) => ensureFor(c.server.major, c.ctx, config.org, config.bucket, ilog))),
    ping: async () => {
      const started = performance.now();
      const result = await detect();
      if (!result.ok && result.reason === "unreachable") current = undefined;
      return result.ok ? { ...result, latencyMs: Math.round(performance.now() - started) } : result;
    },
    close: async () => {
      closed = true;
      current = undefined;
    },
  };
}
