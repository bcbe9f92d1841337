// Access that ends while a client is connected, with a real broker, real mqtt.js clients and the access feed of a
// real registry database: revocation, rotation and decommissioning cut a live session at once (the command
// service's platform/v1/registry/changed notice, or the poll), and a persistent session stops delivering. Also:
// 0x03 until the first sync, and the snapshot that admits known principals while the feed is down.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AccessFeed } from "../../services/broker/access/feed.ts";
import { REGISTRY_CHANGED_TOPIC, STATE_FILTER, TELEMETRY_FILTER } from "../../services/contract/topics.ts";
import {
  addServiceAccounts,
  addSyncedDevice,
  asDevice,
  asService,
  closed,
  connackOf,
  sleep,
  startAccessBroker,
  startTestBroker,
  type TestBroker,
  type TestRegistry,
  testRegistry,
  uid,
  until,
} from "./broker-harness.ts";

let reg: TestRegistry;
let t: TestBroker | undefined;
let commandToken: string;
let ingestToken: string;
beforeEach(() => {
  reg = testRegistry();
  ({ command: commandToken, ingest: ingestToken } = addServiceAccounts(reg));
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  reg.close();
});

async function start(config: object = {}): Promise<TestBroker> {
  t = await startAccessBroker(reg, { access: { pollMs: 60_000 }, ...config });
  return t;
}
/** The command service's notice after a change (what services/command does after each write). */
async function announce(b: TestBroker): Promise<void> {
  const c = await b.connect(asService("svc-command", commandToken, `svc-command-${uid()}`));
  await c.publishAsync(REGISTRY_CHANGED_TOPIC, '{"latest":0}', { qos: 1 });
  await c.endAsync();
}

describe("broker: access that ends mid-session", () => {
  it("disconnects a revoked device within a second or two, delivers nothing after, and refuses it again", async () => {
    const b = await start();
    const d = await addSyncedDevice(b, reg);
    const control = await addSyncedDevice(b, reg);
    const watcher = await b.connect(asService("svc-ingest", ingestToken, "svc-ingest"));
    const got: string[] = [];
    watcher.on("message", (_topic, payload) => got.push(payload.toString()));
    await watcher.subscribeAsync(TELEMETRY_FILTER, { qos: 1 });
    // States, where the device's last will would go, seen as the command service sees them.
    const states: string[] = [];
    const stateWatcher = await b.connect(asService("svc-command", commandToken, "svc-command-states"));
    stateWatcher.on("message", (topic) => states.push(topic));
    await stateWatcher.subscribeAsync(STATE_FILTER, { qos: 1 });

    const will = {
      topic: d.topic("state"),
      payload: Buffer.from('{"online":false}'),
      qos: 1 as const,
      retain: true,
    };
    const dev = await b.connect(asDevice(d.id, d.secret, { will }));
    const closedAt = closed(dev);
    let seq = 0;
    const pump = setInterval(
      () => dev.connected && dev.publish(d.topic("telemetry"), String(seq++), { qos: 1 }),
      20,
    );
    await until("readings flowing", () => got.length >= 3);

    reg.revoke(d.id);
    const revokedAt = Date.now();
    await announce(b);
    const at = await closedAt;
    clearInterval(pump);
    expect(at - revokedAt).toBeLessThan(2000);
    // Nothing after: the broker closed the session without a DISCONNECT, which publishes a last will
    // [MQTT-3.1.2-8], and a revoked session publishes nothing, its will included (hooks/authorize-publish.ts).
    // A control state sent after the close has arrived, so the will would have arrived before it. (Counting
    // readings after the close proved nothing: a closed client sends none.)
    const controlClient = await b.connect(control.opts);
    await controlClient.publishAsync(control.topic("state"), '{"online":true}', { qos: 1 });
    await until("the control state", () => states.includes(control.topic("state")));
    expect(states).not.toContain(d.topic("state"));
    expect(b.broker.denials()).toContainEqual(
      expect.objectContaining({
        action: "publish",
        principal: d.id,
        topic: d.topic("state"),
        reason: "session_revoked",
      }),
    );
    expect(await connackOf(b, d.opts)).toBe(5);
    expect(await b.metric("broker_access_revocations_total")).toBe(1);
  });

  it("finds the change by polling when no notice comes", async () => {
    const b = await start({ access: { pollMs: 300 } });
    const d = await addSyncedDevice(b, reg);
    const dev = await b.connect(d.opts);
    const closedAt = closed(dev);
    reg.decommission(d.id);
    const changedAt = Date.now();
    expect((await closedAt) - changedAt).toBeLessThan(2000);
    expect(await connackOf(b, d.opts)).toBe(5); // decommissioned: not authorized
  });

  it("a rotated credential cuts the old one: the session ends, the old secret is refused, the new one works", async () => {
    const b = await start();
    const d = await addSyncedDevice(b, reg);
    const dev = await b.connect(d.opts);
    const closedAt = closed(dev);
    const newSecret = await reg.rotate(d.id);
    await announce(b);
    await closedAt;
    expect(await connackOf(b, asDevice(d.id, d.secret))).toBe(4);
    expect(await connackOf(b, asDevice(d.id, newSecret))).toBe(0);
  });

  it("ends a revoked device's persistent session: nothing queued for it is delivered later", async () => {
    const b = await start();
    const d = await addSyncedDevice(b, reg);
    const dev = await b.connect(asDevice(d.id, d.secret, { clean: false }));
    await dev.subscribeAsync(d.topic("cmd"), { qos: 1 });
    const closedAt = closed(dev);
    reg.revoke(d.id);
    await announce(b);
    await closedAt;
    const command = await b.connect(asService("svc-command", commandToken, "svc-command"));
    await command.publishAsync(d.topic("cmd"), '{"op":"identify"}', { qos: 1 });
    expect(await b.metric("broker_session_queued_messages", { state: "disconnected" })).toBe(0);
    // Given a credential again (rotation), it comes back to no session and no queued command.
    const secret2 = await reg.rotate(d.id);
    await b.broker.access.sync();
    const again = b.client(asDevice(d.id, secret2, { clean: false }));
    const got: string[] = [];
    again.on("message", (topic) => got.push(topic));
    const connack = await new Promise<{ sessionPresent: boolean }>((ok) => again.once("connect", ok));
    expect(connack.sessionPresent).toBe(false);
    await sleep(200);
    expect(got).toEqual([]);
  });

  it("disconnects a service whose token is revoked", async () => {
    const b = await start();
    const svc = await b.connect(asService("svc-ingest", ingestToken, "svc-ingest-1"));
    const closedAt = closed(svc);
    reg.revokeService("svc-ingest");
    await announce(b);
    await closedAt;
    expect(await connackOf(b, asService("svc-ingest", ingestToken, "svc-ingest-1"))).toBe(5);
  });
});

