// registerFleet against the real command service (harness/command-app.ts: buildApp over a real registry in a temp
// dir, its tokens provisioned from the token file `npm start` makes, listening on a free port). Each test has its
// own service; hooks on it only record what arrived and what it answered.
// The service's faults are real ones: not listening yet, and a registry whose write lock another connection
// holds beyond the service's busy timeout (5 s, services/registry/store.ts), which the service answers 500.
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { pickPort } from "../../scripts/platform/processes.ts";
import { refusalMessage } from "../../services/command/routes/devices.ts";
import { type DeviceRegistration, deviceRegistration } from "../../services/contract/devices.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { generateSecret, hashSecret } from "../../services/lib/secrets.ts";
import { createApi } from "../../simulators/api.ts";
import { planFleet, toRegistration } from "../../simulators/plan.ts";
import { registerFleet } from "../../simulators/register.ts";
import { type CommandApp, createCommandApp, isLiveSecret } from "./harness/command-app.ts";

const services: CommandApp[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

/** The service built over its own registry and token file, not listening yet. */
function createCommandService(): CommandApp {
  const service = createCommandApp({ tmpPrefix: "sim-register-" });
  services.push(service);
  return service;
}

async function startCommandService(): Promise<CommandApp> {
  const service = createCommandService();
  await service.listen();
  return service;
}

const registrations = (n: number) =>
  planFleet({ seed: "reg", streetlights: n, airquality: 0, traffic: 0, intervalS: 10, idPrefix: "r" }).map(
    toRegistration,
  );
const api = (url: string, token: string) => createApi({ url, token, log: silentLogger() });
const bulkRequests = (s: CommandApp, from = 0) =>
  s.arrived.slice(from).filter((a) => a.path === "/v1/devices/bulk");

describe("registerFleet", () => {
  it("upserts the fleet in chunks of at most 1000 with the API token, keeping the new devices' secrets", async () => {
    const svc = await startCommandService();
    // 1005 devices: one full chunk and a rest. The registry already knew the first 990 (imported earlier,
    // reporting every minute): the upsert updates them and brings no credentials for them. They are written
    // through the registry's own store with one throwaway hash, which spares the service 990 scrypt hashes
    // (~20 s on two cores); the 15 new ones get theirs from the API.
    const devices = registrations(1005);
    const hash = await hashSecret(generateSecret());
    const known = devices.slice(0, 990).map((d) => ({
      device: deviceRegistration.parse({ ...d, report_interval_s: 60 }),
      secretHash: hash,
    }));
    expect(svc.registry.lifecycle.register(known, "create", "local-engineer").ok).toBe(true);
    const from = svc.arrived.length;
    const seen: number[] = [];
    const result = await registerFleet(api(svc.url, svc.token), devices, silentLogger(), {
      onCredentials: (c) => {
        seen.push(c.length);
      },
    });
    if (!result.ok) expect.fail(result.reason);
    expect(result).toMatchObject({ created: 15, updated: 990, requests: 2 });
    expect(result.credentials.map((c) => c.id)).toEqual(devices.slice(990).map((d) => d.id));
    const first = result.credentials[0];
    expect(first).toEqual({ id: devices[990]?.id, secret: expect.any(String), generation: 1 });
    expect(await isLiveSecret(svc.registry, first?.id ?? "", first?.secret ?? "")).toBe(true);
    expect(seen).toEqual([10, 5]);
    expect(svc.registry.devices.count()).toBe(1005);
    expect(svc.registry.devices.get(devices[0]?.id ?? "")?.report_interval_s).toBe(10);

    const sent = bulkRequests(svc, from);
    expect(sent.map((a) => (a.body as { devices: unknown[] }).devices.length)).toEqual([1000, 5]);
    expect(sent.every((a) => (a.body as { mode: string }).mode === "upsert")).toBe(true);
    expect(sent.flatMap((a) => (a.body as { devices: DeviceRegistration[] }).devices)).toEqual(devices);
    for (const a of sent)
      expect(a).toMatchObject({
        method: "POST",
        contentType: "application/json",
        auth: `Bearer ${svc.token}`,
      });
  });

  it("retries with backoff while the service is not up yet, and on a 5xx", async () => {
    // The service starts 600 ms late on a port chosen beforehand, and meanwhile another connection holds its
    // registry's write lock (a sqlite3 shell left in a transaction, say): its first answer is a 500 after its
    // 5 s busy timeout (services/registry/store.ts). The lock is let go once that 500 has gone out.
    const port = await pickPort(0);
    const svc = createCommandService();
    const holder = new DatabaseSync(svc.dbPath);
    holder.exec("BEGIN IMMEDIATE");
    let locked = true;
    const release = setInterval(() => {
      if (locked && svc.answered.some((a) => a.status === 500)) {
        holder.exec("ROLLBACK");
        locked = false;
      }
    }, 10);
    setTimeout(() => void svc.listen(port), 600);
    try {
      const started = Date.now();
      const result = await registerFleet(
        api(`http://127.0.0.1:${port}`, svc.token),
        registrations(3),
        silentLogger(),
        { retry: { initialBackoffMs: 100, maxBackoffMs: 400, forMs: 30_000 } },
      );
      expect(result).toMatchObject({ ok: true, created: 3, updated: 0 });
      if (result.ok) expect(result.credentials).toHaveLength(3);
      expect(svc.answered.filter((a) => a.path === "/v1/devices/bulk").map((a) => a.status)).toEqual([
        500, 200,
      ]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    } finally {
      clearInterval(release);
      holder.close();
    }
  });

  it("gives up as a value when the service stays unreachable", async () => {
    const port = await pickPort(0); // free, and nobody listens on it
    const result = await registerFleet(
      api(`http://127.0.0.1:${port}/`, "cst_x"),
      registrations(1),
      silentLogger(),
      {
        retry: { initialBackoffMs: 50, forMs: 300 },
      },
    );
    expect(result).toMatchObject({ ok: false, reason: "unreachable" });
  });

  it("returns the registry's per-row issues with indexes into the whole fleet; nothing of that chunk is written", async () => {
    const svc = await startCommandService();
    const devices = registrations(15);
    const retired = devices[13] as DeviceRegistration;
    // The city retired row 13's id: the registry refuses to register it again.
    expect((await svc.call("POST", "/v1/devices/bulk", { devices: [retired], mode: "create" })).status).toBe(
      200,
    );
    expect(
      (await svc.call("POST", `/v1/devices/${retired.id}/decommission`, { reason: "pole removed" })).status,
    ).toBe(200);
    // Chunks of 10 (registerFleet's option) keep the hashing cheap; the arithmetic is that of chunks of 1000.
    const result = await registerFleet(api(svc.url, svc.token), devices, silentLogger(), { chunkSize: 10 });
    expect(result).toEqual({
      ok: false,
      reason: "validation_failed",
      detail: expect.stringMatching(/^rejected by the registry: /),
      rows: [
        { index: 13, field: "id", message: refusalMessage({ id: retired.id, reason: "decommissioned" }) },
      ],
    });
    // The first chunk was registered; the refused one is all or nothing.
    expect(devices.slice(0, 10).every((d) => svc.registry.devices.get(d.id)?.status === "registered")).toBe(
      true,
    );
    expect(devices.slice(10).filter((d) => svc.registry.devices.get(d.id))).toEqual([retired]);
  });

  it("checks the contract before sending anything", async () => {
    const svc = await startCommandService();
    const bad = [...registrations(2), { ...registrations(1)[0], district: "Atlantis" } as DeviceRegistration];
    const result = await registerFleet(api(svc.url, svc.token), bad, silentLogger());
    expect(result).toMatchObject({
      ok: false,
      reason: "validation_failed",
      rows: [{ index: 2, field: "district" }],
    });
    expect(svc.arrived).toHaveLength(0);
  });

  it("does not retry a refused token", async () => {
    const svc = await startCommandService();
    const result = await registerFleet(api(svc.url, ""), registrations(1), silentLogger());
    expect(result).toMatchObject({ ok: false, reason: "http_error", status: 401, error: "unauthorized" });
    expect(bulkRequests(svc)).toHaveLength(1);
    expect(bulkRequests(svc)[0]?.auth).toBeUndefined();
    expect(svc.registry.devices.count()).toBe(0);
  });
});
