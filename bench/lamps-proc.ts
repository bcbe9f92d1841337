// Child process of section K (bench/schedule.ts): a share of the simulated lamp fleet, one MQTT connection per
// lamp with the lamp's own credentials, as in the field. Each lamp publishes its retained `state` (a last will
// says offline), subscribes to its `calendar` and `cmd` topics, and answers every calendar with the simulator's
// own lamp logic (simulators/schedule.ts decideCalendar, a perfect profile: no rejects, no lost messages), then
// builds its schedule at its own position (createLampSchedule), as a lamp following the calendar does.
// Raw mqtt-packet keeps thousands of connections cheap; a process of its own keeps its CPU out of the measured
// processes' accounting (it still shares the machine's cores).
// Driven over IPC by bench/schedule-lamps.ts: start → connected, reset → reset, stats → stats, exit.
import { type Socket, connect as tcpConnect } from "node:net";
import mqttPacket from "mqtt-packet";
import { deviceTopic } from "../services/contract/topics.ts";
import { createLampSchedule } from "../services/schedule/timeline.ts";
import { perfectProfile } from "../simulators/firmware.ts";
import { decideCalendar, initialLampState, type LampCalendarState } from "../simulators/schedule.ts";
import type { Lamp } from "./schedule-fleet.ts";
import type { LampsCommand, LampsMessage, LampsStart, LampsStats } from "./schedule-lamps.ts";

type Conn = {
  lamp: Lamp;
  socket: Socket;
  parser: ReturnType<typeof mqttPacket.parser>;
  state: LampCalendarState;
  ackTopic: string;
  nextId: number;
  subscribed: boolean;
  closed: boolean;
  /** Acks sent in this phase (since the last reset). */
  acks: number;
};

const ONLINE = Buffer.from(JSON.stringify({ online: true }));
const OFFLINE = Buffer.from(JSON.stringify({ online: false }));
const KEEPALIVE_S = 600;

const conns: Conn[] = [];
let stats = emptyStats();
let disconnects = 0;

function emptyStats(): LampsStats {
  return {
    type: "stats",
    docs: 0,
    docBytes: 0,
    applied: 0,
    repeated: 0,
    rejected: 0,
    ignored: 0,
    acksSent: 0,
    acksPubacked: 0,
    lampsAcked: 0,
    cmds: 0,
    disconnects: 0,
    firstDocAt: 0,
    lastAckAt: 0,
  };
}

const send = (m: LampsMessage) => process.send?.(m);

function nextId(c: Conn): number {
  const id = c.nextId;
  c.nextId = id === 65535 ? 1 : id + 1;
  return id;
}

function onCalendar(c: Conn, payload: Buffer): void {
  const now = Date.now();
  stats.docs++;
  stats.docBytes = payload.length;
  if (stats.firstDocAt === 0) stats.firstDocAt = now;
  const d = decideCalendar(payload.toString("utf8"), c.state, now);
  c.state = d.state;
  if (d.outcome === "applied" && d.state.held) {
    // What following a calendar costs a lamp: its switch times at its own position, and tonight's level.
    createLampSchedule(d.state.held.doc, { lat: c.lamp.lat, lon: c.lamp.lon }).levelAt(now);
    stats.applied++;
  } else if (d.outcome === "repeated") stats.repeated++;
  else if (d.outcome === "rejected") stats.rejected++;
  else stats.ignored++;
  if (!d.ack) return;
  c.socket.write(
    mqttPacket.generate({
      cmd: "publish",
      topic: c.ackTopic,
      payload: JSON.stringify(d.ack),
      qos: 1,
      messageId: nextId(c),
      retain: false,
      dup: false,
    }),
  );
  if (c.acks === 0) stats.lampsAcked++;
  c.acks++;
  stats.acksSent++;
  stats.lastAckAt = Date.now();
}

