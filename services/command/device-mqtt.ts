// The command service's MQTT side (account svc-command): commands out on …/cmd, and in: device acks and
// retained `state`, the broker's presence events and the ingest's activity digests; calendars out on
// …/calendar (retained) and overrides on …/cmd for the schedule engine, whose acks (ids not of a command sent
// here) go to its `ack` handler. One mqtt.js client with a
// persistent session (clean: false) so that presence events and acks published while the service restarts
// wait for it in the broker [MQTT-3.1.2-4]. Every inbound payload is validated against the contract; a bad one
// is logged with its topic and dropped.
import { randomUUID } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { type CommandAck, commandAck, type DeviceCommand, deviceCommand } from "../contract/commands.ts";
import {
  type ActivityDigest,
  activityDigest,
  INGEST_ACTIVITY_TOPIC,
  PRESENCE_FILTER,
  PRESENCE_ROOT,
  type PresenceEvent,
  presenceEvent,
} from "../contract/platform.ts";
import { statePayload } from "../contract/readings.ts";
import {
  type DeviceKind,
  deviceTopic,
  parseDeviceTopic,
  STATE_FILTER,
  TOPIC_ROOT,
} from "../contract/topics.ts";
import type { Logger } from "../lib/log.ts";
import { type Clock, systemClock } from "./liveness/clock.ts";

export const ACK_FILTER = `${TOPIC_ROOT}/+/+/ack`;

export type DeviceMqttHandlers = {
  presence(event: PresenceEvent): void;
  /** The device's `state` message; `retained` = replayed by the broker on subscribe, not just sent. */
  state(id: string, online: boolean, retained: boolean, at: string): void;
  activity(digest: ActivityDigest): void;
  /**
   * An ack whose id is not a command sent with sendCommand (calendar acks "calendar-{v}", override acks): the
   * raw JSON, for its owner to parse (contract calendarAck or commandAck).
   */
  ack?(deviceId: string, payload: unknown): void;
};

/** One set of handlers that calls each of several (liveness and the schedule engine share the connection). */
export function fanOutHandlers(list: readonly Partial<DeviceMqttHandlers>[]): DeviceMqttHandlers {
  const each = <K extends keyof DeviceMqttHandlers>(k: K) =>
    list.flatMap((h) => (h[k] ? [h[k] as NonNullable<DeviceMqttHandlers[K]>] : []));
  const presence = each("presence");
  const state = each("state");
  const activity = each("activity");
  const ack = each("ack");
  return {
    presence: (e) => {
      for (const f of presence) f(e);
    },
    state: (id, online, retained, at) => {
      for (const f of state) f(id, online, retained, at);
    },
    activity: (d) => {
      for (const f of activity) f(d);
    },
    ack: (id, payload) => {
      for (const f of ack) f(id, payload);
    },
  };
}

/** A command as the caller writes it; the id and issue time are added here. */
export type CommandRequest =
  | { cmd: "identify"; duration_s?: number }
  | { cmd: "dim"; level_pct: number; ramp_s?: number; duration_s?: number; reason?: string };

export type CommandResult =
  | { ok: true; command: DeviceCommand; ack: CommandAck; receivedAt: number; latencyMs: number }
  | { ok: false; command: DeviceCommand; reason: "timeout"; detail: string };

export type DeviceMqtt = {
  start(handlers: DeviceMqttHandlers): void;
  /** Publishes the command (QoS 1) on the device's cmd topic; resolves with its ack or, after `timeoutMs`, a timeout. */
  sendCommand(
    device: { id: string; kind: DeviceKind },
    req: CommandRequest,
    timeoutMs: number,
  ): Promise<CommandResult>;
  /** For the service's other notices (e.g. platform/v1/registry/changed) over the same connection. */
  publish(topic: string, payload: string, qos: 0 | 1): void;
  /**
   * Publishes at QoS 1 and resolves at the broker's PUBACK [MQTT-4.3.2] (rejects if the client fails it). While
   * the connection is down mqtt.js keeps the message and sends it on reconnect, so this can take that long.
   * An empty retained payload clears the topic's retained message [MQTT-3.3.1-10].
   */
  deliver(topic: string, payload: string, opts: { retain: boolean }): Promise<void>;
  isConnected(): boolean;
  stop(): Promise<void>;
};

export type DeviceMqttOptions = {
  url: string;
  username: string;
  password: string;
  log: Logger;
  clock?: Clock;
  /** Tests: a client id other than the username (the broker's ACL allows `${username}-…`). */
  clientId?: string;
};

type Pending = { deviceId: string; resolve(ack: CommandAck, at: number): void };

