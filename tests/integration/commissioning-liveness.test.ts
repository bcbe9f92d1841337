// Liveness and the device page through the API (tests/integration/commissioning-harness.ts): online, rejects,
// silent, offline; a replacement cancelling a run; identify without an answer; the page with InfluxDB down.
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { influxProbe } from "../../services/command/commissioning/probe.ts";
import { manualClock } from "../../services/command/liveness/clock.ts";
import { buildDevicePage } from "../../services/command/routes/device-page.ts";
import { deviceTopic } from "../../services/contract/topics.ts";
import { connectInflux } from "../../services/lib/influx/index.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { type CommissioningStack, startCommissioningStack } from "./commissioning-harness.ts";
import { eventually } from "./harness/wait.ts";

const log = silentLogger();
let s: CommissioningStack;
beforeAll(async () => {
  s = await startCommissioningStack(inject("influx"));
});
afterAll(async () => {
  await s?.close();
});

describe("liveness and the device page", () => {
  it("a device that stops reporting turns silent, then offline when its connection is lost", async () => {
    const creds = await s.register("airquality", "aq-quiet", "Maarif");
    const client = s.startDevice("airquality", creds, { report: false });
    await eventually(async () => (await s.page(creds.id)).liveness.state === "online", 10_000, "online");
    const bad = { ts: Date.now(), seq: 1, pm25_ugm3: -5, pm10_ugm3: 30, no2_ugm3: 40, o3_ugm3: 30 };
    await client.publishAsync(deviceTopic("airquality", creds.id, "telemetry"), JSON.stringify(bad), {
      qos: 1,
    });
    await eventually(async () => (await s.page(creds.id)).rejects?.total === 1, 10_000, "the reject");
    expect((await s.page(creds.id)).rejects).toMatchObject({
      by_reason: { "pm25_ugm3.negative": 1 },
      latest: [{ reason: "pm25_ugm3.negative", excerpt: expect.stringContaining('"pm25_ugm3":-5') }],
    });
    await eventually(async () => (await s.page(creds.id)).liveness.state === "silent", 10_000, "silent");
    client.stream.destroy(); // no DISCONNECT: the connection is lost
    await eventually(async () => (await s.page(creds.id)).liveness.state === "offline", 10_000, "offline");
    const facts = await s.page(creds.id);
    expect(facts.liveness).toMatchObject({ online: false, disconnect_reason: "connection_lost" });
    expect(facts.device.status).toBe("connected");
  });

  it("a replacement cancels the running commissioning", async () => {
    const creds = await s.register("streetlight", "sl-swap");
    expect((await s.api("POST", `/v1/devices/${creds.id}/commissioning`)).status).toBe(202);
    const replaced = await s.api("POST", `/v1/devices/${creds.id}/replace`, {
      serial: "LC-2",
      note: "water in the box",
    });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    const r = await s.latestRun(creds.id);
    expect(r.status).toBe("cancelled");
    expect(r.checks[0]).toMatchObject({
      name: "connection",
      status: "skipped",
      detail: "cancelled: device replaced",
    });
    await eventually(() => s.service.engine.active() === 0, 5000, "the run's waits to stop");
  });

  it("drops malformed presence, state, ack and digest messages and goes on", async () => {
    const creds = await s.register("traffic", "tr-junk");
    const after = await s.register("traffic", "tr-after-junk");
    const junk = await mqtt.connectAsync(s.mqttUrl, { clientId: `junk-${s.run}` });
    const garbage: [string, string][] = [
      [`platform/v1/presence/traffic/${creds.id}`, "not json"],
      [
        `platform/v1/presence/traffic/${creds.id}`,
        JSON.stringify({ id: "someone-else", kind: "traffic", online: true, at: new Date().toISOString() }),
      ],
      [deviceTopic("traffic", creds.id, "state"), '{"online":"yes"}'],
      [deviceTopic("traffic", creds.id, "ack"), '{"id":42}'],
      ["platform/v1/ingest/activity", '{"at":1,"devices":[{"id":1}]}'],
    ];
    for (const [topic, payload] of garbage) await junk.publishAsync(topic, payload, { qos: 1 });
    // Then a valid state of another device: the service handles its messages in order, so once this one shows,
    // every message before it has been handled.
    await junk.publishAsync(deviceTopic("traffic", after.id, "state"), '{"online":true}', { qos: 1 });
    await junk.endAsync();
    await eventually(
      async () => (await s.page(after.id)).liveness.state_online === true,
      10_000,
      "the valid state sent after the junk",
    );
    expect((await s.page(creds.id)).liveness).toMatchObject({ state: "never_seen", state_online: null });
    s.startDevice("traffic", creds);
    await eventually(async () => (await s.page(creds.id)).liveness.state === "online", 10_000, "online");
  });

  it("identify to a device that does not answer: 504", async () => {
    const creds = await s.register("streetlight", "sl-mute");
    const res = await s.api("POST", `/v1/devices/${creds.id}/identify`);
    expect(res).toMatchObject({ status: 504, body: { error: "ack_timeout" } });
  });

  it("the page does not fail when InfluxDB is down: it lists what it could not read", async () => {
    const creds = await s.register("traffic", "tr-page");
    const dead = await connectInflux(
      { url: "http://127.0.0.1:9", token: "", org: "city", bucket: "x", timeoutMs: 1000 },
      log,
    );
    const d = s.registry.devices.get(creds.id);
    if (!d) throw new Error("not registered");
    const page = await buildDevicePage(
      {
        db: s.registry.db,
        activity: s.service.liveness.store,
        credentials: s.registry.credentials,
        engine: s.service.engine,
        probe: influxProbe(dead),
        clock: manualClock(Date.now()),
        silentAfterIntervals: 3,
      },
      d,
    );
    expect(page).toMatchObject({
      last_reading: null,
      rejects: null,
      liveness: { state: "never_seen" },
      credential: { generation: 1 },
    });
    expect(page.unavailable).toEqual([
      expect.stringMatching(/^last_reading \(InfluxDB: /),
      expect.stringMatching(/^rejects \(InfluxDB: /),
    ]);
  });

  it("the routes are in the OpenAPI document, with their schemas", async () => {
    const doc = (await s.api("GET", "/openapi.json")).body as {
      paths: Record<string, object>;
      components: { schemas: Record<string, object> };
    };
    for (const path of [
      "/v1/devices/{id}",
      "/v1/devices/{id}/commissioning",
      "/v1/devices/{id}/commissioning/runs",
      "/v1/devices/{id}/commissioning/sign-off",
      "/v1/devices/{id}/identify",
      "/v1/commissioning",
      "/v1/commissioning/sign-off",
    ])
      expect(doc.paths, path).toHaveProperty([path]);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["CommissioningRun", "CommissioningCheck", "DevicePage"]),
    );
  });
});
