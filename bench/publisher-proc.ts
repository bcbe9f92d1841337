// Child process of the benchmark: a fleet of simulated streetlights, one MQTT connection per device (as in the
// field), publishing valid readings at QoS 1 with a bounded window of unacknowledged PUBLISHes each.
// Raw mqtt-packet keeps it cheap; running it in its own process keeps its CPU out of the measured processes'
// accounting (it still shares the machine's cores, which the report states).
// Driven over IPC by bench/load.ts: start → ready → go → done → exit.
import { type Socket, connect as tcpConnect } from "node:net";
import mqttPacket from "mqtt-packet";
import type { PublisherCommand, PublisherDone, PublisherReady, PublisherStart } from "./load.ts";
import { type DeviceState, deviceState, payloadOf } from "./readings.ts";

type Conn = {
  device: DeviceState;
  socket: Socket;
  connected: boolean;
  closed: boolean;
  inflight: number;
  blocked: boolean;
  nextId: number;
};

let conns: Conn[] = [];
let opts: PublisherStart | undefined;
let sending = false;
let sent = 0;
let acked = 0;
let disconnects = 0;
let t0 = 0;
const ackedPerSecond: number[] = [];

function send(msg: PublisherReady | PublisherDone): void {
  process.send?.(msg);
}

function publish(c: Conn): void {
  const o = opts as PublisherStart;
  const messageId = c.nextId;
  c.nextId = c.nextId === 65535 ? 1 : c.nextId + 1;
  const packet = mqttPacket.generate({
    cmd: "publish",
    topic: c.device.topic,
    payload: payloadOf(c.device, o.shape, Date.now()),
    qos: 1,
    messageId,
    retain: false,
    dup: false,
  });
  c.inflight++;
  sent++;
  if (!c.socket.write(packet)) {
    c.blocked = true;
    c.socket.once("drain", () => {
      c.blocked = false;
      if (o.ratePerS === 0) pump(c);
    });
  }
}

/** Flood mode: keep the window full. */
function pump(c: Conn): void {
  const o = opts as PublisherStart;
  while (sending && c.connected && !c.blocked && c.inflight < o.window) publish(c);
}

function onPuback(c: Conn): void {
  if (c.inflight > 0) c.inflight--;
  acked++;
  if (sending) {
    const s = Math.floor((Date.now() - t0) / 1000);
    while (ackedPerSecond.length <= s && ackedPerSecond.length < 3600) ackedPerSecond.push(0);
    if (s < ackedPerSecond.length) ackedPerSecond[s] = (ackedPerSecond[s] ?? 0) + 1;
    if ((opts as PublisherStart).ratePerS === 0) pump(c);
  }
}

function open(o: PublisherStart, id: string): Promise<Conn> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port: o.port, host: "127.0.0.1", noDelay: true });
    const c: Conn = {
      device: deviceState(id),
      socket,
      connected: false,
      closed: false,
      inflight: 0,
      blocked: false,
      nextId: 1,
    };
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p) => {
      if (p.cmd === "connack") {
        c.connected = p.returnCode === 0;
        resolve(c);
      } else if (p.cmd === "puback") onPuback(c);
    });
    socket.on("data", (buf) => parser.parse(buf));
    socket.on("error", () => {});
    socket.on("close", () => {
      if (!c.closed && c.connected) disconnects++;
      c.connected = false;
      c.closed = true;
      resolve(c);
    });
    // Clean sessions: a device's unacknowledged readings are its own to resend (it keeps an offline buffer).
    socket.write(
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: id,
        // Its own credentials: the broker admits a device only as itself (issue 3).
        username: id,
        password: Buffer.from(o.secrets[id] ?? ""),
        clean: true,
        keepalive: 60,
      }),
    );
  });
}

async function start(o: PublisherStart): Promise<void> {
  opts = o;
  // In chunks, so the broker's listen backlog is never the bottleneck of a 1,000-device connect storm.
  for (let i = 0; i < o.devices.length; i += 100) {
    conns = conns.concat(await Promise.all(o.devices.slice(i, i + 100).map((id) => open(o, id))));
  }
  send({ type: "ready", connected: conns.filter((c) => c.connected).length });
}

async function go(): Promise<void> {
  const o = opts as PublisherStart;
  sending = true;
  t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  if (o.ratePerS === 0) {
    for (const c of conns) pump(c);
  } else {
    // Open loop: a global budget of ratePerS, spread round-robin over the devices that have window room.
    let cursor = 0;
    timer = setInterval(() => {
      const due = Math.floor((o.ratePerS * (Date.now() - t0)) / 1000) - sent;
      let budget = Math.min(due, Math.ceil(o.ratePerS / 10)); // at most 100 ms of catch-up per tick
      for (let tried = 0; budget > 0 && tried < conns.length; tried++) {
        const c = conns[cursor] as Conn;
        cursor = (cursor + 1) % conns.length;
        if (!c.connected || c.blocked || c.inflight >= o.window) continue;
        publish(c);
        budget--;
        tried = -1; // something was sent: keep going round
        if (budget === 0) break;
      }
    }, 5);
  }
  await new Promise((r) => setTimeout(r, o.durationMs));
  sending = false;
  if (timer) clearInterval(timer);
  const stoppedAt = Date.now();
  // Let the acknowledgements of the last window arrive (the broker may hold paused publishers a while).
  const deadline = stoppedAt + o.settleMs;
  while (Date.now() < deadline && conns.some((c) => c.connected && c.inflight > 0)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  send({
    type: "done",
    sent,
    acked,
    unacked: conns.reduce((n, c) => n + c.inflight, 0),
    disconnects,
    startedAt: t0,
    stoppedAt,
    settledAt: Date.now(),
    ackedPerSecond,
  });
}

process.on("message", (raw) => {
  const cmd = raw as PublisherCommand;
  switch (cmd.type) {
    case "start":
      void start(cmd);
      return;
    case "go":
      void go();
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
