// Scripted streetlights for the schedule delivery tests: plain MQTT clients of registered lamps, with their own
// credentials, that subscribe to their calendar and cmd topics on every connection and do what the test says
// with what arrives (apply and ack, reject with a reason, or stay silent). Not the simulator's lamp: these do
// nothing by themselves, so each test controls exactly what the platform hears.
import mqtt, { type MqttClient } from "mqtt";
import { expect } from "vitest";
import { type CommandAck, type DeviceCommand, deviceCommand } from "../../services/contract/commands.ts";
import {
  type CalendarAck,
  type CalendarDocument,
  calendarAckId,
  calendarDocument,
  type ScheduleRejectReason,
} from "../../services/contract/schedule.ts";
import { deviceTopic } from "../../services/contract/topics.ts";
import { eventually, type Stack } from "./harness/stack.ts";

export type LampMode =
  | { type: "apply" }
  | { type: "reject"; reason: ScheduleRejectReason; detail: string }
  /** Take it and say nothing (a lost ack, a busy controller). */
  | { type: "silent" };

export type ScriptedLamp = {
  id: string;
  /** Every calendar document received, in order (re-sends included). */
  calendars: CalendarDocument[];
  /** Every command received (override, cancel_override), in order. */
  commands: DeviceCommand[];
  mode: LampMode;
  connect(): Promise<void>;
  /** Closes the connection (a clean DISCONNECT: presence says offline). */
  disconnect(): Promise<void>;
  readonly connected: boolean;
};

const lamps: ScriptedLamp[] = [];

/** A lamp that is not connected yet; call connect(). */
export function scriptedLamp(stack: Stack, id: string, mode: LampMode = { type: "apply" }): ScriptedLamp {
  let client: MqttClient | undefined;
  const calendarTopic = deviceTopic("streetlight", id, "calendar");
  const cmdTopic = deviceTopic("streetlight", id, "cmd");
  const ackTopic = deviceTopic("streetlight", id, "ack");
  const ack = (c: MqttClient, body: CalendarAck | CommandAck) =>
    c.publish(ackTopic, JSON.stringify(body), { qos: 1 });

  function onMessage(c: MqttClient, topic: string, payload: Buffer): void {
    if (payload.length === 0) return; // a retained message cleared
    const json = JSON.parse(payload.toString("utf8"));
    if (topic === calendarTopic) {
      const doc = calendarDocument.parse(json);
      lamp.calendars.push(doc);
      const m = lamp.mode;
      if (m.type === "apply")
        ack(c, { id: calendarAckId(doc.version), version: doc.version, status: "applied", ts: Date.now() });
      else if (m.type === "reject")
        ack(c, {
          id: calendarAckId(doc.version),
          version: doc.version,
          status: "rejected",
          reason: m.reason,
          detail: m.detail,
          ts: Date.now(),
        });
    } else if (topic === cmdTopic) {
      const cmd = deviceCommand.parse(json);
      lamp.commands.push(cmd);
      const m = lamp.mode;
      const late = cmd.cmd === "override" && Date.parse(cmd.expires_at) <= Date.now();
      if (m.type === "apply")
        ack(
          c,
          late
            ? { id: cmd.id, status: "rejected", reason: "expired", ts: Date.now() }
            : { id: cmd.id, status: "ok", ts: Date.now() },
        );
      else if (m.type === "reject")
        ack(c, { id: cmd.id, status: "rejected", reason: "busy", detail: m.detail, ts: Date.now() });
    }
  }

  const lamp: ScriptedLamp = {
    id,
    calendars: [],
    commands: [],
    mode,
    async connect() {
      const c = await mqtt.connectAsync(stack.mqttUrl, {
        clientId: id,
        username: id,
        password: stack.secretOf(id),
        clean: true,
        reconnectPeriod: 0,
      });
      c.on("message", (topic, payload) => onMessage(c, topic, payload));
      // Like a controller: subscribe on every connection, before anything else [MQTT-3.8.4].
      await c.subscribeAsync({ [calendarTopic]: { qos: 1 }, [cmdTopic]: { qos: 1 } });
      client = c;
    },
    async disconnect() {
      const c = client;
      client = undefined;
      await c?.endAsync();
    },
    get connected() {
      return client?.connected ?? false;
    },
  };
  lamps.push(lamp);
  return lamp;
}

/** Disconnects every lamp made here (afterAll). */
export async function closeLamps(): Promise<void> {
  await Promise.all(lamps.splice(0).map((l) => l.disconnect().catch(() => undefined)));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A streetlight registration in `district` near its centre. */
export function lampRegistration(id: string, district: string) {
  return {
    id,
    kind: "streetlight" as const,
    district,
    lat: 33.58,
    lon: -7.62,
    installed_at: "2025-01-01",
    led_watts: 90,
    legacy_watts: 295,
  };
}

/** A program and a calendar through the CRUD API (engineer), answering the calendar id. */
export async function makeCalendar(stack: Stack, id: string, level = 50): Promise<string> {
  const program = await stack.api("POST", "/v1/programs", {
    id: `p-${id}`,
    name: `Program ${id}`,
    switch_points: [
      { at: "sunset", offset_min: 10, level_pct: 100 },
      { at: "00:00", level_pct: level, ramp_s: 300 },
      { at: "sunrise", offset_min: -15, level_pct: 0 },
    ],
  });
  if (program.status !== 201 && program.status !== 200)
    throw new Error(`program: HTTP ${program.status} ${JSON.stringify(program.body)}`);
  const calendar = await stack.api("POST", "/v1/calendars", {
    id: `c-${id}`,
    name: `Calendar ${id}`,
    default_program: `p-${id}`,
  });
  if (calendar.status !== 201 && calendar.status !== 200)
    throw new Error(`calendar: HTTP ${calendar.status} ${JSON.stringify(calendar.body)}`);
  return `c-${id}`;
}

/** A rollout's progress (GET /v1/rollouts/{id}). */
export async function rolloutOf(stack: Stack, id: number) {
  const r = await stack.api("GET", `/v1/rollouts/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** A rollout's per-lamp deliveries (GET /v1/rollouts/{id}/deliveries). */
export async function deliveriesOf(stack: Stack, id: number) {
  const r = await stack.api("GET", `/v1/rollouts/${id}/deliveries`);
  expect(r.status).toBe(200);
  return r.body.deliveries as {
    device_id: string;
    state: string;
    attempts: number;
    reason: string | null;
    [k: string]: unknown;
  }[];
}

/** Waits until the lamp's presence is known to the command service (its schedule page says online or not). */
export async function presenceKnown(stack: Stack, lamp: ScriptedLamp, want = true) {
  await eventually(
    async () => (await stack.api("GET", `/v1/devices/${lamp.id}/schedule`)).body.online === want,
    10_000,
    `${lamp.id} ${want ? "online" : "offline"}`,
  );
}
