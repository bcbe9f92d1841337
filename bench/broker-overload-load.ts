// Load generator for the broker overload benchmark: many raw QoS 1 publishers flooding as fast as the
// broker lets them (a window of unacknowledged PUBLISHes each, like a device's offline buffer), and one
// ingest-like subscriber (mqtt.js, persistent session, QoS 1 on the telemetry filter) that measures
// delivered messages per second and publish → deliver latency from a timestamp in the payload.
// Raw mqtt-packet publishers keep the load generator cheap: it shares two cores with the broker.
import { type Socket, connect as tcpConnect } from "node:net";
import { performance } from "node:perf_hooks";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { deviceTopic, TELEMETRY_FILTER } from "../services/contract/topics.ts";

export type LoadOptions = {
  port: number;
  publishers: number;
  /** Unacknowledged QoS 1 PUBLISHes each publisher keeps in flight. */
  window: number;
  payloadBytes: number;
  /** Extra time the subscriber takes per message before acking (0 = as fast as mqtt.js goes). */
  subscriberDelayMs: number;
};

export type Second = { t: number; delivered: number; p50: number; p99: number; brokerP99: number };
export type Latency = { p50: number; p99: number; max: number };

export type LoadResult = {
  published: number;
  /** PUBLISHes the broker acknowledged (PUBACK received), counted once the backlog has drained. */
  acked: number;
  delivered: number;
  duplicates: number;
  /** Acknowledged but never delivered. */
  lost: number;
  perSecond: Second[];
  /** From the publisher writing the PUBLISH, including time spent waiting in its window (Little's law). */
  latencyMs: Latency;
  /** From the broker's PUBACK reaching the publisher (the broker has accepted the message) to delivery. */
  brokerLatencyMs: Latency;
  /** Messages still arriving after the publishers stopped, and how long the backlog took to drain. */
  drainMs: number;
};

const HEADER = 16; // float64 send time, uint32 publisher, uint32 sequence

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

type Publisher = { socket: Socket; sent: number; acked: number; ackedAt: number[]; stop(): void };

function startPublisher(port: number, index: number, opts: LoadOptions): Publisher {
  const socket = tcpConnect({ port, host: "127.0.0.1", noDelay: true });
  const topic = deviceTopic("streetlight", `bench-pub-${index}`, "telemetry");
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  const pub: Publisher = { socket, sent: 0, acked: 0, ackedAt: [], stop };
  const seqOf = new Int32Array(65536); // packet identifier → sequence number of the message in flight
  let inflight = 0;
  let waitingDrain = false;
  let nextId = 1;
  const pump = (): void => {
    while (!stopped && !waitingDrain && inflight < opts.window) {
      const payload = Buffer.alloc(Math.max(HEADER, opts.payloadBytes), 0x20);
      payload.writeDoubleLE(performance.now(), 0);
      payload.writeUInt32LE(index, 8);
      payload.writeUInt32LE(pub.sent, 12);
      const messageId = nextId;
      nextId = nextId === 65535 ? 1 : nextId + 1;
      seqOf[messageId] = pub.sent;
      const ok = socket.write(
        mqttPacket.generate({ cmd: "publish", topic, payload, qos: 1, messageId, retain: false, dup: false }),
      );
      pub.sent++;
      inflight++;
      if (!ok) {
        waitingDrain = true;
        socket.once("drain", () => {
          waitingDrain = false;
          pump();
        });
      }
    }
  };
  parser.on("packet", (packet) => {
    if (packet.cmd === "connack") pump();
    else if (packet.cmd === "puback") {
      inflight--;
      pub.acked++;
      pub.ackedAt[seqOf[packet.messageId ?? 0] ?? 0] = performance.now();
      pump();
    }
  });
  socket.on("data", (buf) => parser.parse(buf));
  socket.on("error", () => {}); // the broker may drop us at shutdown; counted as not acked
  socket.write(
    mqttPacket.generate({
      cmd: "connect",
      clientId: `bench-pub-${index}`,
      clean: true,
      keepalive: 60,
      protocolVersion: 4,
    }),
  );
  return pub;
}

