// The ingest's Prometheus metrics, on its own registry (no global default registry).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { DEVICE_KINDS } from "../contract/topics.ts";

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

export function createIngestMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ingest_" });
  const r = [registry];
  const m = {
    registry,
    messages: new Counter({
      name: "ingest_messages_total",
      help: "Telemetry messages received",
      labelNames: ["result"],
      registers: r,
    }),
    accepted: new Counter({
      name: "ingest_readings_accepted_total",
      help: "Readings validated and spooled",
      labelNames: ["kind"],
      registers: r,
    }),
    rejected: new Counter({
      name: "ingest_readings_rejected_total",
      help: "Readings or messages rejected, by reason code",
      labelNames: ["kind", "reason"],
      registers: r,
    }),
    unknownFields: new Counter({
      name: "ingest_unknown_fields_total",
      help: "Fields the contract does not know (not stored), by kind",
      labelNames: ["kind", "field"],
      registers: r,
    }),
    batches: new Counter({
      name: "ingest_write_batches_total",
      help: "InfluxDB write batches",
      labelNames: ["result"],
      registers: r,
    }),
    pointsWritten: new Counter({
      name: "ingest_points_written_total",
      help: "Lines accepted by InfluxDB (readings and reject records)",
      registers: r,
    }),
    deadLetters: new Counter({
      name: "ingest_dead_letter_lines_total",
      help: "Lines InfluxDB refused as malformed (kept in the spool's dead-letter file)",
      registers: r,
    }),
    writeLatency: new Histogram({
      name: "ingest_write_latency_seconds",
      help: "InfluxDB write request latency",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    commitLatency: new Histogram({
      name: "ingest_spool_commit_seconds",
      help: "Spool group commit (write + fdatasync)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
    spoolBytes: new Gauge({
      name: "ingest_spool_depth_bytes",
      help: "Bytes in the spool not yet written to InfluxDB",
      registers: r,
    }),
    spoolLines: new Gauge({
      name: "ingest_spool_depth_lines",
      help: "Lines in the spool not yet written to InfluxDB",
      registers: r,
    }),
    influxUp: new Gauge({
      name: "ingest_influx_up",
      help: "1 when the last InfluxDB write succeeded",
      registers: r,
    }),
    mqttConnected: new Gauge({
      name: "ingest_mqtt_connected",
      help: "1 while connected to the broker",
      registers: r,
    }),
    paused: new Gauge({
      name: "ingest_backpressure_paused",
      help: "1 while the ingest has stopped reading from the broker",
      registers: r,
    }),
    registryDevices: new Gauge({
      name: "ingest_registry_devices",
      help: "Devices in the ingest's registry cache",
      registers: r,
    }),
  };
  // Pre-create the per-kind children so the hot path does not hash label sets.
  for (const kind of DEVICE_KINDS) m.accepted.labels(kind).inc(0);
  return m;
}
