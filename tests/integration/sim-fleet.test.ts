// The simulated fleet against a real MQTT broker (aedes on a free port): every device is its own mqtt.js
// client, announces itself with a retained state, publishes valid telemetry on its topics, leaves a last will,
// and a one-day backfill arrives complete as batches of at most 500.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import { connect, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BATCH_READINGS } from "../../services/contract/readings.ts";
import { parseDeviceTopic } from "../../services/contract/topics.ts";
import { decodePayload, type ReadingResult, validateReading } from "../../services/contract/validate.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { createSimClock } from "../../simulators/clock.ts";
import { type SimulatorConfig, simulatorConfigSchema } from "../../simulators/config.ts";
import { createFleet, type Fleet } from "../../simulators/fleet.ts";

type Message = { topic: string; payload: string; retain: boolean };

let broker: Aedes;
let server: Server;
let mqttUrl: string;
const clients: MqttClient[] = [];
const fleets: Fleet[] = [];

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  mqttUrl = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.stop()));
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A subscriber recording what the broker delivers on `filter` for devices whose id starts with `prefix`. */
async function observe(filter: string, prefix: string): Promise<Message[]> {
  const messages: Message[] = [];
  const client = connect(mqttUrl, { clientId: `obs-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0 });
  clients.push(client);
  client.on("message", (topic, payload, packet) => {
    if (topic.split("/")[3]?.startsWith(`${prefix}-`))
      messages.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));
  await client.subscribeAsync(filter, { qos: 1 });
  return messages;
}

function config(prefix: string, fleet: Partial<SimulatorConfig["fleet"]>): SimulatorConfig {
  return simulatorConfigSchema.parse({
    mqtt: { url: mqttUrl, reconnectMinMs: 200, reconnectMaxMs: 400 },
    registry: { register: false },
    fleet: { seed: "integration", idPrefix: prefix, ...fleet },
    faults: { offlinePerDay: 0 },
    publish: { flushTimeoutMs: 5000 },
    statusIntervalS: 0,
  });
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const prefix = () => `it${randomBytes(3).toString("hex")}`;

describe("simulated fleet over MQTT", () => {
  it("connects every device, announces it online (retained), publishes valid telemetry, leaves a last will", async () => {
    const p = prefix();
    const seen = await observe("city/v1/+/+/+", p);
    const clock = createSimClock({ speed: 60, startMs: Date.now() - 3_600_000 });
    const fleet = createFleet({
      config: config(p, { streetlights: 3, airquality: 2, traffic: 2, intervalS: 10 }),
      log: silentLogger(),
      clock,
    });
    fleets.push(fleet);
    expect(await fleet.connect()).toBe(7);
    await fleet.start();
    const telemetry = () => seen.filter((m) => m.topic.endsWith("/telemetry"));
    await until(() => telemetry().length >= 7 * 10);

    // Retained availability: a late subscriber is told every device is online.
    const retained = await observe("city/v1/+/+/state", p);
    await until(() => retained.length >= 7);
    for (const m of retained) expect(m).toMatchObject({ payload: '{"online":true}', retain: true });

    // Telemetry: right topic for the device's kind, readings valid under the contract, seq counting up.
    const kindOf = new Map(fleet.devices.map((d) => [d.id, d.kind]));
    const lastSeq = new Map<string, number>();
    for (const m of telemetry()) {
      const topic = parseDeviceTopic(m.topic);
      if (!topic.ok) expect.fail(`${m.topic}: ${topic.detail}`);
      expect(kindOf.get(topic.deviceId)).toBe(topic.kind);
      const decoded = decodePayload(m.payload);
      if (!decoded.ok) expect.fail(`${m.topic}: ${decoded.reason}`);
      for (const raw of decoded.readings) {
        const result: ReadingResult = validateReading(topic.kind, raw, Date.now());
        if (!result.ok) expect.fail(`${m.topic} ${JSON.stringify(raw)}: ${result.reason}`);
        const seq = result.reading.seq;
        expect(seq).toBe((lastSeq.get(topic.deviceId) ?? -1) + 1);
        lastSeq.set(topic.deviceId, seq);
      }
    }
    expect(lastSeq.size).toBe(7);

    // An abrupt loss: the broker publishes the device's last will.
    const victim = fleet.devices[0];
    if (!victim) throw new Error("empty fleet");
    const willTopic = `city/v1/${victim.kind}/${victim.id}/state`;
    await fleet.kill(victim.id);
    await until(() => seen.some((m) => m.topic === willTopic && m.payload === '{"online":false}'));

    // A graceful stop: every device says it is offline, retained.
    await fleet.stop();
    const after = await observe("city/v1/+/+/state", p);
    await until(() => after.length >= 7);
    for (const m of after) expect(m).toMatchObject({ payload: '{"online":false}', retain: true });
    // Acknowledged readings all reached the broker (the killed device may have sent a few it never saw acked).
    const delivered = telemetry().flatMap((m) => [JSON.parse(m.payload)].flat()).length;
    expect(fleet.truth().totals.readings).toBeGreaterThan(0);
    expect(fleet.truth().totals.readings).toBeLessThanOrEqual(delivered);
  });

  it("backfills one day completely, as batches of at most 500 with every PUBACK awaited", async () => {
    const p = prefix();
    const seen = await observe("city/v1/+/+/telemetry", p);
    const fleet = createFleet({
      config: config(p, { streetlights: 2, airquality: 1, traffic: 1, intervalS: 60 }),
      log: silentLogger(),
      clock: createSimClock({ speed: 1 }),
    });
    fleets.push(fleet);
    const summary = await fleet.backfill(1);
    expect(summary.readings).toBe(4 * 1440);

    await until(() => seen.reduce((n, m) => n + [JSON.parse(m.payload)].flat().length, 0) >= 4 * 1440);
    const seqs = new Map<string, Set<number>>();
    for (const m of seen) {
      const batch = JSON.parse(m.payload) as { seq: number; ts: number }[];
      expect(Array.isArray(batch)).toBe(true);
      expect(batch.length).toBeLessThanOrEqual(MAX_BATCH_READINGS);
      const id = m.topic.split("/")[3] as string;
      const set = seqs.get(id) ?? new Set<number>();
      for (const r of batch) {
        set.add(r.seq);
        expect(r.ts).toBeGreaterThanOrEqual(summary.fromMs);
        expect(r.ts).toBeLessThan(summary.toMs);
      }
      seqs.set(id, set);
    }
    expect(seqs.size).toBe(4);
    for (const set of seqs.values()) {
      expect(set.size).toBe(1440);
      expect(Math.max(...set)).toBe(1439);
    }
    const truth = fleet.truth();
    for (const d of truth.devices) {
      expect(d.readings).toBe(1440);
      if (d.kind === "streetlight") expect(d.burn_h).toBeGreaterThan(9);
    }
    await fleet.stop();
  });
});
