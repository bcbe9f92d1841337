// InfluxDB 1.x (Debian's 1.6.7) has no /api/v2/write: that endpoint arrived in 1.8. The client's WriteApi
// always posts to `/api/v2/write?org=&bucket=&precision=`, so for 1.x we wrap its transport and rewrite the
// path to the native `/write?db=&rp=&precision=` (https://docs.influxdata.com/influxdb/v1/tools/api/#write-http-endpoint).
import type { Transport } from "@influxdata/influxdb-client";

// 1.x spells precisions n/u/ms/s (it also takes "ns" as its default, but not "us").
const V1_PRECISION: Record<string, string> = { ns: "n", us: "u", ms: "ms", s: "s" };

/** Splits a 1.x "database/retention-policy" bucket; the retention policy is optional. */
export function splitBucket(bucket: string): { db: string; rp?: string } {
  const slash = bucket.indexOf("/");
  if (slash < 0) return { db: bucket };
  const rp = bucket.slice(slash + 1);
  return rp ? { db: bucket.slice(0, slash), rp } : { db: bucket.slice(0, slash) };
}

/** `/api/v2/write?org=o&bucket=db%2Frp&precision=ns` → `/write?db=db&rp=rp&precision=n`; other paths unchanged. */
export function rewriteWritePath(path: string): string {
  const q = path.indexOf("?");
  if ((q < 0 ? path : path.slice(0, q)) !== "/api/v2/write") return path;
  const params = new URLSearchParams(q < 0 ? "" : path.slice(q + 1));
  const out = new URLSearchParams();
  const { db, rp } = splitBucket(params.get("bucket") ?? "");
  out.set("db", db);
  if (rp) out.set("rp", rp);
  const precision = params.get("precision");
  if (precision) out.set("precision", V1_PRECISION[precision] ?? precision);
  const consistency = params.get("consistency");
  if (consistency) out.set("consistency", consistency);
  return `/write?${out.toString()}`;
}

/** A Transport that forwards everything to `inner` with 2.x write paths rewritten for 1.x. */
export function v1WriteTransport(inner: Transport): Transport {
  return {
    chunkCombiner: inner.chunkCombiner,
    send: (path, body, options, callbacks) => inner.send(rewriteWritePath(path), body, options, callbacks),
    request: (path, body, options, responseStarted) =>
      inner.request(rewriteWritePath(path), body, options, responseStarted),
    iterate: (path, body, options) => inner.iterate(rewriteWritePath(path), body, options),
  };
}
