// Writes and reads through connectInflux against the real server of tests/setup/influx.ts.
// Every test writes into its own database/bucket, so files and tests never see each other's data.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  connectInflux,
  type InfluxClient,
  InfluxHttpError,
  rowsOf,
} from "../../services/lib/influx/index.ts";
import { silentLogger } from "../../services/lib/log.ts";

const server = inject("influx");
const clients: InfluxClient[] = [];

async function freshClient(): Promise<InfluxClient> {
  const bucket = `t_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const client = await connectInflux({ ...server, bucket, timeoutMs: 10_000 }, silentLogger());
  expect(await client.ensureDatabase()).toBe("created");
  clients.push(client);
  return client;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

describe(`InfluxDB ${server.major}.x at ${server.url}`, () => {
  let client: InfluxClient;
  beforeAll(async () => {
    client = await freshClient();
  });

  it("detects the server's major version from what it reports", () => {
    expect(client.server).toMatchObject({ major: server.major, version: server.version });
  });

  it("ensureDatabase is idempotent", async () => {
    expect(await client.ensureDatabase()).toBe("exists");
  });

  it("writes 5,000 lines with ms precision and reads them back", async () => {
    const t0 = Date.UTC(2024, 0, 1);
    const lines = Array.from(
      { length: 5000 },
      (_, i) => `power,device=lamp-${i % 50},district=anfa watts=${i / 2},on=${i % 2 === 0} ${t0 + i * 1000}`,
    );
    await client.writeLines(lines, "ms");

    const [count] = rowsOf(await client.query("SELECT count(watts) AS n FROM power"));
    expect(count?.n).toBe(5000);
    const rows = rowsOf(
      await client.query('SELECT watts, "on" FROM power WHERE device = $d ORDER BY time ASC LIMIT 3', {
        d: "lamp-7",
      }),
    );
    expect(rows).toEqual([
      { _measurement: "power", time: t0 + 7_000, watts: 3.5, on: false },
      { _measurement: "power", time: t0 + 57_000, watts: 28.5, on: false },
      { _measurement: "power", time: t0 + 107_000, watts: 53.5, on: false },
    ]);
    const grouped = await client.query("SELECT count(watts) FROM power GROUP BY device");
    expect(grouped).toHaveLength(50);
    expect(grouped[0]?.tags.device).toMatch(/^lamp-\d+$/);
  });

  it("writes 5,000 lines with ns precision and keeps their order and values", async () => {
    const t0 = BigInt(Date.UTC(2024, 0, 2)) * 1_000_000n;
    // 1 ms + 1 ns apart: distinct points whose ms-truncated times are still distinct.
    const lines = Array.from(
      { length: 5000 },
      (_, i) => `air,sensor=s${i % 7} pm25=${i}i ${t0 + BigInt(i) * 1_000_001n}`,
    );
    await client.writeLines(lines, "ns");

    const [stats] = rowsOf(
      await client.query("SELECT count(pm25) AS n, sum(pm25) AS s, max(pm25) AS mx FROM air"),
    );
    expect(stats).toMatchObject({ n: 5000, s: (4999 * 5000) / 2, mx: 4999 });
    const [last] = rowsOf(await client.query("SELECT pm25 FROM air ORDER BY time DESC LIMIT 1"));
    expect(last).toEqual({
      _measurement: "air",
      time: Number((t0 + 4999n * 1_000_001n) / 1_000_000n),
      pm25: 4999,
    });
  });

  it("rejects a malformed line with HTTP 400 and the server's message", async () => {
    const err = await client
      .writeLines(["power,device=lamp-1 watts=1", "this is not line protocol"], "ms")
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(InfluxHttpError);
    const httpErr = err as InfluxHttpError;
    expect(httpErr.status).toBe(400);
    expect(httpErr.body).toMatch(/unable to parse|parse/i);
    expect(httpErr.message).toContain("this is not line protocol");
  });

  it("rejects a bad query with the status and the server's message", async () => {
    await expect(client.query("SELEC nothing")).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/error parsing query/),
    });
  });

  it("resolves at once for an empty batch", async () => {
    await expect(client.writeLines([], "ms")).resolves.toBeUndefined();
  });

  it.skipIf(server.major === 3)('writes and reads a "database/retention-policy" bucket', async () => {
    const bucket = `t_${randomUUID().replaceAll("-", "").slice(0, 12)}/week`;
    const rpClient = await connectInflux({ ...server, bucket, timeoutMs: 10_000 }, silentLogger());
    clients.push(rpClient);
    expect(await rpClient.ensureDatabase()).toBe("created");
    await rpClient.writeLines(["noise,zone=port db=61.5 1700000000000"], "ms");
    expect(rowsOf(await rpClient.query("SELECT db FROM noise"))).toEqual([
      { _measurement: "noise", time: 1_700_000_000_000, db: 61.5 },
    ]);
  });

  it("answers ping with the detected server", async () => {
    const ping = await client.ping();
    expect(ping).toMatchObject({ ok: true, server: { major: server.major } });
  });
});

describe("writeBody (a spool batch's bytes as they are)", () => {
  it("writes newline-terminated line protocol and reads it back", async () => {
    const client = await freshClient();
    const base = 1_790_000_000_000;
    const text = Array.from(
      { length: 3000 },
      (_, i) => `body,device_id=d${i % 7} v=${i}i ${base + i}000000\n`,
    ).join("");
    await client.writeBody(Buffer.from(text), "ns");
    const [count] = rowsOf(await client.query("SELECT count(v) FROM body"));
    expect(count?.count).toBe(3000);
    const [last] = rowsOf(await client.query("SELECT last(v) FROM body"));
    expect(last).toMatchObject({ time: base + 2999, last: 2999 });
  });

  it("a malformed body is refused with HTTP 400 and the server's message", async () => {
    const client = await freshClient();
    const err = await client.writeBody(Buffer.from("body v=\n"), "ns").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxHttpError);
    expect((err as InfluxHttpError).status).toBe(400);
  });
});
