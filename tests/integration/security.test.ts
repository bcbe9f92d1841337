// Security negatives through the whole platform (real broker, command service and ingest processes, real
// clients, the suite's InfluxDB): each refusal is asserted together with the fact that nothing was stored.
import { randomUUID } from "node:crypto";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { deviceTopic } from "../../services/contract/topics.ts";
import { streetlightReading, streetlights } from "./harness/load.ts";
import { countOf, eventually, type Stack, startStack } from "./harness/stack.ts";

const server = inject("influx");
const id = randomUUID().slice(0, 6);
const [victim, attacker, rotating, revoked, decommissioned, replaced, present] = streetlights(
  `sl-${id}`,
  7,
).map((d) => d.id) as [string, string, string, string, string, string, string];
let stack: Stack;
const opened: MqttClient[] = [];

beforeAll(async () => {
  stack = await startStack({ ...server, bucket: `t_security_${id}` });
  await stack.influx.ensureDatabase();
  await stack.register(streetlights(`sl-${id}`, 7));
});
afterAll(async () => {
  await Promise.all(opened.map((c) => c.endAsync(true)));
  await stack?.stop();
});

/** Connects without retrying; resolves with the client or rejects with the CONNACK return code. */
async function connect(opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(stack.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  opened.push(c);
  return c;
}
const asDevice = (device: string, secret = stack.secretOf(device), clientId = device) =>
  connect({ clientId, username: device, password: secret });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "connected",
    (err: { code?: number }) => err.code,
  );
const closed = (c: MqttClient) => new Promise<void>((ok) => c.once("close", () => ok()));
const stored = (device: string) => countOf(stack.influx, "streetlight", `device_id = '${device}'`);
let seq = 0;
const reading = () => JSON.stringify(streetlightReading(seq++, Date.now() - 3_600_000));

