// createIngest(deps): broker → pipeline → durable spool → InfluxDB. PUBACKs go out only when the readings of a
// message are on disk; the writer drains the spool to InfluxDB independently, so a slow or absent InfluxDB
// never blocks acknowledging, and never loses what was acknowledged.
import { DEVICE_KINDS, REGISTRY_CHANGED_TOPIC, TELEMETRY_FILTER } from "../contract/topics.ts";
import type { Logger } from "../lib/log.ts";
import type { RegistryCache } from "../registry/cache.ts";
import { createActivityTracker } from "./activity.ts";
import type { IngestConfig } from "./config.ts";
import type { IngestMetrics } from "./metrics.ts";
import { createSubscriber, type IncomingMessage } from "./mqtt-subscriber.ts";
import { createPipeline, type ProcessResult, RETRY_UNKNOWN } from "./pipeline.ts";
import { createRejectLog } from "./reject-log.ts";
import { openSpool } from "./spool.ts";
import { createWriter, type WriteBody, type WriteLines } from "./writer.ts";

export type IngestDeps = {
  config: Readonly<IngestConfig>;
  log: Logger;
  metrics: IngestMetrics;
  registry: RegistryCache;
  write: WriteLines;
  writeBody?: WriteBody;
  now?: () => number;
};

export type IngestStatus = {
  mqttConnected: boolean;
  influxUp: boolean;
  influxError: string | undefined;
  paused: boolean;
  spool: { bytes: number; lines: number };
  /** The last spool commit's error (disk full or failing) while commits fail; undefined when they succeed. */
  spoolError: string | undefined;
  registryDevices: number;
};

export type Ingest = { start(): Promise<void>; stop(): Promise<void>; status(): IngestStatus };

const MAX_UNKNOWN_FIELD_LABELS = 64;