describe("broker: before and without the feed", () => {
  it("refuses with 0x03 until the first sync, then admits", async () => {
    const id = `sl-${uid()}`;
    const secret = await reg.addDevice(id);
    let open = false;
    const gated: AccessFeed = (since, limit) =>
      open ? reg.feed(since, limit) : Promise.reject(new Error("command service not up yet"));
    t = await startTestBroker({ feed: gated });
    expect(await connackOf(t, asDevice(id, secret))).toBe(3);
    expect(await t.metric("broker_access_ready")).toBe(0);
    open = true;
    const b = t;
    await until("the access list", () => b.broker.access.ready(), 5000);
    expect(await connackOf(t, asDevice(id, secret))).toBe(0);
  });

  it("a restarted broker admits known principals from its snapshot while the feed is down", async () => {
    const dir = mkdtempSync(join(tmpdir(), "broker-snapshot-"));
    try {
      const snapshotPath = join(dir, "broker-access.json");
      const id = `sl-${uid()}`;
      const secret = await reg.addDevice(id);
      const first = await start({ access: { snapshotPath, pollMs: 60_000 } });
      await first.close();
      t = undefined;
      const down: AccessFeed = () => Promise.reject(new Error("ECONNREFUSED"));
      t = await startTestBroker({ feed: down, config: { access: { snapshotPath } } });
      expect(t.broker.access.status()).toMatchObject({ ready: true, source: "snapshot" });
      expect(await connackOf(t, asDevice(id, secret))).toBe(0);
      expect(await connackOf(t, asDevice(id, "wrong"))).toBe(4);
      const health = (await (await fetch(`${t.opsUrl}/health`)).json()) as { checks: { access: object } };
      expect(health.checks.access).toMatchObject({
        ready: true,
        source: "snapshot",
        lastError: "ECONNREFUSED",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
