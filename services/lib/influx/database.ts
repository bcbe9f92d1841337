// Makes sure the configured database/bucket exists, in each major's own way.
import type { Logger } from "../log.ts";
import { InfluxHttpError } from "./errors.ts";
import { type HttpContext, http, type Major, okText } from "./http.ts";
import { parseQueryResponse } from "./query.ts";
import { splitBucket } from "./v1-transport.ts";

/** "unchecked": the token may not look (3 Core creates databases on first write anyway). */
export type EnsureResult = "exists" | "created" | "unchecked";

function ident(name: string): string {
  return `"${name.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

async function influxql(ctx: HttpContext, q: string): Promise<void> {
  const res = await http(ctx, "POST", "/query", { form: new URLSearchParams({ q }) });
  parseQueryResponse(res.status, await okText(res, `InfluxDB ${q}`));
}

async function ensureV1(ctx: HttpContext, bucket: string): Promise<EnsureResult> {
  const { db, rp } = splitBucket(bucket);
  const res = await http(ctx, "GET", `/query?${new URLSearchParams({ q: "SHOW DATABASES" })}`);
  const series = parseQueryResponse(res.status, await okText(res, "InfluxDB SHOW DATABASES"));
  const exists = series.some((s) => s.values.some((v) => v[0] === db));
  if (!exists) await influxql(ctx, `CREATE DATABASE ${ident(db)}`);
  if (rp && rp !== "autogen") {
    try {
      await influxql(ctx, `CREATE RETENTION POLICY ${ident(rp)} ON ${ident(db)} DURATION INF REPLICATION 1`);
    } catch (err) {
      // Present with other settings: someone chose them on purpose; keep them.
      if (!(err instanceof InfluxHttpError && err.body.includes("already exists"))) throw err;
    }
  }
  return exists ? "exists" : "created";
}

async function ensureV2(ctx: HttpContext, org: string, bucket: string, log: Logger): Promise<EnsureResult> {
  const found = await http(ctx, "GET", `/api/v2/buckets?${new URLSearchParams({ org, name: bucket })}`);
  if (found.status === 401 || found.status === 403) {
    await found.body?.cancel();
    log.warn({ bucket, status: found.status }, "token may not list buckets; assuming the bucket exists");
    return "unchecked";
  }
  const list = JSON.parse(await okText(found, `InfluxDB bucket lookup (${bucket})`)) as {
    buckets?: unknown[];
  };
  if ((list.buckets ?? []).length > 0) return "exists";
  const orgs = await http(ctx, "GET", `/api/v2/orgs?${new URLSearchParams({ org })}`);
  const orgList = JSON.parse(await okText(orgs, `InfluxDB organisation lookup (${org})`)) as {
    orgs?: Array<{ id: string }>;
  };
  const orgID = orgList.orgs?.[0]?.id;
  if (!orgID)
    throw new InfluxHttpError(`InfluxDB organisation "${org}" not found`, 404, JSON.stringify(orgList));
  const created = await http(ctx, "POST", "/api/v2/buckets", {
    json: { orgID, name: bucket, retentionRules: [] },
  });
  await okText(created, `InfluxDB bucket "${bucket}" is missing and could not be created`);
  return "created";
}

async function ensureV3(ctx: HttpContext, bucket: string, log: Logger): Promise<EnsureResult> {
  const res = await http(ctx, "POST", "/api/v3/configure/database", { json: { db: bucket } });
  const text = await res.text();
  if (res.ok) return "created";
  if (res.status === 409 || /already exists/i.test(text)) return "exists";
  if (res.status === 401 || res.status === 403 || res.status === 404) {
    log.warn({ bucket, status: res.status }, "cannot create the database; 3.x creates it on first write");
    return "unchecked";
  }
  throw new InfluxHttpError(`InfluxDB database "${bucket}" could not be created`, res.status, text);
}

export function ensureDatabase(
  major: Major,
  ctx: HttpContext,
  org: string,
  bucket: string,
  log: Logger,
): Promise<EnsureResult> {
  switch (major) {
    case 1:
      return ensureV1(ctx, bucket);
    case 2:
      return ensureV2(ctx, org, bucket, log);
    case 3:
      return ensureV3(ctx, bucket, log);
  }
}
