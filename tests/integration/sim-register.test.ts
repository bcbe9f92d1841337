// registerFleet against a tiny recording HTTP server standing in for the command service (a test double for a
// peer; the real POST /v1/devices/bulk endpoint is tested with the command service's own tests).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { planFleet, toRegistration } from "../../simulators/plan.ts";
import { registerFleet } from "../../simulators/register.ts";

type Handler = (body: { devices: DeviceRegistration[]; mode: string }, res: ServerResponse) => void;
const servers: Server[] = [];

async function listen(
  handler: Handler,
  port = 0,
): Promise<{ url: string; bodies: { devices: DeviceRegistration[]; mode: string }[] }> {
  const bodies: { devices: DeviceRegistration[]; mode: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.on("data", (c: Buffer) => {
      text += c.toString();
    });
    req.on("end", () => {
      expect(req.method).toBe("POST");
      expect(req.url).toBe("/v1/devices/bulk");
      expect(req.headers["content-type"]).toBe("application/json");
      const body = JSON.parse(text);
      bodies.push(body);
      handler(body, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, bodies };
}

const reply = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const registrations = (n: number) =>
  planFleet({ seed: "reg", streetlights: n, airquality: 0, traffic: 0, intervalS: 10, idPrefix: "r" }).map(
    toRegistration,
  );

describe("registerFleet", () => {
  it("upserts the fleet in chunks of at most 1000 and sums the answers", async () => {
    const { url, bodies } = await listen((body, res) =>
      reply(res, 200, { created: body.devices.length, updated: 0 }),
    );
    const devices = registrations(2500);
    const result = await registerFleet(url, devices, silentLogger());
    expect(result).toEqual({ ok: true, created: 2500, updated: 0, requests: 3 });
    expect(bodies.map((b) => b.devices.length)).toEqual([1000, 1000, 500]);
    expect(bodies.every((b) => b.mode === "upsert")).toBe(true);
    expect(bodies.flatMap((b) => b.devices)).toEqual(devices);
  });

  it("retries with backoff while the service is not up yet, and on 503", async () => {
    // Reserve a free port, leave it closed for a while, then start the service on it.
    const probe = await listen(() => {});
    const port = Number(new URL(probe.url).port);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    let answered = 0;
    setTimeout(() => {
      void listen((body, res) => {
        answered++;
        if (answered === 1) reply(res, 503, { error: "starting" });
        else reply(res, 200, { created: 0, updated: body.devices.length });
      }, port);
    }, 600);
    const started = Date.now();
    const result = await registerFleet(`http://127.0.0.1:${port}`, registrations(3), silentLogger(), {
      initialBackoffMs: 100,
      maxBackoffMs: 400,
      retryForMs: 10_000,
    });
    expect(result).toMatchObject({ ok: true, created: 0, updated: 3 });
    expect(answered).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it("gives up as a value when the service stays unreachable", async () => {
    const probe = await listen(() => {});
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const result = await registerFleet(probe.url, registrations(1), silentLogger(), {
      initialBackoffMs: 50,
      retryForMs: 300,
    });
    expect(result).toMatchObject({ ok: false, reason: "unreachable" });
  });

  it("returns the registry's validation rows with indexes into the whole fleet", async () => {
    const { url } = await listen((_body, res) =>
      reply(res, 400, {
        error: "validation_failed",
        rows: [{ index: 3, field: "district", message: "unknown" }],
      }),
    );
    const result = await registerFleet(url, registrations(1500), silentLogger());
    expect(result).toEqual({
      ok: false,
      reason: "validation_failed",
      detail: "rejected by the registry",
      rows: [{ index: 3, field: "district", message: "unknown" }],
    });
  });

  it("checks the contract before sending anything", async () => {
    const { url, bodies } = await listen((_b, res) => reply(res, 200, { created: 0, updated: 0 }));
    const bad = [...registrations(2), { ...registrations(1)[0], district: "Atlantis" } as DeviceRegistration];
    const result = await registerFleet(url, bad, silentLogger());
    expect(result).toMatchObject({
      ok: false,
      reason: "validation_failed",
      rows: [{ index: 2, field: "district" }],
    });
    expect(bodies).toHaveLength(0);
  });

  it("does not retry a client error", async () => {
    const { url, bodies } = await listen((_b, res) => reply(res, 401, { error: "unauthorized" }));
    const result = await registerFleet(url, registrations(1), silentLogger());
    expect(result).toMatchObject({ ok: false, reason: "http_error", status: 401 });
    expect(bodies).toHaveLength(1);
  });
});
