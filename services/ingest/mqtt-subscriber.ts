// A minimal MQTT 3.1.1 subscriber on mqtt-packet (the parser/generator that mqtt.js and aedes use).
// Why not mqtt.js: its customHandleAcks holds the packet pump until each PUBACK is sent, so acknowledging a
// message only after its readings are durable on disk would serialise the ingest to one message per fsync.
// Here PUBACKs are sent later, in arrival order ([MQTT-4.6.0-2]), while new messages keep flowing.
import { connect as netConnect, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import type { Logger } from "../lib/log.ts";

export type IncomingMessage = {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  dup: boolean;
  /** When the message was read from the socket (epoch ms). */
  arrivedAt: number;
  /** Sends the PUBACK (QoS 1). Call in arrival order, once the message is safe. A stale ack (after a reconnect) is dropped: the broker redelivers. */
  ack(): void;
};

export type SubscriberOptions = {
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  keepaliveS: number;
  /** false: a persistent session, so the broker keeps QoS 1 messages for us while we are away [MQTT-3.1.2-4]. */
  clean: boolean;
  subscriptions: { topic: string; qos: 0 | 1 }[];
  onMessage(msg: IncomingMessage): void;
  onConnectionChange?(connected: boolean, sessionPresent: boolean): void;
  log: Logger;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
};

export type Subscriber = {
  start(): void;
  stop(): Promise<void>;
  /** Stops reading from the socket: TCP backpressure then slows the broker's deliveries to us. */
  pause(): void;
  resume(): void;
  isConnected(): boolean;
  /** Publishes at QoS 0 on this connection (the activity digest); false when not connected. */
  publish(topic: string, payload: string): boolean;
};

export function createSubscriber(opts: SubscriberOptions): Subscriber {
  const { hostname, port } = new URL(opts.url);
  let socket: Socket | undefined;
  let generation = 0;
  let connected = false;
  let stopped = false;
  let paused = false;
  let attempt = 0;
  let pingTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let lastPingResp = Date.now();
  let nextId = 1;

  function send(packet: mqttPacket.Packet): void {
    if (socket && !socket.destroyed) socket.write(mqttPacket.generate(packet));
  }

  // PUBACKs of one group commit leave in one write (one syscall) instead of one write each.
  let acks: Buffer | undefined;
  let ackLen = 0;
  function sendPuback(messageId: number): void {
    if (!acks) {
      acks = Buffer.allocUnsafe(4 * 1024);
      ackLen = 0;
      process.nextTick(flushAcks);
    }
    if (ackLen + 4 > acks.length) {
      const bigger = Buffer.allocUnsafe(acks.length * 2);
      acks.copy(bigger, 0, 0, ackLen);
      acks = bigger;
    }
    acks[ackLen] = 0x40; // PUBACK [MQTT-3.4]
    acks[ackLen + 1] = 2;
    acks[ackLen + 2] = messageId >> 8;
    acks[ackLen + 3] = messageId & 0xff;
    ackLen += 4;
  }
  function flushAcks(): void {
    const buf = acks;
    acks = undefined;
    if (buf && socket && !socket.destroyed) socket.write(buf.subarray(0, ackLen));
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer) return;
    const min = opts.reconnectMinMs ?? 200;
    const delay = Math.min(opts.reconnectMaxMs ?? 5000, min * 2 ** Math.min(attempt++, 5));
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      open();
    }, delay);
  }

  function onClosed(gen: number, reason: string): void {
    if (gen !== generation) return;
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = undefined;
    if (connected) opts.onConnectionChange?.(false, false);
    connected = false;
    socket = undefined;
    if (!stopped) opts.log.warn({ reason }, "mqtt connection lost; reconnecting");
    scheduleReconnect();
  }

  function open(): void {
    const gen = ++generation;
    const s = netConnect({ host: hostname || "127.0.0.1", port: Number(port || 1883) });
    socket = s;
    s.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (packet) => onPacket(gen, packet));
    parser.on("error", (err) => {
      opts.log.error({ err: err.message }, "mqtt protocol error");
      s.destroy();
    });
    s.on("data", (buf) => parser.parse(buf));
    s.on("error", (err) => opts.log.debug({ err: err.message }, "mqtt socket error"));
    s.on("close", () => onClosed(gen, "socket closed"));
    s.on("connect", () => {
      if (paused) s.pause();
      send({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: opts.clientId,
        clean: opts.clean,
        keepalive: opts.keepaliveS,
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.password !== undefined ? { password: Buffer.from(opts.password) } : {}),
      });
    });
  }

  function onPacket(gen: number, packet: mqttPacket.Packet): void {
    if (gen !== generation) return;
    switch (packet.cmd) {
      case "connack": {
        if (packet.returnCode !== 0) {
          opts.log.error({ returnCode: packet.returnCode }, "mqtt connection refused");
          socket?.destroy();
          return;
        }
        connected = true;
        attempt = 0;
        lastPingResp = Date.now();
        opts.log.info({ sessionPresent: packet.sessionPresent }, "mqtt connected");
        opts.onConnectionChange?.(true, Boolean(packet.sessionPresent));
        // Re-subscribing is harmless with a present session and needed without one.
        send({ cmd: "subscribe", messageId: nextMessageId(), subscriptions: opts.subscriptions });
        // [MQTT-3.1.2-24] keep the connection alive; two missed PINGRESPs mean the link is dead.
        pingTimer = setInterval(
          () => {
            if (Date.now() - lastPingResp > opts.keepaliveS * 2000) socket?.destroy();
            else send({ cmd: "pingreq" });
          },
          (opts.keepaliveS * 1000) / 2,
        );
        pingTimer.unref();
        return;
      }
      case "publish": {
        const qos = packet.qos === 0 ? 0 : 1;
        const messageId = packet.messageId;
        const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
        opts.onMessage({
          topic: packet.topic,
          payload,
          qos,
          dup: packet.dup,
          arrivedAt: Date.now(),
          ack: () => {
            if (qos === 1 && gen === generation && connected && messageId !== undefined)
              sendPuback(messageId);
          },
        });
        return;
      }
      case "pingresp":
        lastPingResp = Date.now();
        return;
      case "suback":
        if (packet.granted.some((g) => typeof g === "number" && g >= 0x80)) {
          opts.log.error({ granted: packet.granted }, "subscription refused by the broker");
        }
        return;
      default:
        return;
    }
  }

  function nextMessageId(): number {
    nextId = nextId >= 65535 ? 1 : nextId + 1;
    return nextId;
  }

  return {
    start() {
      stopped = false;
      open();
    },
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (pingTimer) clearInterval(pingTimer);
      const s = socket;
      if (!s || s.destroyed) return;
      send({ cmd: "disconnect" });
      await new Promise<void>((resolve) => {
        s.once("close", () => resolve());
        s.end();
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000).unref();
      });
    },
    pause() {
      paused = true;
      socket?.pause();
    },
    resume() {
      paused = false;
      socket?.resume();
    },
    isConnected: () => connected,
    publish(topic, payload) {
      if (!connected) return false;
      send({ cmd: "publish", topic, payload, qos: 0, retain: false, dup: false });
      return true;
    },
  };
}
