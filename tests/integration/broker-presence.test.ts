// Presence events (contract/platform.ts) from a real broker to a real subscribing service: a device's
// authenticated connection opening (after its CONNACK) and ending, with why it ended.
import { connect as tcpConnect } from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PRESENCE_FILTER, type PresenceEvent, presenceEvent } from "../../services/contract/platform.ts";
import { REGISTRY_CHANGED_TOPIC } from "../../services/contract/topics.ts";
import {
  startTestBroker,
  type TestBroker,
  type TestRegistry,
  testRegistry,
  uid,
  until,
} from "./broker-harness.ts";

let reg: TestRegistry;
let t: TestBroker;
let commandToken: string;
let events: (PresenceEvent & { topic: string })[];

beforeEach(async () => {
  reg = testRegistry();
  commandToken = reg.addService("svc-command", "service_command");
  t = await startTestBroker({ feed: reg.feed, config: { access: { pollMs: 60_000 } } });
  await t.broker.access.sync();
  events = [];
  const command = await t.connect({
    clientId: "svc-command",
    username: "svc-command",
    password: commandToken,
  });
  command.on("message", (topic, payload, packet) => {
    expect(packet.retain).toBe(false);
    events.push({ topic, ...presenceEvent.parse(JSON.parse(payload.toString())) });
  });
  await command.subscribeAsync(PRESENCE_FILTER, { qos: 1 });
});
afterEach(async () => {
  await t.close();
  reg.close();
});

async function device(kind: "streetlight" | "airquality" = "streetlight") {
  const id = `${kind === "streetlight" ? "sl" : "aq"}-${uid()}`;
  const secret = await reg.addDevice(id, kind);
  await t.broker.access.sync();
  return { id, secret, opts: { clientId: id, username: id, password: secret } };
}
const of = (id: string) => events.filter((e) => e.id === id);

describe("broker: presence", () => {
  it("announces a device online after its CONNACK and offline with 'disconnect' on DISCONNECT", async () => {
    const d = await device("airquality");
    const c = await t.connect(d.opts);
    await until("online", () => of(d.id).length === 1);
    expect(of(d.id)[0]).toMatchObject({
      topic: `platform/v1/presence/airquality/${d.id}`,
      id: d.id,
      kind: "airquality",
      online: true,
      remote_address: expect.stringContaining("127.0.0.1"),
    });
    expect(Date.parse(of(d.id)[0]?.at ?? "")).toBeGreaterThan(Date.now() - 10_000);
    await c.endAsync();
    await until("offline", () => of(d.id).length === 2);
    expect(of(d.id)[1]).toMatchObject({ online: false, reason: "disconnect" });
  });

  it("says 'connection_lost' when the socket just closes", async () => {
    const d = await device();
    const c = await t.connect(d.opts);
    await until("online", () => of(d.id).length === 1);
    c.stream.destroy();
    await until("offline", () => of(d.id).length === 2);
    expect(of(d.id)[1]).toMatchObject({ online: false, reason: "connection_lost" });
  });

  it("says 'takeover' when the same device connects again [MQTT-3.1.4-2]", async () => {
    const d = await device();
    await t.connect(d.opts);
    await until("online", () => of(d.id).length === 1);
    await t.connect(d.opts);
    await until("offline, then online again", () => of(d.id).length === 3);
    expect(of(d.id).map((e) => [e.online, e.reason])).toEqual([
      [true, undefined],
      [false, "takeover"],
      [true, undefined],
    ]);
  });

  it("says 'revoked' when the broker cuts a device whose access ended", async () => {
    const d = await device();
    await t.connect(d.opts);
    await until("online", () => of(d.id).length === 1);
    reg.decommission(d.id);
    const c = await t.connect({ clientId: "svc-command-2", username: "svc-command", password: commandToken });
    await c.publishAsync(REGISTRY_CHANGED_TOPIC, "{}", { qos: 1 });
    await until("offline", () => of(d.id).length === 2);
    expect(of(d.id)[1]).toMatchObject({ online: false, reason: "revoked" });
  });

  it("says 'keepalive_timeout' when nothing arrives within 1.5 × keep alive [MQTT-3.1.2-24]", async () => {
    const d = await device();
    const socket = tcpConnect(Number(new URL(t.mqttUrl).port), "127.0.0.1");
    socket.on("error", () => {});
    socket.write(
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: d.id,
        username: d.id,
        password: Buffer.from(d.secret),
        clean: true,
        keepalive: 1,
      }),
    );
    await until("online", () => of(d.id).length === 1);
    await until("offline", () => of(d.id).length === 2, 5000); // no PINGREQ: gone after 1.5 s
    expect(of(d.id)[1]).toMatchObject({ online: false, reason: "keepalive_timeout" });
    socket.destroy();
  });

  it("announces nothing for refused CONNECTs or services", async () => {
    const d = await device();
    await t.connect({ ...d.opts, password: "wrong" }).catch(() => undefined);
    const svc = await t.connect({
      clientId: "svc-command-3",
      username: "svc-command",
      password: commandToken,
    });
    await svc.endAsync();
    const ok = await device();
    await t.connect(ok.opts);
    await until("the next device online", () => of(ok.id).length === 1);
    expect(events.map((e) => e.id)).toEqual([ok.id]);
  });

  it("says 'shutdown' for every online device when the broker stops", async () => {
    const d = await device();
    await t.connect(d.opts);
    await until("online", () => of(d.id).length === 1);
    await t.broker.stop();
    await until("offline", () => of(d.id).length === 2, 3000);
    expect(of(d.id)[1]).toMatchObject({ online: false, reason: "shutdown" });
  });
});
