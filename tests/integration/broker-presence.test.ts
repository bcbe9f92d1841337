// Presence events (contract/platform.ts) from a real broker to a real subscribing service: a device's
// authenticated connection opening (after its CONNACK) and ending, with why it ended.
import { connect as tcpConnect } from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  PRESENCE_FILTER,
  type PresenceEvent,
  presenceEvent,
  presenceTopic,
} from "../../services/contract/platform.ts";
import { REGISTRY_CHANGED_TOPIC } from "../../services/contract/topics.ts";
import {
  addServiceAccounts,
  addSyncedDevice,
  asService,
  startAccessBroker,
  type TestBroker,
  type TestRegistry,
  testRegistry,
  until,
} from "./broker-harness.ts";

let reg: TestRegistry;
let t: TestBroker;
let commandToken: string;
/** Each event with its topic and the RETAIN flag of its delivery. */
let events: (PresenceEvent & { topic: string; retain: boolean })[];

beforeEach(async () => {
  reg = testRegistry();
  commandToken = addServiceAccounts(reg).command;
  t = await startAccessBroker(reg, { access: { pollMs: 60_000 } });
  events = [];
  const command = await t.connect(asService("svc-command", commandToken, "svc-command"));
  command.on("message", (topic, payload, packet) => {
    events.push({ topic, retain: packet.retain, ...presenceEvent.parse(JSON.parse(payload.toString())) });
  });
  await command.subscribeAsync(PRESENCE_FILTER, { qos: 1 });
});
afterEach(async () => {
  // Presence is published retained, but a subscriber that was there already gets it with RETAIN 0
  // [MQTT-3.3.1-9]: every event here was delivered live.
  try {
    expect(events.filter((e) => e.retain)).toEqual([]);
  } finally {
    await t.close();
    reg.close();
  }
});

const device = (kind: "streetlight" | "airquality" = "streetlight") => addSyncedDevice(t, reg, kind);
const of = (id: string) => events.filter((e) => e.id === id);

describe("broker: presence", () => {
  it("announces a device online after its CONNACK and offline with 'disconnect' on DISCONNECT", async () => {
    const d = await device("airquality");
    const c = await t.connect(d.opts);
    await until("online", () => of(d.id).length === 1);
    expect(of(d.id)[0]).toMatchObject({
      topic: presenceTopic("airquality", d.id),
      id: d.id,
      kind: "airquality",
      online: true,
      remote_address: expect.stringContaining("127.0.0.1"),
      retain: false,
    });
    expect(Date.parse(of(d.id)[0]?.at ?? "")).toBeGreaterThan(Date.now() - 10_000);
    await c.endAsync();
    await until("offline", () => of(d.id).length === 2);
    expect(of(d.id)[1]).toMatchObject({ online: false, reason: "disconnect", retain: false });
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
    const c = await t.connect(asService("svc-command", commandToken, "svc-command-2"));
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
    const svc = await t.connect(asService("svc-command", commandToken, "svc-command-3"));
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