export async function runLoad(
  opts: LoadOptions,
  durationMs: number,
  drainLimitMs: number,
): Promise<LoadResult> {
  const seen = opts.publishers > 0 ? Array.from({ length: opts.publishers }, () => new Set<number>()) : [];
  const latencies: number[] = [];
  const brokerLatencies: number[] = [];
  const seconds: { delivered: number; lat: number[]; brokerLat: number[] }[] = [];
  let pubs: Publisher[] = [];
  let delivered = 0;
  let duplicates = 0;
  const t0 = performance.now();
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${opts.port}`, {
    clientId: "bench-ingest",
    clean: false,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  if (opts.subscriberDelayMs > 0) {
    const handle = sub.handleMessage.bind(sub);
    sub.handleMessage = (packet, cb) => void setTimeout(() => handle(packet, cb), opts.subscriberDelayMs);
  }
  sub.on("message", (_topic, payload) => {
    const now = performance.now();
    const lat = now - payload.readDoubleLE(0);
    const index = payload.readUInt32LE(8);
    const set = seen[index];
    const seq = payload.readUInt32LE(12);
    if (set?.has(seq)) {
      duplicates++;
      return;
    }
    set?.add(seq);
    delivered++;
    latencies.push(lat);
    const s = Math.floor((now - t0) / 1000);
    while (seconds.length <= s) seconds.push({ delivered: 0, lat: [], brokerLat: [] });
    const bucket = seconds[s] as { delivered: number; lat: number[]; brokerLat: number[] };
    bucket.delivered++;
    bucket.lat.push(lat);
    // The PUBACK may still be on its way to the publisher: then there is no sample.
    const ackedAt = pubs[index]?.ackedAt[seq];
    if (ackedAt !== undefined) {
      brokerLatencies.push(Math.max(0, now - ackedAt));
      bucket.brokerLat.push(Math.max(0, now - ackedAt));
    }
  });
  await sub.subscribeAsync(TELEMETRY_FILTER, { qos: 1 });

  pubs = Array.from({ length: opts.publishers }, (_, i) => startPublisher(opts.port, i, opts));
  await new Promise((r) => setTimeout(r, durationMs));
  for (const p of pubs) p.stop();
  // Let acknowledgements in flight arrive, then wait for the backlog to reach the subscriber.
  await new Promise((r) => setTimeout(r, 200));
  const ackedNow = () => pubs.reduce((n, p) => n + p.acked, 0);
  const stopAt = performance.now();
  let lastCount = -1;
  while (delivered < ackedNow() && performance.now() - stopAt < drainLimitMs) {
    lastCount = delivered;
    await new Promise((r) => setTimeout(r, 250));
    if (delivered === lastCount && performance.now() - stopAt > 5000 && lastCount > 0) break;
  }
  const drainMs = performance.now() - stopAt;
  const acked = ackedNow();
  let lost = 0;
  pubs.forEach((p, i) => {
    p.ackedAt.forEach((_, seq) => {
      if (!seen[i]?.has(seq)) lost++;
    });
  });
  for (const p of pubs) p.socket.destroy();
  await sub.endAsync(true);

  latencies.sort((a, b) => a - b);
  brokerLatencies.sort((a, b) => a - b);
  const summary = (xs: number[]): Latency => ({
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    max: xs.at(-1) ?? 0,
  });
  return {
    published: pubs.reduce((n, p) => n + p.sent, 0),
    acked,
    delivered,
    duplicates,
    lost,
    perSecond: seconds.map((b, t) => {
      b.lat.sort((x, y) => x - y);
      b.brokerLat.sort((x, y) => x - y);
      const p99 = percentile(b.lat, 99);
      return {
        t,
        delivered: b.delivered,
        p50: percentile(b.lat, 50),
        p99,
        brokerP99: percentile(b.brokerLat, 99),
      };
    }),
    latencyMs: summary(latencies),
    brokerLatencyMs: summary(brokerLatencies),
    drainMs,
  };
}