export function createDeviceMqtt(opts: DeviceMqttOptions): DeviceMqtt {
  const log = opts.log.child({ module: "device-mqtt" });
  const clock = opts.clock ?? systemClock;
  const pending = new Map<string, Pending>();
  let client: MqttClient | undefined;
  let handlers: DeviceMqttHandlers | undefined;
  let droppedSince = 0;
  let dropped = 0;

  function drop(topic: string, why: string): void {
    // Devices can only publish on their own topics, but a buggy firmware may do it often: one line per 10 s.
    dropped++;
    const now = clock.now();
    if (now - droppedSince < 10_000) return;
    log.warn({ topic, why, droppedSinceLastLog: dropped }, "invalid inbound message dropped");
    droppedSince = now;
    dropped = 0;
  }

  function parse(payload: Buffer): unknown {
    try {
      return JSON.parse(payload.toString("utf8"));
    } catch {
      return undefined;
    }
  }

  function onMessage(topic: string, payload: Buffer, retain: boolean): void {
    if (!handlers || payload.length === 0) return; // empty: a retained message being cleared, not a message
    const json = parse(payload);
    if (json === undefined) drop(topic, "not JSON");
    else if (topic === INGEST_ACTIVITY_TOPIC) onActivity(handlers, topic, json);
    else if (topic.startsWith(`${PRESENCE_ROOT}/`)) onPresence(handlers, topic, json);
    else onDevice(handlers, topic, json, retain);
  }

  function onActivity(h: DeviceMqttHandlers, topic: string, json: unknown): void {
    const d = activityDigest.safeParse(json);
    if (d.success) h.activity(d.data);
    else drop(topic, d.error.message);
  }

  function onPresence(h: DeviceMqttHandlers, topic: string, json: unknown): void {
    const [kind, id] = topic.slice(PRESENCE_ROOT.length + 1).split("/");
    const p = presenceEvent.safeParse(json);
    if (!p.success) drop(topic, p.error.message);
    else if (p.data.id !== id || p.data.kind !== kind)
      drop(topic, "the payload names another device than the topic");
    else h.presence(p.data);
  }

  function onDevice(h: DeviceMqttHandlers, topic: string, json: unknown, retain: boolean): void {
    const t = parseDeviceTopic(topic);
    if (!t.ok) drop(topic, t.detail);
    else if (t.channel === "state") {
      const s = statePayload.safeParse(json);
      if (s.success) h.state(t.deviceId, s.data.online, retain, new Date(clock.now()).toISOString());
      else drop(topic, s.error.message);
    } else if (t.channel === "ack") {
      const id = (json as { id?: unknown } | null)?.id;
      const p = typeof id === "string" ? pending.get(id) : undefined;
      if (!p || p.deviceId !== t.deviceId) {
        // Not a command of ours in flight: a calendar or override ack (the schedule engine), or late.
        if (h.ack) h.ack(t.deviceId, json);
        else log.debug({ topic, commandId: id }, "ack for no pending command (late or duplicate)");
        return;
      }
      const a = commandAck.safeParse(json);
      if (!a.success) {
        drop(topic, a.error.message);
        return;
      }
      pending.delete(a.data.id);
      p.resolve(a.data, clock.now());
    } else drop(topic, `unexpected channel ${t.channel}`);
  }

  return {
    start(h) {
      handlers = h;
      const c = mqtt.connect(opts.url, {
        clientId: opts.clientId ?? opts.username,
        username: opts.username || undefined,
        password: opts.password || undefined,
        clean: false,
        reconnectPeriod: 2000,
        // Keep trying after a refused CONNECT too: the broker answers 0x03 until it has read the access list.
        reconnectOnConnackError: true,
        connectTimeout: 10_000,
      });
      client = c;
      c.on("connect", (connack) => {
        log.info({ sessionPresent: connack.sessionPresent }, "mqtt connected");
        // With a present session the broker kept our subscriptions (and queued what came meanwhile).
        if (connack.sessionPresent) return;
        const filters = [STATE_FILTER, ACK_FILTER, PRESENCE_FILTER, INGEST_ACTIVITY_TOPIC];
        c.subscribe(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])), (err, granted) => {
          if (err) log.error({ err: err.message }, "subscribe failed");
          const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
          if (refused.length > 0) log.error({ refused }, "subscriptions refused by the broker");
        });
      });
      c.on("message", (topic, payload, packet) => {
        try {
          onMessage(topic, payload, packet.retain);
        } catch (err) {
          log.error({ err, topic }, "inbound message handler failed");
        }
      });
      c.on("error", (err) => log.warn({ err: err.message }, "mqtt error"));
      c.on("offline", () => log.warn("mqtt offline; reconnecting"));
    },

    async sendCommand(device, req, timeoutMs) {
      const command = deviceCommand.parse({
        ...req,
        id: randomUUID(),
        issued_at: new Date(clock.now()).toISOString(),
      });
      const c = client;
      if (!c) throw new Error("device mqtt not started");
      const abort = new AbortController();
      const sentAt = clock.now();
      const acked = new Promise<CommandResult>((resolve) => {
        pending.set(command.id, {
          deviceId: device.id,
          resolve: (ack, at) => {
            abort.abort();
            resolve({ ok: true, command, ack, receivedAt: at, latencyMs: at - sentAt });
          },
        });
      });
      const clog = log.child({ deviceId: device.id, commandId: command.id, cmd: command.cmd });
      // Not awaited: the PUBACK only says the broker has it; the device's ack is what counts.
      c.publish(deviceTopic(device.kind, device.id, "cmd"), JSON.stringify(command), { qos: 1 }, (err) => {
        if (err) clog.warn({ err: err.message }, "command publish failed");
      });
      clog.info("command sent");
      const timedOut = clock.sleep(timeoutMs, abort.signal).then(
        (): CommandResult => {
          pending.delete(command.id);
          return { ok: false, command, reason: "timeout", detail: `no ack within ${timeoutMs / 1000} s` };
        },
        () => new Promise<never>(() => {}), // aborted: the ack won
      );
      const result = await Promise.race([acked, timedOut]);
      clog.info(
        result.ok ? { status: result.ack.status, latencyMs: result.latencyMs } : {},
        result.ok ? "ack" : "no ack",
      );
      return result;
    },

    publish(topic, payload, qos) {
      client?.publish(topic, payload, { qos }, (err) => {
        if (err) log.warn({ err: err.message, topic }, "publish failed");
      });
    },
    deliver(topic, payload, opts) {
      const c = client;
      if (!c) return Promise.reject(new Error("device mqtt not started"));
      return new Promise((resolve, reject) => {
        c.publish(topic, payload, { qos: 1, retain: opts.retain }, (err) => (err ? reject(err) : resolve()));
      });
    },
    isConnected: () => client?.connected ?? false,
    async stop() {
      const c = client;
      client = undefined;
      handlers = undefined;
      if (c) await c.endAsync();
    },
  };
}