describe("MQTT access control", () => {
  it("refuses a wrong secret, an unknown device and a client id that is not the username", async () => {
    expect(await refusal(asDevice(victim, "not-the-secret"))).toBe(4);
    expect(
      await refusal(connect({ clientId: `sl-${id}-nope`, username: `sl-${id}-nope`, password: "x" })),
    ).toBe(4);
    expect(await refusal(connect({ clientId: `anon-${id}` }))).toBe(4);
    expect(await refusal(asDevice(victim, stack.secretOf(victim), attacker))).toBe(5);
    // A device cannot borrow a service's name either.
    expect(
      await refusal(connect({ clientId: "svc-ingest-x", username: "svc-ingest", password: "guess" })),
    ).toBe(4);
  });

  it("closes a device that publishes on another device's topic; nothing reaches InfluxDB", async () => {
    const c = await asDevice(attacker);
    const gone = closed(c);
    c.publish(deviceTopic("streetlight", victim, "telemetry"), reading(), { qos: 1 });
    await gone;
    // Its own topic works on a new connection, so the refusal was about the topic.
    await stack.publish("streetlight", attacker, reading());
    await eventually(async () => (await stored(attacker)) === 1, 20_000, "the attacker's own reading");
    expect(await stored(victim)).toBe(0);
    const denials = (await (await fetch(`${stack.brokerOps}/denials`)).json()) as unknown;
    expect(JSON.stringify(denials)).toContain(deviceTopic("streetlight", victim, "telemetry"));
  });

  it("grants a device its own cmd topic only: no '#', no other device's cmd, no $SYS", async () => {
    const c = await asDevice(victim);
    // mqtt.js rejects a SUBACK whose return code is 0x80 (failure) [MQTT-3.9.3-1]; the code is in the packet.
    const granted = (filter: string) =>
      c.subscribeAsync(filter, { qos: 1 }).then(
        (g) => g[0]?.qos,
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0],
      );
    expect(await granted(deviceTopic("streetlight", victim, "cmd"))).toBe(1);
    expect(await granted("#")).toBe(128);
    expect(await granted(deviceTopic("streetlight", attacker, "cmd"))).toBe(128);
    expect(await granted("city/v1/streetlight/+/cmd")).toBe(128);
    expect(await granted("$SYS/#")).toBe(128);
    expect(await granted("platform/v1/presence/#")).toBe(128);
  });

  it("publishes a device's last will when its connection is lost", async () => {
    const state = deviceTopic("streetlight", victim, "state");
    const dev = await connect({
      clientId: victim,
      username: victim,
      password: stack.secretOf(victim),
      will: { topic: state, payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    });
    await dev.publishAsync(state, '{"online":true}', { qos: 1, retain: true });
    const watcher = await connect({
      clientId: `svc-command-watch-${id}`,
      username: "svc-command",
      password: stack.token("svc-command"),
    });
    const seen: string[] = [];
    watcher.on("message", (_t, payload) => seen.push(payload.toString()));
    await watcher.subscribeAsync(state, { qos: 1 });
    await eventually(async () => seen.includes('{"online":true}'), 5000, "the retained state");
    dev.stream.destroy(); // no DISCONNECT: the will is published [MQTT-3.1.2-8]
    await eventually(async () => seen.includes('{"online":false}'), 5000, "the last will");
  });

  it("keeps each device's latest presence retained, so a late subscriber learns who is online", async () => {
    // A device nothing else in this file connects as, so no live event can arrive after the subscription: only a
    // retained one can, and the broker marks exactly those with RETAIN on delivery [MQTT-3.3.1-8, -9].
    await asDevice(present);
    const late = await connect({
      clientId: `svc-command-late-${id}`,
      username: "svc-command",
      password: stack.token("svc-command"),
    });
    const seen: { id: string; online: boolean; retain: boolean }[] = [];
    late.on("message", (_t, payload, packet) =>
      seen.push({ ...JSON.parse(payload.toString()), retain: packet.retain }),
    );
    await late.subscribeAsync(`platform/v1/presence/streetlight/${present}`, { qos: 1 });
    await eventually(async () => seen.length > 0, 5000, "the retained presence");
    expect(seen).toEqual([expect.objectContaining({ id: present, online: true, retain: true })]);
  });

  it("cuts a device whose credentials are revoked mid-session, and refuses it afterwards", async () => {
    const c = await asDevice(revoked);
    const gone = closed(c);
    const res = await stack.api("DELETE", `/v1/devices/${revoked}/credentials`);
    expect(res.status).toBe(200);
    await gone;
    expect(await refusal(asDevice(revoked))).not.toBe("connected");
  });

  it("refuses a decommissioned device at once, also when connected", async () => {
    const c = await asDevice(decommissioned);
    const gone = closed(c);
    const res = await stack.api("POST", `/v1/devices/${decommissioned}/decommission`, {
      reason: "pole removed",
    });
    expect(res.status).toBe(200);
    expect(res.body.device.status).toBe("decommissioned");
    await gone;
    expect(await refusal(asDevice(decommissioned))).not.toBe("connected");
  });

  it("rotating a credential cuts the old one and admits the new one", async () => {
    const old = stack.secretOf(rotating);
    const c = await asDevice(rotating);
    const gone = closed(c);
    const res = await stack.api("POST", `/v1/devices/${rotating}/credentials`);
    expect(res.status).toBe(200);
    await gone;
    expect(await refusal(asDevice(rotating, old))).not.toBe("connected");
    expect(await refusal(asDevice(rotating, res.body.credentials.secret))).toBe("connected");
  });

  it("a replaced controller keeps the point's history and the old controller's secret stops working", async () => {
    await stack.publish("streetlight", replaced, reading());
    await eventually(async () => (await stored(replaced)) === 1, 20_000, "a reading before the replacement");
    const oldClient = await stack.device(replaced);
    const gone = closed(oldClient);
    const res = await stack.api("POST", `/v1/devices/${replaced}/replace`, {
      serial: "LC-NEW-0001",
      note: "driver burnt",
    });
    expect(res.status).toBe(200);
    expect(res.body.device).toMatchObject({ id: replaced, status: "registered", serial: "LC-NEW-0001" });
    await gone;
    expect(await refusal(asDevice(replaced))).not.toBe("connected"); // the old secret
    const fresh = await asDevice(replaced, res.body.credentials.secret);
    await fresh.publishAsync(deviceTopic("streetlight", replaced, "telemetry"), reading(), { qos: 1 });
    await eventually(
      async () => (await stored(replaced)) === 2,
      20_000,
      "both readings under the same point",
    );
    const history = await stack.api("GET", `/v1/devices/${replaced}/history`);
    expect(history.body.events.map((e: { action: string }) => e.action)).toContain("replaced");
    expect(JSON.stringify(history.body)).not.toContain(res.body.credentials.secret);
  });

  it("refuses an oversized payload and keeps serving the others", async () => {
    const c = await asDevice(victim);
    const gone = closed(c);
    c.publish(deviceTopic("streetlight", victim, "telemetry"), Buffer.alloc(2 * 1024 * 1024, 0x20), {
      qos: 1,
    });
    await gone;
    await stack.publish("streetlight", attacker, reading());
    await eventually(async () => (await stored(attacker)) === 2, 20_000, "a reading after the oversized one");
    expect(await stored(victim)).toBe(0);
  });
});

