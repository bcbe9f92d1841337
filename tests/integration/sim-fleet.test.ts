// The simulated fleet against the platform's own broker and command service, wired as `npm start` wires them:
// the command service's API (harness/command-app.ts: buildApp over a real registry, tokens from the token file)
// on a free port, the
// broker (services/broker, in-process on free ports) following its access feed over HTTP with the svc-broker
// token and told of changes by the command service's notifier. The simulator provisions its fleet through the
// API as simulators/main.ts does, and every device connects as itself with the secret the registry issued.
// Watching is done with the platform's service accounts: svc-ingest reads telemetry, svc-command reads states
// and acks and sends commands. Each test has its own device ids.
// Checked: every device announces itself with a retained state, publishes valid telemetry on its topics,
// leaves a last will; a one-day backfill arrives complete as batches of at most 500; commands on a device's
// cmd topic are acked on its ack topic and show in its readings; a refused CONNECT (a device the broker has not
// heard of yet) is retried slowly, not in a tight loop, and connects once the broker knows it.
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickPort } from "../../scripts/platform/processes.ts";
import { httpAccessFeed } from "../../services/broker/access/feed.ts";
import { createMqttNotifier, type Notifier } from "../../services/command/notifier.ts";
import { type CommandAck, commandAck } from "../../services/contract/commands.ts";
import { MAX_BATCH_READINGS } from "../../services/contract/readings.ts";
import { parseDeviceTopic } from "../../services/contract/topics.ts";
import { decodePayload, type ReadingResult, validateReading } from "../../services/contract/validate.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { createApi } from "../../simulators/api.ts";
import { type Clock, createSimClock } from "../../simulators/clock.ts";
import { type SimulatorConfig, simulatorConfigSchema } from "../../simulators/config.ts";
import { openCredentialStore } from "../../simulators/credentials.ts";
import { createFleet, type Fleet } from "../../simulators/fleet.ts";
import { provisionFleet } from "../../simulators/provision.ts";
import { startTestBroker, type TestBroker, uid, until } from "./broker-harness.ts";
import { type CommandApp, createCommandApp } from "./harness/command-app.ts";

type Message = { topic: string; payload: string; retain: boolean };

const log = silentLogger();
let t: TestBroker;
let commandUrl: string;
/** The command service's API; its MQTT notifier is `notifier`, there while the service runs. */
let command: CommandApp;
let notifier: Notifier | undefined;
const fleets: Fleet[] = [];

beforeAll(async () => {
  command = createCommandApp({
    tmpPrefix: "sim-fleet-",
    mqttUrl: () => t.mqttUrl,
    onRegistryChange: () => notifier?.notify(),
  });
  const port = await pickPort(0);
  commandUrl = `http://127.0.0.1:${port}`;
  // The broker follows the feed (its first pull is retried until the command service answers) and syncs at
  // once on the command service's notice; its poll, the fallback for a lost notice, is left at 5 s.
  t = await startTestBroker({ feed: httpAccessFeed(commandUrl, command.secrets.token("svc-broker")) });
  await startCommandService(port);
});

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.stop()));
  await stopCommandService();
  await t?.close();
  await command?.close();
});

/**
 * As services/command/main.ts: the API on its port (the one it had, unless given), announcing each change on
 * platform/v1/registry/changed.
 */
async function startCommandService(port?: number): Promise<void> {
  await command.listen(port);
  // The notifier connects once the broker has read the feed: a CONNECT before that is refused with 0x03, after
  // which mqtt.js does not reconnect (no reconnectOnConnackError in services/command/notifier.ts).
  await t.broker.access.sync();
  notifier = createMqttNotifier(
    { url: t.mqttUrl, username: "svc-command", password: command.secrets.token("svc-command") },
    () => ({
      latest: command.registry.devices.changesSince(Number.MAX_SAFE_INTEGER, 1).latest,
      access_latest: command.registry.access.changesSince(Number.MAX_SAFE_INTEGER, 1).latest,
    }),
    log,
  );
}

async function stopCommandService(): Promise<void> {
  await notifier?.close();
  notifier = undefined;
  await command?.stop();
}

/** A service account's client (svc-ingest, svc-command), closed with the broker. */
function asService(name: "svc-ingest" | "svc-command"): Promise<MqttClient> {
  return t.connect({ clientId: `${name}-${uid()}`, username: name, password: command.secrets.token(name) });
}

/**
 * What the broker delivers on a channel for devices whose id starts with `prefix`, seen the way the platform
 * sees it: telemetry by the ingest's account, states and acks by the command service's.
 */
