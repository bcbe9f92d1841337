// Child process of the benchmark for the baselines, so that their CPU time is their own:
//   mode "count":  the broker alone — an mqtt.js subscriber (persistent session, QoS 1) that only counts;
//   mode "influx": the bare pipeline — the same subscriber, JSON.parse, one @influxdata/influxdb-client Point per
//                  reading, WriteApi with its default batching (1,000 lines, its own retries). No validation,
//                  no registry beyond a device → district map, no spool, acknowledged as soon as it is buffered.
// Driven over IPC by bench/baselines.ts: start → ready, stats ↔ stats, flush → flushed, exit.
import { InfluxDB, Point, type WriteApi } from "@influxdata/influxdb-client";
import mqtt from "mqtt";
import { TELEMETRY_FILTER } from "../services/contract/topics.ts";
import { v1WriteTransport } from "../services/lib/influx/v1-transport.ts";

export type SubscriberStart = {
  type: "start";
  port: number;
  /** A service account's: `${username}-…` (the broker admits services under their own name only). */
  clientId: string;
  username: string;
  password: string;
  mode: "count" | "influx";
  influx?: { url: string; token: string; org: string; bucket: string; major: number };
  /** device id → district, the one registry fact the bare pipeline tags its points with. */
  districts: Record<string, string>;
};
export type SubscriberCommand = SubscriberStart | { type: "stats" } | { type: "flush" } | { type: "exit" };
export type SubscriberStats = {
  type: "stats";
  messages: number;
  readings: number;
  written: number;
  writeErrors: number;
  firstAt: number;
  lastAt: number;
  lastWrittenAt: number;
};

let client: mqtt.MqttClient | undefined;
let writeApi: WriteApi | undefined;
const stats: SubscriberStats = {
  type: "stats",
  messages: 0,
  readings: 0,
  written: 0,
  writeErrors: 0,
  firstAt: 0,
  lastAt: 0,
  lastWrittenAt: 0,
};

type RawReading = {
  ts: number;
  seq: number;
  power_w: number;
  energy_wh: number;
  dim_pct: number;
  lamp_ok: boolean;
  voltage_v?: number;
  current_a?: number;
  temp_c?: number;
};

function pointOf(deviceId: string, district: string, r: RawReading): Point {
  const p = new Point("streetlight")
    .tag("device_id", deviceId)
    .tag("district", district)
    .intField("seq", r.seq)
    .floatField("power_w", r.power_w)
    .floatField("energy_wh", r.energy_wh)
    .floatField("dim_pct", r.dim_pct)
    .booleanField("lamp_ok", r.lamp_ok);
  if (r.voltage_v !== undefined) p.floatField("voltage_v", r.voltage_v);
  if (r.current_a !== undefined) p.floatField("current_a", r.current_a);
  if (r.temp_c !== undefined) p.floatField("temp_c", r.temp_c);
  // The same point key as the ingest's (ts in ms + seq as the sub-millisecond part), so the same points.
  return p.timestamp(`${r.ts}${String(r.seq % 1_000_000).padStart(6, "0")}`);
}

async function start(o: SubscriberStart): Promise<void> {
  if (o.mode === "influx" && o.influx) {
    const { url, token, org, bucket, major } = o.influx;
    const influx =
      major === 1
        ? new InfluxDB({ url, transport: v1WriteTransport(new InfluxDB({ url, timeout: 30_000 }).transport) })
        : new InfluxDB({ url, token, timeout: 30_000 });
    writeApi = influx.getWriteApi(org, bucket, "ns", {
      // The client's defaults, except compression: the ingest does not gzip on loopback either, and the
      // comparison is about the pipeline's work, not zlib's.
      gzipThreshold: undefined,
      writeSuccess(lines) {
        stats.written += lines.length;
        stats.lastWrittenAt = Date.now();
      },
      writeFailed() {
        stats.writeErrors++;
        return undefined; // let the client retry as it does by default
      },
    });
  }
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${o.port}`, {
    clientId: o.clientId,
    username: o.username,
    password: o.password,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    keepalive: 60,
  });
  client = c;
  const api = writeApi;
  c.on("message", (topic, payload) => {
    const now = Date.now();
    if (stats.firstAt === 0) stats.firstAt = now;
    stats.lastAt = now;
    stats.messages++;
    if (!api) {
      // Counting readings needs no parse: a backlog array starts with "[".
      stats.readings += payload[0] === 0x5b ? countObjects(payload) : 1;
      return;
    }
    const deviceId = topic.split("/")[3] ?? "";
    const district = o.districts[deviceId] ?? "unknown";
    const data = JSON.parse(payload.toString()) as RawReading | RawReading[];
    if (Array.isArray(data)) {
      for (const r of data) api.writePoint(pointOf(deviceId, district, r));
      stats.readings += data.length;
    } else {
      api.writePoint(pointOf(deviceId, district, data));
      stats.readings++;
    }
  });
  await c.subscribeAsync(TELEMETRY_FILTER, { qos: 1 });
  process.send?.({ type: "ready" });
}

/** Readings in a JSON array of flat objects: its "{" count (the benchmark's payloads hold no nested objects). */
function countObjects(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x7b); i !== -1; i = buf.indexOf(0x7b, i + 1)) n++;
  return n;
}

process.on("message", (raw) => {
  const cmd = raw as SubscriberCommand;
  switch (cmd.type) {
    case "start":
      start(cmd).catch((err: Error) => {
        console.error(`subscriber: ${err.message}`);
        process.exit(1);
      });
      return;
    case "stats":
      process.send?.({ ...stats });
      return;
    case "flush":
      (writeApi ? writeApi.flush() : Promise.resolve())
        .catch(() => {
          stats.writeErrors++;
        })
        .finally(() => process.send?.({ type: "flushed" }));
      return;
    case "exit":
      void (async () => {
        await writeApi?.close().catch(() => undefined);
        // The persistent session stays in the broker, which the section stops right after.
        await client?.endAsync().catch(() => undefined);
        process.exit(0);
      })();
      return;
  }
});
process.on("disconnect", () => process.exit(0));
