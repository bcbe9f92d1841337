// detectServer against the kinds of answers it must tell apart. The real server is the shared one;
// the 3 Core and "not InfluxDB" answers come from a few-line node:http stand-in.
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, inject, it } from "vitest";
import { freePort } from "../../scripts/influxd/influxd.ts";
import { detectServer } from "../../services/lib/influx/index.ts";

let stub: Server | undefined;
afterEach(async () => {
  stub?.closeAllConnections();
  await new Promise<void>((resolve) => (stub ? stub.close(() => resolve()) : resolve()));
  stub = undefined;
});

async function serve(handler: RequestListener): Promise<string> {
  stub = createServer(handler);
  await new Promise<void>((resolve) => stub?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
}

describe("detectServer", () => {
  it("recognises the shared test server", async () => {
    const server = inject("influx");
    expect(await detectServer(server.url, server.token)).toEqual({
      ok: true,
      server: expect.objectContaining({ major: server.major, version: server.version }),
    });
  });

  it("reads 3 Core's JSON /ping body when the header is missing", async () => {
    const url = await serve((req, res) => {
      expect(req.headers.authorization).toBe("Token apiv3_t");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ version: "3.2.0", revision: "abc", process_id: "x" }));
    });
    expect(await detectServer(url, "apiv3_t")).toEqual({ ok: true, server: { major: 3, version: "3.2.0" } });
  });

  it("falls back to /health for a 2.x-style answer", async () => {
    const url = await serve((req, res) => {
      if (req.url === "/health") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ name: "influxdb", status: "pass", version: "v2.7.11" }));
      } else res.writeHead(204).end();
    });
    expect(await detectServer(url, "")).toEqual({ ok: true, server: { major: 2, version: "2.7.11" } });
  });

  it("reports 401 as unauthorized and a foreign server as not_influxdb", async () => {
    let status = 401;
    const url = await serve((_req, res) => res.writeHead(status).end("nope"));
    expect(await detectServer(url, "")).toMatchObject({ ok: false, reason: "unauthorized", status: 401 });
    status = 200;
    expect(await detectServer(url, "")).toMatchObject({ ok: false, reason: "not_influxdb", status: 200 });
  });

  it("reports a closed port as unreachable instead of throwing", async () => {
    const port = await freePort();
    const result = await detectServer(`http://127.0.0.1:${port}`, "", 1000);
    expect(result).toMatchObject({ ok: false, reason: "unreachable" });
    expect(result.ok ? "" : result.message).toMatch(/ECONNREFUSED/);
  });
});