async function observe(channel: "telemetry" | "state" | "ack", prefix: string): Promise<Message[]> {
  const messages: Message[] = [];
  const client = await asService(channel === "telemetry" ? "svc-ingest" : "svc-command");
  client.on("message", (topic, payload, packet) => {
    if (topic.split("/")[3]?.startsWith(`${prefix}-`))
      messages.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await client.subscribeAsync(`city/v1/+/+/${channel}`, { qos: 1 });
  return messages;
}

function config(
  prefix: string,
  fleet: Partial<SimulatorConfig["fleet"]>,
  mqtt: Partial<SimulatorConfig["mqtt"]> = {},
): SimulatorConfig {
  return simulatorConfigSchema.parse({
    mqtt: { url: t.mqttUrl, reconnectMinMs: 200, reconnectMaxMs: 400, ...mqtt },
    registry: { url: commandUrl },
    fleet: { seed: "integration", idPrefix: prefix, ...fleet },
    faults: { offlinePerDay: 0 },
    publish: { flushTimeoutMs: 5000 },
    statusIntervalS: 0,
  });
}

/**
 * A fleet as simulators/main.ts makes it: each device connects with its id and the secret in the credentials
 * file; provisioned, and (unless told) known to the broker, which the command service's notice tells.
 */
async function provisionedFleet(cfg: SimulatorConfig, opts: { clock?: Clock; brokerKnows?: false } = {}) {
  const store = await openCredentialStore(join(command.dir, `${cfg.fleet.idPrefix}.json`), log);
  const fleet = createFleet({
    config: cfg,
    log,
    ...(opts.clock ? { clock: opts.clock } : {}),
    credentials: (d) => {
      const secret = store.get(d.id)?.secret;
      return { username: d.id, ...(secret === undefined ? {} : { password: secret }) };
    },
  });
  fleets.push(fleet);
  const provisioned = await provisionFleet({
    api: createApi({ url: commandUrl, token: command.token, log }),
    devices: fleet.devices,
    store,
    log,
    retry: { forMs: 0 },
  });
  expect(provisioned).toMatchObject({ ok: true, created: fleet.devices.length });
  if (opts.brokerKnows !== false)
    await until("the broker to know the fleet", () =>
      fleet.devices.every((d) => t.broker.access.device(d.id)?.generation === 1),
    );
  return fleet;
}

const prefix = () => `it${uid().slice(0, 6)}`;

describe("simulated fleet over MQTT", () => {
  it("connects every device, announces it online (retained), publishes valid telemetry, leaves a last will", async () => {
    const p = prefix();
    const seen = await observe("telemetry", p);
    const states = await observe("state", p);
    const clock = createSimClock({ speed: 60, startMs: Date.now() - 3_600_000 });
    const cfg = config(p, { streetlights: 3, airquality: 2, traffic: 2, intervalS: 10 });
    const fleet = await provisionedFleet(cfg, { clock });
    expect(await fleet.connect()).toBe(7);
    await fleet.start();
    await until("70 readings", () => seen.length >= 7 * 10);

    // Retained availability: a late subscriber is told every device is online.
    const retained = await observe("state", p);
    await until("7 retained states", () => retained.length >= 7);
    for (const m of retained) expect(m).toMatchObject({ payload: '{"online":true}', retain: true });

    // Telemetry: right topic for the device's kind, readings valid under the contract, seq counting up.
    const kindOf = new Map(fleet.devices.map((d) => [d.id, d.kind]));
    const lastSeq = new Map<string, number>();
    for (const m of seen) {
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
    await until("the last will", () =>
      states.some((m) => m.topic === willTopic && m.payload === '{"online":false}'),
    );

    // A graceful stop: every device says it is offline, retained.
    await fleet.stop();
    const after = await observe("state", p);
    await until("7 retained states", () => after.length >= 7);
    for (const m of after) expect(m).toMatchObject({ payload: '{"online":false}', retain: true });
    // Acknowledged readings all reached the broker (the killed device may have sent a few it never saw acked).
    const delivered = seen.flatMap((m) => [JSON.parse(m.payload)].flat()).length;
    expect(fleet.truth().totals.readings).toBeGreaterThan(0);
    expect(fleet.truth().totals.readings).toBeLessThanOrEqual(delivered);
  });

  it("backfills one day completely, as batches of at most 500 with every PUBACK awaited", async () => {
    const p = prefix();
    const seen = await observe("telemetry", p);
    const cfg = config(p, { streetlights: 2, airquality: 1, traffic: 1, intervalS: 60 });
    const fleet = await provisionedFleet(cfg, { clock: createSimClock({ speed: 1 }) });
    const summary = await fleet.backfill(1);
    expect(summary.readings).toBe(4 * 1440);

    await until(
      "a day of readings",
      () => seen.reduce((n, m) => n + [JSON.parse(m.payload)].flat().length, 0) >= 4 * 1440,
    );
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

  it("answers commands on its own cmd topic with an ack on its ack topic; the next reading shows a dim", async () => {
    const p = prefix();
    const seen = await observe("telemetry", p);
    const acked = await observe("ack", p);
    const cfg = config(p, { streetlights: 1, airquality: 1, traffic: 0, intervalS: 1 });
    const fleet = await provisionedFleet(cfg, { clock: createSimClock({ speed: 1 }) });
    await fleet.start();
    const [light, aq] = fleet.devices;
    if (!light || !aq) throw new Error("fleet");
    // Telemetry arriving means the device's SUBSCRIBE (sent before it) has been processed.
    await until("telemetry of both kinds", () =>
      ["streetlight", "airquality"].every((k) => seen.some((m) => m.topic.includes(`/${k}/`))),
    );
    // The command service's account is the one allowed to send commands.
    const controller = await asService("svc-command");
    const issued_at = new Date().toISOString();
    const acks = (id: string) =>
      acked
        .map((m) => ({ topic: m.topic, ack: commandAck.parse(JSON.parse(m.payload)) as CommandAck }))
        .filter((a) => a.ack.id === id);
    await controller.publishAsync(
      `city/v1/streetlight/${light.id}/cmd`,
      JSON.stringify({ id: "dim-1", cmd: "dim", level_pct: 30, duration_s: 3, issued_at }),
      { qos: 1 },
    );
    await controller.publishAsync(
      `city/v1/airquality/${aq.id}/cmd`,
      JSON.stringify({ id: "dim-2", cmd: "dim", level_pct: 30, issued_at }),
      { qos: 1 },
    );
    await until("both acks", () => acks("dim-1").length > 0 && acks("dim-2").length > 0);
    const [dim] = acks("dim-1");
    expect(dim).toMatchObject({
      topic: `city/v1/streetlight/${light.id}/ack`,
      ack: { status: "ok", level_pct: 30 },
    });
    expect(acks("dim-2")[0]).toMatchObject({
      topic: `city/v1/airquality/${aq.id}/ack`,
      ack: { status: "rejected", reason: "unsupported" },
    });
    const lightReadings = () =>
      seen
        .filter((m) => m.topic === `city/v1/streetlight/${light.id}/telemetry`)
        .flatMap((m) => [JSON.parse(m.payload)].flat() as { ts: number; dim_pct: number; power_w: number }[]);
    const readingsAfter = (ms: number) => lightReadings().filter((r) => r.ts > ms);
    await until("a reading after the ack", () => readingsAfter(dim?.ack.ts ?? 0).length > 0);
    expect(readingsAfter(dim?.ack.ts ?? 0)[0]).toMatchObject({ dim_pct: 30 });
    // Back to the program (0, 50 or 100 % depending on the hour) once the 3 s override is over.
    await until("a reading after the override", () => readingsAfter((dim?.ack.ts ?? 0) + 3000).length > 0);
    expect(readingsAfter((dim?.ack.ts ?? 0) + 3000)[0]?.dim_pct).not.toBe(30);
    await fleet.stop();
  });

  it("a refused CONNECT is retried after a growing delay, not in a tight loop, and connects once let in", async () => {
    // The command service loses its MQTT link, then goes down, right after the simulator registered the device:
    // the broker never got the notice and cannot look the device up, so it refuses it as unknown (0x04) until
    // the service is back.
    await notifier?.close();
    notifier = undefined;
    try {
      const p = prefix();
      const cfg = config(
        p,
        { streetlights: 1, airquality: 0, traffic: 0 },
        { refusedRetryMinMs: 1000, refusedRetryMaxMs: 4000 },
      );
      const fleet = await provisionedFleet(cfg, { brokerKnows: false });
      await stopCommandService();
      const [device] = fleet.devices;
      if (!device) throw new Error("fleet");
      const attempts = () =>
        t.broker
          .denials()
          .filter((d) => d.action === "connect" && d.principal === device.id)
          .reduce((n, d) => n + d.count, 0);

      const started = Date.now();
      expect(await fleet.connect()).toBe(0); // no waiting out the timeout for a refused device
      expect(Date.now() - started).toBeLessThan(3000);
      expect(fleet.stats().refused).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      // Refused at once, then after ~1 s and ~2 s more (±25 %): a handful of attempts, not hundreds.
      expect(attempts()).toBeGreaterThanOrEqual(2);
      expect(attempts()).toBeLessThanOrEqual(4);
      expect(t.broker.denials().find((d) => d.principal === device.id)?.reason).toBe("unknown_principal");

      await startCommandService();
      await until("the device to connect", () => fleet.stats().connected === 1, 10_000);
      expect(fleet.stats().refused).toBe(0);
      await fleet.stop();
    } finally {
      if (!notifier) {
        await stopCommandService();
        await startCommandService();
      }
    }
  });
});
