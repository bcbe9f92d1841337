// /v1/devices: register one or many (all or nothing), list and filter (liveness by the design's rule), correct,
// history. Real SQLite registry, real authentication, app.inject().
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifySecret } from "../../services/lib/secrets.ts";
import { type Api, airquality, startApi, streetlight } from "./command-harness.ts";

let api: Api;
beforeEach(async () => {
  api = await startApi();
});
afterEach(async () => {
  await api.close();
});

const hashOf = (id: string, generation: number) =>
  (
    api.registry.db
      .prepare("SELECT secret_hash FROM device_credentials WHERE device_id = ? AND generation = ?")
      .get(id, generation) as { secret_hash: string } | undefined
  )?.secret_hash;

describe("POST /v1/devices", () => {
  it("registers a device and answers its credentials once, storing only a hash of the secret", async () => {
    const d = streetlight({ serial: "LC-001" });
    const r = await api.call("POST", "/v1/devices", { body: d });
    expect(r.status).toBe(201);
    expect(r.body.device).toMatchObject({
      id: d.id,
      status: "registered",
      serial: "LC-001",
      credential_generation: 1,
    });
    const c = r.body.credentials;
    expect(c).toMatchObject({
      id: d.id,
      client_id: d.id,
      username: d.id,
      generation: 1,
      mqtt_url: "mqtt://broker.test:1883",
    });
    expect(c.topics).toEqual({
      publish: [
        `city/v1/streetlight/${d.id}/telemetry`,
        `city/v1/streetlight/${d.id}/state`,
        `city/v1/streetlight/${d.id}/ack`,
      ],
      subscribe: [`city/v1/streetlight/${d.id}/cmd`, `city/v1/streetlight/${d.id}/calendar`],
    });
    const hash = hashOf(d.id, 1) as string;
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain(c.secret);
    expect(await verifySecret(c.secret, hash)).toBe(true);
    // The registry feed, the access feed and the history all know of it; the secret appears in none.
    const feed = await api.call("GET", "/v1/registry/changes", { as: "service_ingest" });
    expect(feed.body.changes.at(-1)).toMatchObject({
      op: "upsert",
      id: d.id,
      device: { status: "registered" },
    });
    const access = await api.call("GET", "/v1/access/changes", { as: "service_broker" });
    expect(access.body.entries).toContainEqual(
      expect.objectContaining({
        type: "device",
        principal: d.id,
        allowed: true,
        generation: 1,
        secret_hash: hash,
      }),
    );
    const history = await api.call("GET", `/v1/devices/${d.id}/history`, { as: "operator" });
    expect(history.body.events).toEqual([
      expect.objectContaining({
        actor: "t-engineer",
        action: "registered",
        detail: expect.objectContaining({ generation: 1 }),
      }),
    ]);
    expect(JSON.stringify(history.body)).not.toContain(c.secret);
    expect(api.changes).toEqual([{ action: "registered", ids: [d.id], access: true }]);
  });

  it("answers 409 for an id that exists, and 400 naming the field for a bad body, storing nothing", async () => {
    const d = streetlight();
    expect((await api.call("POST", "/v1/devices", { body: d })).status).toBe(201);
    const again = await api.call("POST", "/v1/devices", { body: { ...d, district: "Maarif" } });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("already_registered");
    expect(api.registry.devices.get(d.id)?.district).toBe("Anfa");

    const cases: [Record<string, unknown>, string][] = [
      [{ ...streetlight(), lat: "north" }, "lat"],
      [{ ...streetlight(), district: "Atlantis" }, "district"],
      [{ ...streetlight(), led_watts: undefined }, "led_watts"],
      [{ ...streetlight(), installed_at: "yesterday" }, "installed_at"],
      [{ ...streetlight(), id: "svc-ingest" }, "id"],
      [{ ...streetlight(), id: "Bad Id" }, "id"],
    ];
    for (const [body, field] of cases) {
      const r = await api.call("POST", "/v1/devices", { body });
      expect(r.status, field).toBe(400);
      expect(r.body.error).toBe("validation_failed");
      expect(r.body.issues.map((i: { field: string }) => i.field)).toContain(field);
    }
    const svc = await api.call("POST", "/v1/devices", { body: { ...streetlight(), id: "svc-ingest" } });
    expect(svc.body.issues[0].message).toMatch(/reserved/);
    expect(
      (
        await api.call("POST", "/v1/devices", {
          body: "not json",
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(400);
    expect(api.registry.devices.count()).toBe(1);
  });

  it("registers an id once when two requests race (checked again inside the transaction)", async () => {
    const d = streetlight();
    const answers = await Promise.all([1, 2, 3].map(() => api.call("POST", "/v1/devices", { body: d })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    expect(
      api.registry.db.prepare("SELECT COUNT(*) AS n FROM device_credentials WHERE device_id = ?").get(d.id),
    ).toEqual({
      n: 1,
    });
  });
});

describe("POST /v1/devices/bulk", () => {
  it("creates, then upserts (updating without new credentials), all or nothing", async () => {
    const a = streetlight();
    const b = airquality();
    const created = await api.call("POST", "/v1/devices/bulk", { body: { devices: [a, b] } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ created: 2, updated: 0 });
    expect(created.body.credentials.map((c: { id: string }) => c.id)).toEqual([a.id, b.id]);

    const c = streetlight();
    const upsert = await api.call("POST", "/v1/devices/bulk", {
      body: { mode: "upsert", devices: [{ ...a, lat: 33.591 }, b, c] },
    });
    expect(upsert.body).toMatchObject({ created: 1, updated: 1 });
    expect(upsert.body.credentials.map((x: { id: string }) => x.id)).toEqual([c.id]);
    expect(api.registry.devices.get(a.id)).toMatchObject({ lat: 33.591, credential_generation: 1 });
    const history = (await api.call("GET", `/v1/devices/${a.id}/history`)).body.events;
    expect(history.at(-1)).toMatchObject({
      action: "updated",
      detail: { changes: { lat: { from: 33.5899, to: 33.591 } } },
    });
  });

  it("reports every bad row with its index, id and field, and imports nothing", async () => {
    const existing = streetlight();
    await api.call("POST", "/v1/devices", { body: existing });
    const good = streetlight();
    const r = await api.call("POST", "/v1/devices/bulk", {
      body: {
        devices: [good, { ...streetlight(), lon: 500 }, existing, good, { ...airquality(), kind: "toaster" }],
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([
      expect.objectContaining({ index: 1, field: "lon", id: expect.stringMatching(/^sl-test-/) }),
      expect.objectContaining({ index: 4, field: "kind", id: expect.stringMatching(/^aq-test-/) }),
    ]);
    // Rows that are valid on their own but clash: the second pass.
    const clash = await api.call("POST", "/v1/devices/bulk", { body: { devices: [good, existing, good] } });
    expect(clash.status).toBe(400);
    expect(clash.body.issues).toEqual([
      { index: 1, id: existing.id, field: "id", message: "already registered" },
      { index: 2, id: good.id, field: "id", message: "duplicate of row 0" },
    ]);
    expect(clash.body.message).toMatch(/nothing was imported/);
    expect(api.registry.devices.get(good.id)).toBeUndefined();
    expect((await api.call("POST", "/v1/devices/bulk", { body: { devices: [] } })).body.issues[0].field).toBe(
      "devices",
    );
  });

  it("refuses to upsert a decommissioned device or to change a device's kind", async () => {
    const a = streetlight();
    const b = streetlight();
    await api.call("POST", "/v1/devices/bulk", { body: { devices: [a, b] } });
    await api.call("POST", `/v1/devices/${a.id}/decommission`, { body: { reason: "pole removed" } });
    const r = await api.call("POST", "/v1/devices/bulk", {
      body: {
        mode: "upsert",
        devices: [a, { ...b, kind: "airquality", led_watts: undefined, legacy_watts: undefined }],
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([
      expect.objectContaining({ index: 0, field: "id", message: expect.stringMatching(/decommissioned/) }),
      expect.objectContaining({ index: 1, field: "kind" }),
    ]);
  });
});

describe("GET /v1/devices", () => {
  it("filters by kind, district, status, liveness and last seen, and pages", async () => {
    const devices = [
      streetlight(),
      streetlight({ district: "Maarif" }),
      airquality(),
      airquality(),
      streetlight(),
    ];
    await api.call("POST", "/v1/devices/bulk", { body: { devices } });
    const [online, silent, offline, , never] = devices.map((d) => d.id) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    const activity = api.registry.db.prepare(
      "INSERT INTO device_activity (device_id, online, connected_at, last_reading_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
    );
    activity.run(online, 1, ago(3600), ago(30), ago(30));
    activity.run(silent, 1, ago(3600), ago(60 * 4), ago(60 * 4)); // 4 intervals of 60 s: silent after 3
    activity.run(offline, 0, ago(7200), ago(3000), ago(3000));
    activity.run(never, 0, null, null, null);
    const ids = async (q: string) =>
      (await api.call("GET", `/v1/devices?${q}`, { as: "operator" })).body.devices.map(
        (d: { id: string }) => d.id,
      );

    expect(await ids("kind=airquality")).toEqual([devices[2]?.id, devices[3]?.id]);
    expect(await ids("district=Maarif")).toEqual([devices[2]?.id, devices[3]?.id, devices[1]?.id]);
    expect(await ids("liveness=online")).toEqual([online]);
    expect(await ids("liveness=silent")).toEqual([silent]);
    expect(await ids("liveness=offline")).toEqual([offline]);
    expect((await ids("liveness=never_seen")).sort()).toEqual([devices[3]?.id, never].sort());
    expect(await ids(`seen_after=${encodeURIComponent(ago(600))}`)).toEqual([online, silent]);
    expect(await ids(`seen_before=${encodeURIComponent(ago(600))}`)).toEqual([offline]);
    await api.call("POST", `/v1/devices/${never}/decommission`, { body: { reason: "stolen" } });
    expect(await ids("status=decommissioned")).toEqual([never]);

    const listed = (await api.call("GET", "/v1/devices?kind=streetlight", { as: "operator" })).body.devices;
    expect(listed[0]).toMatchObject({
      id: online,
      liveness: "online",
      online: true,
      last_seen_at: expect.any(String),
    });
    const page1 = (await api.call("GET", "/v1/devices?limit=2")).body;
    expect(page1.devices).toHaveLength(2);
    const page2 = (await api.call("GET", `/v1/devices?limit=2&after=${page1.next}`)).body;
    expect(page2.devices[0].id > page1.next).toBe(true);

    const bad = await api.call("GET", "/v1/devices?liveness=asleep&limit=0");
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      "query.limit",
      "query.liveness",
    ]);
  });
});

describe("PATCH /v1/devices/:id and its history", () => {
  it("corrects a position, recording who and when; refuses unknown fields, ids and decommissioned devices", async () => {
    const d = streetlight();
    await api.call("POST", "/v1/devices", { body: d });
    const before = Date.now();
    const r = await api.call("PATCH", `/v1/devices/${d.id}`, { body: { lat: 33.6, lon: -7.66 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: d.id, lat: 33.6, lon: -7.66 });
    const events = (await api.call("GET", `/v1/devices/${d.id}/history`, { as: "operator" })).body.events;
    expect(events.map((e: { action: string }) => e.action)).toEqual(["registered", "updated"]);
    expect(events[1]).toMatchObject({
      actor: "t-engineer",
      detail: { changes: { lat: { from: d.lat, to: 33.6 }, lon: { from: d.lon, to: -7.66 } } },
    });
    expect(Date.parse(events[1].at)).toBeGreaterThanOrEqual(before - 1);

    const status = await api.call("PATCH", `/v1/devices/${d.id}`, {
      body: { status: "commissioned", lat: 33.7 },
    });
    expect(status.status).toBe(400);
    expect(status.body.issues).toEqual([{ field: "status", message: "not allowed here" }]);
    expect(
      (await api.call("PATCH", `/v1/devices/${d.id}`, { body: { district: "Nowhere" } })).body.issues[0]
        .field,
    ).toBe("district");
    expect((await api.call("PATCH", `/v1/devices/${d.id}`, { body: {} })).status).toBe(400);
    // An absent field is left as it is (no default creeps in).
    await api.call("PATCH", `/v1/devices/${d.id}`, { body: { report_interval_s: 120 } });
    await api.call("PATCH", `/v1/devices/${d.id}`, { body: { serial: "LC-2" } });
    expect(api.registry.devices.get(d.id)).toMatchObject({ report_interval_s: 120, serial: "LC-2" });
    expect((await api.call("PATCH", "/v1/devices/sl-missing-1", { body: { lat: 33 } })).status).toBe(404);
    expect((await api.call("GET", "/v1/devices/sl-missing-1/history")).status).toBe(404);
    await api.call("POST", `/v1/devices/${d.id}/decommission`, { body: { reason: "gone" } });
    const late = await api.call("PATCH", `/v1/devices/${d.id}`, { body: { lat: 33 } });
    expect(late.status).toBe(409);
    expect(late.body.error).toBe("decommissioned");
    expect(api.registry.devices.get(d.id)?.lat).toBe(33.6);
  });
});