function open(o: LampsStart, lamp: Lamp): Promise<"subscribed" | "refused" | "closed"> {
  return new Promise((done) => {
    const socket = tcpConnect({ port: o.port, host: "127.0.0.1", noDelay: true });
    const c: Conn = {
      lamp,
      socket,
      parser: mqttPacket.parser({ protocolVersion: 4 }),
      state: initialLampState(perfectProfile()),
      ackTopic: deviceTopic("streetlight", lamp.id, "ack"),
      nextId: 1,
      subscribed: false,
      closed: false,
      acks: 0,
    };
    c.parser.on("packet", (p) => {
      switch (p.cmd) {
        case "connack":
          if (p.returnCode !== 0) {
            done("refused");
            socket.destroy();
            return;
          }
          conns.push(c);
          socket.write(
            mqttPacket.generate({
              cmd: "publish",
              topic: deviceTopic("streetlight", lamp.id, "state"),
              payload: ONLINE,
              qos: 1,
              messageId: nextId(c),
              retain: true,
              dup: false,
            }),
          );
          socket.write(
            mqttPacket.generate({
              cmd: "subscribe",
              messageId: nextId(c),
              subscriptions: [
                { topic: deviceTopic("streetlight", lamp.id, "calendar"), qos: 1 },
                { topic: deviceTopic("streetlight", lamp.id, "cmd"), qos: 1 },
              ],
            }),
          );
          return;
        case "suback":
          c.subscribed = p.granted.every((g) => typeof g === "number" && g < 128);
          done(c.subscribed ? "subscribed" : "refused");
          return;
        case "publish": {
          // QoS 1 [MQTT-4.3.2]: PUBACK first, then act on it (a duplicate is re-acked by decideCalendar).
          if (p.qos === 1)
            socket.write(mqttPacket.generate({ cmd: "puback", messageId: p.messageId as number }));
          const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
          if (p.topic.endsWith("/calendar")) onCalendar(c, payload);
          else stats.cmds++;
          return;
        }
        case "puback":
          // Ours: the state message (id 1) and every ack.
          if (p.messageId !== 1) stats.acksPubacked++;
          return;
      }
    });
    socket.on("data", (buf) => c.parser.parse(buf));
    socket.on("error", () => {});
    socket.on("close", () => {
      if (!c.closed) disconnects++;
      c.closed = true;
      done("closed");
    });
    socket.write(
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: lamp.id,
        username: lamp.id,
        password: Buffer.from(lamp.secret),
        clean: true,
        keepalive: KEEPALIVE_S,
        will: {
          topic: deviceTopic("streetlight", lamp.id, "state"),
          payload: OFFLINE,
          qos: 1,
          retain: true,
        },
      }),
    );
  });
}

/** Connects every lamp at no more than `connectRatePerS`, `inFlight` CONNECTs outstanding at most. */
async function start(o: LampsStart): Promise<void> {
  const t0 = Date.now();
  let started = 0;
  let inflight = 0;
  const counts = { subscribed: 0, refused: 0, closed: 0 };
  await new Promise<void>((finished) => {
    const tick = () => {
      const due = Math.floor((o.connectRatePerS * (Date.now() - t0)) / 1000) + 1;
      while (started < o.lamps.length && started < due && inflight < o.inFlight) {
        const lamp = o.lamps[started++] as Lamp;
        inflight++;
        void open(o, lamp).then((r) => {
          inflight--;
          counts[r]++;
          if (counts.subscribed + counts.refused + counts.closed === o.lamps.length) finished();
        });
      }
      if (started < o.lamps.length) setTimeout(tick, 5);
    };
    if (o.lamps.length === 0) finished();
    else tick();
  });
  // Keep-alive [MQTT-3.1.2-24]: one PINGREQ per lamp well within the keep-alive period.
  const ping = mqttPacket.generate({ cmd: "pingreq" });
  setInterval(
    () => {
      for (const c of conns) if (!c.closed) c.socket.write(ping);
    },
    (KEEPALIVE_S / 3) * 1000,
  ).unref();
  send({ type: "connected", ...counts, seconds: (Date.now() - t0) / 1000 });
}

process.on("message", (raw) => {
  const cmd = raw as LampsCommand;
  switch (cmd.type) {
    case "start":
      void start(cmd);
      return;
    case "reset":
      // A new phase: every lamp as if fresh from the factory (holds no calendar version), counters zeroed.
      for (const c of conns) {
        c.state = initialLampState(perfectProfile());
        c.acks = 0;
      }
      stats = emptyStats();
      send({ type: "reset" });
      return;
    case "stats":
      send({ ...stats, disconnects });
      return;
    case "exit":
      for (const c of conns) {
        c.closed = true;
        c.socket.destroy();
      }
      process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
