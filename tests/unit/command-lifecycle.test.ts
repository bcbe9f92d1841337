// Credentials and the end of a controller's life: rotate (one, many), revoke, replace, decommission. Each cuts
// the old credential at once (access feed: new generation, old hash gone) and keeps the device's history.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifySecret } from "../../services/lib/secrets.ts";
import { type Api, startApi, streetlight } from "./command-harness.ts";

let api: Api;
beforeEach(async () => {
  api = await startApi();
});
afterEach(async () => {
  await api.close();
});

type Creds = { id: string; secret: string; generation: number };
async function register(n: number): Promise<Creds[]> {
  const devices = Array.from({ length: n }, () => streetlight());
  const r = await api.call("POST", "/v1/devices/bulk", { body: { devices } });
  expect(r.status).toBe(200);
  return r.body.credentials;
}
const registerOne = async () => (await register(1))[0] as Creds;
const hashes = (id: string) =>
  api.registry.db
    .prepare(
      "SELECT generation, secret_hash, revoked_at FROM device_credentials WHERE device_id = ? ORDER BY generation",
    )
    .all(id) as {
    generation: number;
    secret_hash: string;
    revoked_at: string | null;
  }[];
/** The broker's view of a device: the newest access feed entry for it. */
async function accessOf(id: string) {
  const feed = await api.call("GET", "/v1/access/changes?limit=10000", { as: "service_broker" });
  return feed.body.entries.filter((e: { principal: string }) => e.principal === id).at(-1);
}
const events = async (id: string) =>
  (await api.call("GET", `/v1/devices/${id}/history`, { as: "operator" })).body.events;

