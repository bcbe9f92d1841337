// The broker's configuration: one zod schema, parsed once by main.ts (STYLE.md, habit 2).
// Defaults are documented in config/broker.json; environment variables are mapped in BROKER_ENV.
import { z } from "zod";
import { type EnvMap, logLevelSchema, portSchema } from "../lib/config.ts";

const MiB = 1024 * 1024;

const listenerSchema = (port: number) =>
  z.object({ host: z.string().min(1).default("0.0.0.0"), port: portSchema.default(port) });

const watermarksSchema = z
  .object({
    /** Queued work at which the broker starts pausing the publishers that cause it. */
    highMessages: z.number().int().positive().default(10_000),
    highBytes: z
      .number()
      .int()
      .positive()
      .default(32 * MiB),
    /** Queued work below which paused publishers are resumed (hysteresis). */
    lowMessages: z.number().int().positive().default(2_500),
    lowBytes: z
      .number()
      .int()
      .positive()
      .default(8 * MiB),
    /** Queued work at which every publisher that published in the last second is paused, light or not. */
    criticalMessages: z.number().int().positive().default(40_000),
    criticalBytes: z
      .number()
      .int()
      .positive()
      .default(128 * MiB),
    /** Estimated time for connected subscribers to drain the queued work at their recent rate. */
    highDelayMs: z.number().int().positive().default(2_000),
    lowDelayMs: z.number().int().positive().default(500),
  })
  .refine((w) => w.lowMessages < w.highMessages && w.highMessages < w.criticalMessages, {
    message: "need lowMessages < highMessages < criticalMessages",
  })
  .refine((w) => w.lowBytes < w.highBytes && w.highBytes < w.criticalBytes, {
    message: "need lowBytes < highBytes < criticalBytes",
  })
  .refine((w) => w.lowDelayMs < w.highDelayMs, { message: "need lowDelayMs < highDelayMs" });

const accessSchema = z.object({
  /** The command service, whose access feed (GET /v1/access/changes) says who may connect. */
  registryUrl: z.url().default("http://127.0.0.1:8080"),
  /** The broker's API token (role service_broker: permission access:feed). Empty: the feed refuses the broker. */
  token: z.string().default(""),
  /** How often the feed is read besides the platform/v1/registry/changed notice. */
  pollMs: z.number().int().min(100).default(5000),
  /** Snapshot of the access list (mode 0600), read at start so known principals get in while the feed is down. */
  snapshotPath: z.string().default(""),
  /** Device secret checks (scrypt, ~16 MiB and ~40 ms of a core each) run at once; the others wait. */
  authConcurrency: z.number().int().min(1).max(64).default(2),
  /**
   * CONNECTs allowed to wait for a secret check; past it, CONNACK 0x03 (the client retries later). At ~45 cold
   * checks/s (2 cores) 1000 is ~20 s of waiting, within a client's usual 30 s CONNACK timeout.
   */
  authQueue: z.number().int().min(1).default(1000),
  /** Principals whose verified secret is remembered (an HMAC each), so reconnects cost no scrypt; 0 = none. */
  verifiedCacheSize: z.number().int().min(0).default(200_000),
  /** Rows of the recent-denials table served at /denials. */
  denialsTableSize: z.number().int().min(1).default(1000),
});

export const brokerConfigSchema = z.object({
  mqtt: listenerSchema(1883).prefault({}),
  websocket: z
    .object({
      enabled: z.boolean().default(true),
      port: portSchema.default(9001),
      /** MQTT over WebSocket is served on this path only (subprotocol "mqtt", MQTT 3.1.1 section 6). */
      path: z.string().startsWith("/").default("/mqtt"),
    })
    .prefault({}),
  ops: listenerSchema(9102).prefault({}),
  access: accessSchema.prefault({}),
  logLevel: logLevelSchema.default("info"),
  overload: z
    .object({
      /** How often the admission controller looks at the queued work. */
      checkIntervalMs: z.number().int().min(5).max(1000).default(20),
      watermarks: watermarksSchema.prefault({}),
      /** Publishers above this rate (messages/s, smoothed over ~1 s) are "heavy": paused first, QoS 0 shed. */
      heavyPublisherRate: z.number().positive().default(20),
      /** Paused publishers resumed per check once below the low watermark (avoids a thundering herd). */
      resumePerCheck: z.number().int().positive().default(8),
      /** A publisher is never kept paused longer than this in one go, so its keepalive is read [MQTT-3.1.2-24]. */
      maxPauseMs: z.number().int().positive().default(10_000),
      /** Drop QoS 0 PUBLISHes from heavy publishers while overloaded (QoS 1/2 are never dropped). */
      shedQos0: z.boolean().default(true),
    })
    .prefault({}),
  sessions: z
    .object({
      // Hard bound per persistent session (clean session = 0), connected or not [MQTT-3.1.2-5]. Kept below
      // 65 535 so that a reconnect flush never reuses a packet identifier still in flight [MQTT-2.3.1-2].
      maxQueuedMessages: z.number().int().positive().max(65_000).default(60_000),
      maxQueuedBytes: z
        .number()
        .int()
        .positive()
        .default(256 * MiB),
    })
    .prefault({}),
  aedes: z
    .object({
      /** Messages the router delivers at once (the rest wait in its queue, in order). */
      concurrency: z.number().int().positive().default(100),
      /** A subscriber whose socket does not drain within this time is disconnected (0 = never). */
      drainTimeoutMs: z.number().int().min(0).default(60_000),
      connectTimeoutMs: z.number().int().positive().default(30_000),
      heartbeatIntervalMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
});

export type BrokerConfig = z.infer<typeof brokerConfigSchema>;

export const BROKER_ENV: EnvMap = {
  BROKER_HOST: "mqtt.host",
  BROKER_MQTT_PORT: "mqtt.port",
  BROKER_WS_PORT: "websocket.port",
  BROKER_WS_ENABLED: "websocket.enabled",
  BROKER_OPS_HOST: "ops.host",
  BROKER_OPS_PORT: "ops.port",
  LOG_LEVEL: "logLevel",
  BROKER_SESSION_MAX_MESSAGES: "sessions.maxQueuedMessages",
  REGISTRY_URL: "access.registryUrl",
  BROKER_API_TOKEN: "access.token",
  BROKER_ACCESS_POLL_MS: "access.pollMs",
  BROKER_ACCESS_SNAPSHOT: "access.snapshotPath",
  BROKER_AUTH_CONCURRENCY: "access.authConcurrency",
};
