import { z } from "zod";
import { type EnvMap, logLevelSchema, portSchema } from "../lib/config.ts";
import { influxConfigSchema, influxEnv } from "../lib/influx/config.ts";

export const ingestConfigSchema = z.object({
  mqtt: z
    .object({
      url: z
        .string()
        .regex(/^mqtt:\/\//, { error: "must be an mqtt://host:port URL" })
        .default("mqtt://127.0.0.1:1883"),
      /**
       * Fixed client id: the broker keeps this persistent session's QoS 1 messages while the ingest restarts.
       * The broker admits a service only under its username or `${username}-…`.
       */
      clientId: z.string().min(1).default("svc-ingest"),
      /** The ingest's service account: its API token's name, and the token as password (default: registry.token). */
      username: z.string().default("svc-ingest"),
      password: z.string().default(""),
      keepaliveS: z.number().int().min(5).max(600).default(30),
    })
    .prefault({}),
  influx: influxConfigSchema,
  registry: z
    .object({
      /** The command service, owner of the device registry. */
      url: z.url().default("http://127.0.0.1:8080"),
      /** The ingest's API token (role service_ingest): reads the change feed, and is its MQTT password. */
      token: z.string().default(""),
      pollMs: z.number().int().min(100).default(5000),
    })
    .prefault({}),
  spool: z
    .object({
      dir: z.string().min(1).default(".data/ingest-spool"),
      commitIntervalMs: z.number().int().min(0).max(1000).default(10),
      fsync: z.boolean().default(true),
      maxSegmentBytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024 * 1024),
      maxBytes: z
        .number()
        .int()
        .min(1024 * 1024)
        .default(8 * 1024 * 1024 * 1024),
    })
    .prefault({}),
  writer: z
    .object({
      batchBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(1024 * 1024),
      retryMinMs: z.number().int().min(10).default(200),
      retryMaxMs: z.number().int().min(100).default(2000),
      /** On shutdown, how long to keep writing the spool to InfluxDB; the rest waits for the next start. */
      shutdownGraceMs: z.number().int().min(0).default(5000),
    })
    .prefault({}),
  backpressure: z
    .object({
      /** Stop reading from the broker above this many messages queued or bytes not yet on disk. */
      maxQueuedMessages: z.number().int().min(100).default(20_000),
      maxPendingBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(32 * 1024 * 1024),
    })
    .prefault({}),
  /** The activity digest for the command service's liveness (services/ingest/activity.ts); 0 = none. */
  activity: z.object({ intervalMs: z.number().int().min(0).default(2000) }).prefault({}),
  ops: z.object({ host: z.string().default("0.0.0.0"), port: portSchema.default(9103) }).prefault({}),
  logLevel: logLevelSchema.default("info"),
});
export type IngestConfig = z.infer<typeof ingestConfigSchema>;

export const ingestEnv: EnvMap = {
  ...influxEnv,
  MQTT_URL: "mqtt.url",
  INGEST_CLIENT_ID: "mqtt.clientId",
  INGEST_MQTT_USERNAME: "mqtt.username",
  INGEST_MQTT_PASSWORD: "mqtt.password",
  REGISTRY_URL: "registry.url",
  INGEST_API_TOKEN: "registry.token",
  INGEST_SPOOL_DIR: "spool.dir",
  INGEST_SPOOL_FSYNC: "spool.fsync",
  INGEST_SPOOL_MAX_BYTES: "spool.maxBytes",
  INGEST_ACTIVITY_INTERVAL_MS: "activity.intervalMs",
  INGEST_OPS_HOST: "ops.host",
  INGEST_OPS_PORT: "ops.port",
  LOG_LEVEL: "logLevel",
};