describe("rotating credentials", () => {
  it("issues a new generation and cuts the old secret at once", async () => {
    const old = await registerOne();
    const r = await api.call("POST", `/v1/devices/${old.id}/credentials`);
    expect(r.status).toBe(200);
    const fresh = r.body.credentials;
    expect(fresh).toMatchObject({ id: old.id, generation: 2 });
    expect(fresh.secret).not.toBe(old.secret);

    const entry = await accessOf(old.id);
    expect(entry).toMatchObject({ allowed: true, generation: 2 });
    const [gen1, gen2] = hashes(old.id);
    if (!gen1 || !gen2) throw new Error("expected two generations");
    expect(gen1.revoked_at).not.toBeNull();
    expect(entry.secret_hash).toBe(gen2.secret_hash);
    expect(entry.secret_hash).not.toBe(gen1.secret_hash);
    expect(await verifySecret(old.secret, entry.secret_hash)).toBe(false);
    expect(await verifySecret(fresh.secret, entry.secret_hash)).toBe(true);
    expect((await events(old.id)).at(-1)).toMatchObject({
      actor: "t-engineer",
      action: "credentials_rotated",
      detail: { generation: 2, previous: 1 },
    });
    expect(api.changes.at(-1)).toEqual({ action: "credentials_rotated", ids: [old.id], access: true });
    expect((await api.call("POST", "/v1/devices/sl-nobody-1/credentials")).status).toBe(404);
  });

  it("rotates a fleet all or nothing, naming each id that cannot be", async () => {
    const creds = await register(3);
    const ids = creds.map((c) => c.id);
    const bad = await api.call("POST", "/v1/devices/credentials/rotate", {
      body: { ids: [ids[0], "sl-nobody-2", ids[0]] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([
      { field: "ids", index: 1, id: "sl-nobody-2", message: "not registered" },
      { field: "ids", index: 2, id: ids[0], message: "duplicate id" },
    ]);
    expect(api.registry.devices.get(ids[0] as string)?.credential_generation).toBe(1);
    const r = await api.call("POST", "/v1/devices/credentials/rotate", { body: { ids } });
    expect(r.body.credentials.map((c: { id: string; generation: number }) => [c.id, c.generation])).toEqual(
      ids.map((id) => [id, 2]),
    );
    const tooMany = await api.call("POST", "/v1/devices/credentials/rotate", {
      body: { ids: Array.from({ length: 1001 }, (_, i) => `x-${i}`) },
    });
    expect(tooMany.body.issues[0].field).toBe("ids");
  });

  it("revokes credentials: the device is refused until rotated, with generations never reused", async () => {
    const c = await registerOne();
    const r = await api.call("DELETE", `/v1/devices/${c.id}/credentials`);
    expect(r.status).toBe(200);
    expect(r.body.device.credential_generation).toBe(0);
    expect(await accessOf(c.id)).toMatchObject({ allowed: false, generation: 0, secret_hash: null });
    const back = await api.call("POST", `/v1/devices/${c.id}/credentials`);
    expect(back.body.credentials.generation).toBe(2);
    expect(await accessOf(c.id)).toMatchObject({ allowed: true, generation: 2 });
  });
});

describe("replacing a controller", () => {
  it("keeps the point and its history, cuts the old credential, cancels a running commissioning", async () => {
    const c = await registerOne();
    const db = api.registry.db;
    db.prepare("UPDATE devices SET status = 'connected' WHERE id = ?").run(c.id);
    db.prepare(
      "INSERT INTO commissioning_runs (id, device_id, generation, status, started_at, started_by) VALUES ('run-1', ?, 1, 'running', ?, 'x')",
    ).run(c.id, new Date().toISOString());
    db.prepare(
      "INSERT INTO commissioning_checks (run_id, name, position, status) VALUES ('run-1', 'readings', 2, 'running')",
    ).run();

    const r = await api.call("POST", `/v1/devices/${c.id}/replace`, {
      body: { serial: "LC-NEW", note: "lightning" },
    });
    expect(r.status).toBe(200);
    expect(r.body.device).toMatchObject({
      id: c.id,
      status: "registered",
      serial: "LC-NEW",
      district: "Anfa",
      credential_generation: 2,
    });
    expect(r.body.credentials.generation).toBe(2);
    const entry = await accessOf(c.id);
    expect(entry).toMatchObject({ allowed: true, generation: 2 });
    expect(await verifySecret(c.secret, entry.secret_hash)).toBe(false);
    expect(await verifySecret(r.body.credentials.secret, entry.secret_hash)).toBe(true);
    expect(hashes(c.id).map((h) => h.revoked_at !== null)).toEqual([true, false]);
    expect(db.prepare("SELECT status FROM commissioning_runs WHERE id = 'run-1'").get()).toEqual({
      status: "cancelled",
    });
    expect(db.prepare("SELECT status FROM commissioning_checks WHERE run_id = 'run-1'").get()).toEqual({
      status: "skipped",
    });

    const history = await events(c.id);
    expect(history.map((e: { action: string }) => e.action)).toEqual(["registered", "replaced"]);
    expect(history[1]).toMatchObject({
      actor: "t-engineer",
      detail: {
        status: { from: "connected", to: "registered" },
        generation: { from: 1, to: 2 },
        serial: { from: null, to: "LC-NEW" },
        note: "lightning",
        cancelled_commissioning_runs: 1,
      },
    });
    expect(JSON.stringify(history)).not.toContain(r.body.credentials.secret);
  });
});

describe("decommissioning", () => {
  it("revokes for good; later changes get 409 decommissioned", async () => {
    const c = await registerOne();
    expect(
      (await api.call("POST", `/v1/devices/${c.id}/decommission`, { body: {} })).body.issues[0].field,
    ).toBe("reason");
    const r = await api.call("POST", `/v1/devices/${c.id}/decommission`, {
      body: { reason: "pole knocked down" },
    });
    expect(r.status).toBe(200);
    expect(r.body.device).toMatchObject({ status: "decommissioned", credential_generation: 0 });
    expect(await accessOf(c.id)).toMatchObject({ allowed: false, secret_hash: null });
    expect((await events(c.id)).at(-1)).toMatchObject({
      action: "decommissioned",
      detail: { reason: "pole knocked down", revoked_credentials: 1 },
    });
    for (const [method, url, body] of [
      ["POST", `/v1/devices/${c.id}/decommission`, { reason: "again" }],
      ["POST", `/v1/devices/${c.id}/credentials`, undefined],
      ["DELETE", `/v1/devices/${c.id}/credentials`, undefined],
      ["POST", `/v1/devices/${c.id}/replace`, {}],
    ] as const) {
      const late = await api.call(method, url, body === undefined ? {} : { body });
      expect(late.status, url).toBe(409);
      expect(late.body.error).toBe("decommissioned");
    }
    const rotate = await api.call("POST", "/v1/devices/credentials/rotate", { body: { ids: [c.id] } });
    expect(rotate.body.issues[0]).toMatchObject({
      id: c.id,
      message: expect.stringMatching(/decommissioned/),
    });
    // The registry feed carries the device's new status to the ingest's cache.
    const feed = await api.call("GET", "/v1/registry/changes", { as: "service_ingest" });
    expect(feed.body.changes.at(-1)).toMatchObject({ id: c.id, device: { status: "decommissioned" } });
  });
});