describe("API access control", () => {
  const device = (over: Partial<DeviceRegistration> = {}): DeviceRegistration => ({
    ...(streetlights(`sl-${id}-api`, 1)[0] as DeviceRegistration),
    ...over,
  });

  it("answers 401 without a token or with an unknown one, naming the scheme", async () => {
    const none = await fetch(`${stack.commandUrl}/v1/devices`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const bad = await fetch(`${stack.commandUrl}/v1/devices`, {
      headers: { authorization: "Bearer cst_nope" },
    });
    expect(bad.status).toBe(401);
  });

  it("answers 403 to a role without the permission, and stores nothing", async () => {
    const created = await stack.api("POST", "/v1/tokens", { name: `op-${id}`, role: "operator" }, "admin");
    expect(created.status).toBe(201);
    const asOperator = (method: string, path: string, body?: unknown) =>
      fetch(`${stack.commandUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${created.body.token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await asOperator("GET", "/v1/devices")).status).toBe(200);
    const denied = await asOperator("POST", "/v1/devices", device({ id: `sl-${id}-op` }));
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { message: string }).message).toMatch(/operator.*devices:write/);
    expect((await stack.api("GET", `/v1/devices/sl-${id}-op`)).status).toBe(404);
    // An engineer cannot manage tokens.
    expect((await stack.api("POST", "/v1/tokens", { name: `x-${id}`, role: "admin" })).status).toBe(403);
  });

  it("answers 400 naming the field for a malformed body, and stores nothing", async () => {
    const res = await stack.api("POST", "/v1/devices", device({ id: `sl-${id}-bad`, lat: 300 }));
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { field: string }) => i.field)).toContain("lat");
    expect((await stack.api("GET", `/v1/devices/sl-${id}-bad`)).status).toBe(404);
  });

  it("refuses a CSV with bad rows whole, listing each bad row's line and field", async () => {
    const csv = [
      "id,kind,district,lat,lon,installed_at,led_watts,legacy_watts",
      `sl-${id}-c1,streetlight,Anfa,33.59,-7.65,2025-01-01,90,295`,
      `sl-${id}-c2,streetlight,Atlantis,33.59,-7.65,2025-01-01,90,295`,
      `sl-${id}-c3,streetlight,Anfa,33.59,-7.65,2025-01-01,,295`,
    ].join("\n");
    const res = await fetch(`${stack.commandUrl}/v1/devices/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.token("engineer")}`, "content-type": "text/csv" },
      body: csv,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { line: number; field: string }[] };
    expect(body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 3, field: "district" }),
        expect.objectContaining({ line: 4, field: "led_watts" }),
      ]),
    );
    expect((await stack.api("GET", `/v1/devices/sl-${id}-c1`)).status).toBe(404);
  });
});
