// Writes pre-built line-protocol batches through @influxdata/influxdb-client's WriteApi, with its
// background machinery switched off so that one call = one HTTP request whose outcome the caller sees:
// - batchSize > batch length and maxBatchBytes = ∞: WriteBuffer never auto-flushes (its auto-flush
//   swallows errors, see WriteApiImpl.ts `WriteBuffer.add`), so only our flush() sends;
// - flushInterval 0: no timer;
// - maxRetries 0 and a `writeFailed` that returns a rejected promise: sendBatch hands that promise back
//   as the flush result instead of queueing the lines in its RetryBuffer or logging to the console.
// The durable spool upstream owns retries. A WriteApi is cheap (two small objects), so we make one per
// batch: that also keeps concurrent batches independent.
import { HttpError, InfluxDB, type WriteApi } from "@influxdata/influxdb-client";
import { InfluxHttpError, InfluxUnreachableError } from "./errors.ts";
import { authHeader, type Major } from "./http.ts";
import { v1WriteTransport } from "./v1-transport.ts";

export type Precision = "ns" | "ms";

export type LineWriter = (lines: readonly string[], precision: Precision) => Promise<void>;
/** Newline-terminated line protocol as bytes, posted as they are. */
export type BodyWriter = (body: Buffer, precision: Precision) => Promise<void>;

export type WriterOptions = {
  url: string;
  token: string;
  org: string;
  bucket: string;
  timeoutMs: number;
  major: Major;
};

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");
}

export function createLineWriter(opts: WriterOptions): LineWriter {
  const { org, bucket } = opts;
  const { influx, gzipThreshold } = clientFor(opts);

  return async (lines, precision) => {
    if (lines.length === 0) return;
    const api: WriteApi = influx.getWriteApi(org, bucket, precision, {
      batchSize: lines.length + 1,
      maxBatchBytes: Number.POSITIVE_INFINITY,
      flushInterval: 0,
      maxRetries: 0,
      gzipThreshold,
      writeFailed: (error) => Promise.reject(error),
    });
    try {
      // Typed as a mutable array, but WriteApiImpl.writeRecords only reads it.
      api.writeRecords(lines as string[]);
      await api.flush();
    } catch (err) {
      throw toInfluxError(opts.url, err);
    } finally {
      api.dispose();
    }
  };
}

/**
 * Posts a spool batch's bytes through the client's transport (the same path, credentials and 1.x rewrite as the
 * WriteApi) without turning them into a string first: the WriteApi would also measure the string's UTF-8 length
 * in JavaScript, character by character, which cost a tenth of the ingest's CPU with 1 MB batches.
 */
export function createBodyWriter(opts: WriterOptions): BodyWriter {
  const { influx, gzipThreshold } = clientFor(opts);
  const query = (precision: Precision) =>
    `org=${encodeURIComponent(opts.org)}&bucket=${encodeURIComponent(opts.bucket)}&precision=${precision}`;
  return async (body, precision) => {
    if (body.length === 0) return;
    try {
      // send() (unlike request(), which JSON-encodes objects) hands the body to Buffer.from(body, "utf-8"),
      // which copies a Buffer as it is.
      await new Promise<void>((resolve, reject) => {
        influx.transport.send(
          `/api/v2/write?${query(precision)}`,
          body as unknown as string,
          {
            method: "POST",
            headers: { "content-type": "text/plain; charset=utf-8" },
            ...(gzipThreshold === undefined ? {} : { gzipThreshold }),
          },
          { error: reject, complete: resolve },
        );
      });
    } catch (err) {
      throw toInfluxError(opts.url, err);
    }
  };
}

function clientFor(opts: WriterOptions): { influx: InfluxDB; gzipThreshold: number | undefined } {
  const { url, token, timeoutMs, major } = opts;
  let influx: InfluxDB;
  if (major === 1) {
    // Credentials the way 1.x wants them (http.ts); the client would send `Token <token>`.
    const plain = new InfluxDB({ url, timeout: timeoutMs, headers: authHeader(1, token) });
    influx = new InfluxDB({ url, transport: v1WriteTransport(plain.transport) });
  } else {
    influx = new InfluxDB({ url, timeout: timeoutMs, ...(token ? { token } : {}) });
  }
  // Compressing costs CPU for nothing on loopback; across a network it pays for itself.
  return { influx, gzipThreshold: isLoopback(url) ? undefined : 64 * 1024 };
}

function toInfluxError(url: string, err: unknown): Error {
  if (err instanceof HttpError)
    return new InfluxHttpError("InfluxDB write failed", err.statusCode, err.body ?? "");
  return new InfluxUnreachableError(url, err);
}