export async function createIngest(deps: IngestDeps): Promise<Ingest> {
  const { config, log, metrics, registry } = deps;
  const now = deps.now ?? Date.now;
  const spool = await openSpool({
    ...config.spool,
    onCommit: (seconds) => metrics.commitLatency.observe(seconds),
  });
  const writer = createWriter({
    spool,
    write: deps.write,
    writeBody: deps.writeBody,
    log: log.child({ module: "writer" }),
    metrics,
    ...config.writer,
    deadLetterDir: config.spool.dir,
  });
  const pipeline = createPipeline({ lookup: (id) => registry.get(id), now });
  const rejectLog = createRejectLog(log.child({ module: "rejects" }), now);
  const unknownFieldLabels = new Map<string, Set<string>>(DEVICE_KINDS.map((k) => [k, new Set<string>()]));
  const accepted = Object.fromEntries(DEVICE_KINDS.map((k) => [k, metrics.accepted.labels(k)]));
  const msgResult = {
    accepted: metrics.messages.labels("accepted"),
    rejected: metrics.messages.labels("rejected"),
    partial: metrics.messages.labels("partial"),
  };

  const queue: IncomingMessage[] = [];
  let draining = false;
  let received = 0;
  let paused = false;
  let connected = false;
  let backpressureTimer: NodeJS.Timeout | undefined;

  const subscriber = createSubscriber({
    url: config.mqtt.url,
    clientId: config.mqtt.clientId,
    username: config.mqtt.username || undefined,
    password: config.mqtt.password || config.registry.token || undefined,
    keepaliveS: config.mqtt.keepaliveS,
    clean: false,
    subscriptions: [
      { topic: TELEMETRY_FILTER, qos: 1 },
      { topic: REGISTRY_CHANGED_TOPIC, qos: 0 },
    ],
    log: log.child({ module: "mqtt" }),
    onConnectionChange(c) {
      connected = c;
      metrics.mqttConnected.set(c ? 1 : 0);
    },
    onMessage(msg) {
      if (msg.topic === REGISTRY_CHANGED_TOPIC) {
        registry.requestSync();
        return;
      }
      if (draining) queue.push(msg);
      else if (!handle(msg, false)) {
        queue.push(msg);
        void drain();
      }
      // Every 256 messages (and on a timer): the limits are far larger than that, and this is the hot path.
      if ((++received & 255) === 0) checkBackpressure();
    },
  });

  const activity = createActivityTracker({
    publish: (topic, payload) => subscriber.publish(topic, payload),
    canPublish: () => subscriber.isConnected(),
    intervalMs: config.activity.intervalMs,
    now,
    log: log.child({ module: "activity" }),
  });

  /** Processes one message; false when its device is unknown and the registry should be refreshed first. */
  function handle(msg: IncomingMessage, final: boolean): boolean {
    let result: ProcessResult | typeof RETRY_UNKNOWN;
    try {
      result = pipeline.process(msg.topic, msg.payload, final);
    } catch (err) {
      // A defect must not crash the ingest nor make the broker redeliver the message forever: keep the payload
      // as a reject record (so nothing is silently lost) and go on.
      log.error({ err, topic: msg.topic }, "failed to process a message");
      result = pipeline.internalError(msg.topic, msg.payload, (err as Error).message);
    }
    if (result === RETRY_UNKNOWN) return false;
    account(result);
    activity.record(result, msg.arrivedAt);
    spool.append(result.text, result.lines, msg.ack);
    return true;
  }

  async function drain(): Promise<void> {
    draining = true;
    try {
      let head = 0;
      while (head < queue.length) {
        const msg = queue[head++] as IncomingMessage;
        if (!handle(msg, false)) {
          await registry.refreshForMiss(msg.arrivedAt);
          handle(msg, true);
        }
      }
      queue.length = 0;
    } finally {
      draining = false;
      checkBackpressure();
    }
  }

  function account(r: ProcessResult): void {
    if (r.kind !== "unknown" && r.accepted > 0) accepted[r.kind]?.inc(r.accepted);
    (r.rejections.length === 0
      ? msgResult.accepted
      : r.accepted === 0
        ? msgResult.rejected
        : msgResult.partial
    ).inc();
    for (const rej of r.rejections) {
      metrics.rejected.labels(rej.kind, rej.reason).inc();
      rejectLog.record(rej);
    }
    if (r.unknownFields.length > 0 && r.kind !== "unknown") {
      const seen = unknownFieldLabels.get(r.kind) as Set<string>;
      for (const f of r.unknownFields) {
        // Bounded label set: a device sending random keys must not blow up the metrics.
        if (!seen.has(f) && seen.size >= MAX_UNKNOWN_FIELD_LABELS) {
          metrics.unknownFields.labels(r.kind, "_other").inc();
          continue;
        }
        if (!seen.has(f))
          log.info(
            { kind: r.kind, field: f },
            "telemetry carries a field the contract does not know (not stored)",
          );
        seen.add(f);
        metrics.unknownFields.labels(r.kind, f).inc();
      }
    }
  }

  function checkBackpressure(): void {
    const bp = config.backpressure;
    const over =
      queue.length > bp.maxQueuedMessages || spool.pendingBytes() > bp.maxPendingBytes || spool.isFull();
    const under =
      queue.length < bp.maxQueuedMessages / 2 &&
      spool.pendingBytes() < bp.maxPendingBytes / 2 &&
      !spool.isFull();
    if (over && !paused) {
      paused = true;
      subscriber.pause();
      metrics.paused.set(1);
      log.warn(
        { queued: queue.length, pendingBytes: spool.pendingBytes(), spool: spool.depth() },
        "backpressure: pausing reads from the broker",
      );
    } else if (under && paused) {
      paused = false;
      subscriber.resume();
      metrics.paused.set(0);
      log.info("backpressure released: reading from the broker again");
    }
  }

  return {
    async start() {
      writer.start();
      subscriber.start();
      activity.start();
      backpressureTimer = setInterval(() => {
        checkBackpressure();
        const d = spool.depth();
        metrics.spoolBytes.set(d.bytes);
        metrics.spoolLines.set(d.lines);
        metrics.registryDevices.set(registry.size());
      }, 100);
      backpressureTimer.unref();
    },
    async stop() {
      subscriber.pause();
      while (draining) await new Promise((r) => setTimeout(r, 10));
      await spool.flush(); // acks for everything received go out before we disconnect
      activity.stop(); // the last digest, while still connected
      await subscriber.stop();
      await writer.stop(config.writer.shutdownGraceMs);
      if (backpressureTimer) clearInterval(backpressureTimer);
      await spool.close();
      log.info({ spool: spool.depth() }, "ingest stopped");
    },
    status: () => ({
      mqttConnected: connected,
      influxUp: writer.influxUp(),
      influxError: writer.lastError(),
      paused,
      spool: spool.depth(),
      spoolError: spool.lastCommitError(),
      registryDevices: registry.size(),
    }),
  };
}
