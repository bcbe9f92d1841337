import { z } from "zod";
import { type EnvMap, logLevelSchema, portSchema } from "../lib/config.ts";
import { influxConfigSchema, influxEnv } from "../lib/influx/config.ts";

export const commandConfigSchema = z.object({
  http: z.object({ host: z.string().default("0.0.0.0"), port: portSchema.default(8080) }).prefault({}),
  /** SQLite file of the device registry; this service owns it. */
  registryDb: z.string().min(1).default(".data/registry.sqlite"),
  /**
   * Static API tokens provisioned at start-up (the bootstrap admin and the platform's services), after
   * Kubernetes' --token-auth-file: a CSV file `name,role,token_sha256` (the token itself never stored).
   * Empty: none (then only tokens created through the API work, and there is no way to create the first).
   */
  tokenFile: z.string().default(""),
  /**
   * Single-host installations (docker compose): make the platform's own tokens in this folder on first start
   * (services/command/bootstrap-secrets.ts) and provision them, for the other services to read with *_FILE
   * variables. Used when tokenFile is empty.
   */
  bootstrapSecretsDir: z.string().default(""),
  /** API rate limits, requests per minute: per token, and per client address for requests without a valid token. */
  rateLimit: z
    .object({
      perToken: z.number().int().min(1).default(1200),
      anonymous: z.number().int().min(1).default(60),
    })
    .prefault({}),
  mqtt: z
    .object({
      /** Broker the service talks to (commands, acks, presence, activity); empty: none (no commissioning). */
      url: z.string().default(""),
      /** The service's account: username = its token's name, password = the token. */
      username: z.string().default("svc-command"),
      password: z.string().default(""),
      /** The broker address devices are told to use (registration answers); default: url. */
      publicUrl: z.string().default(""),
    })
    .prefault({}),
  /** InfluxDB, read by commissioning checks and device pages (readings and rejects as stored). */
  influx: influxConfigSchema
    .extend({ url: influxConfigSchema.shape.url.default("http://127.0.0.1:8086") })
    .prefault({}),
  commissioning: z
    .object({
      /** Readings a device must report at its interval before its readings check passes. */
      readings: z.number().int().min(2).max(20).default(3),
      /** How long to wait for the device to connect, seconds. */
      connectTimeoutS: z.number().int().min(5).default(600),
      /** How long to wait for a command's ack, seconds. */
      ackTimeoutS: z.number().int().min(1).default(30),
    })
    .prefault({}),
  liveness: z
    .object({
      /** A connected device with no reading for this many of its intervals is silent. */
      silentAfterIntervals: z.number().min(1).default(3),
    })
    .prefault({}),
  /** Delivery of calendars and overrides to lamps (issue 4; services/command/schedules/). */
  schedules: z
    .object({
      /** A delivered calendar or override without the lamp's ack is sent again after this many seconds. */
      retryAfterS: z.number().int().min(1).max(86_400).default(60),
      /** Sends of one delivery while the lamp stays connected (TALQ gateways' default: 3); then it waits for a reconnect. */
      maxAttempts: z.number().int().min(1).max(20).default(3),
    })
    .prefault({}),
  /** The compliance check (GET /v1/compliance): reported dim_pct against the level the schedule expected. */
  compliance: z
    .object({
      /** A sample is compliant when it is within this many percentage points of the expected level. */
      tolerancePct: z.number().min(0).max(100).default(5),
      /** After a change, a lamp has this many seconds (delivery, ramp start, reporting lag) to follow it. */
      graceS: z.number().int().min(0).max(3600).default(180),
      /** Power at or below this (W) counts as off when checking for lamps burning by day. */
      standbyW: z.number().min(0).default(2),
    })
    .prefault({}),
  /** Energy audit (issue 5): daily rollups of each lamp's metered energy and the savings reports' constants. */
  energy: z
    .object({
      /**
       * MAD per kWh for the reports' cost savings: DOMAIN.md, Casablanca's public lighting (L'Economiste 1046815)
       * ≈ 1,070 MAD / 841 kWh per light point and year.
       */
      tariffMadPerKwh: z.number().positive().max(100).default(1.28),
      /**
       * kg CO2 per kWh for the reports' CO2 savings. A placeholder: no official Moroccan grid factor was found
       * (coal was about 69 % of 2021 generation); every report states the value it used.
       */
      gridKgCo2PerKwh: z.number().min(0).max(5).default(0.7),
      /** Longest interval between two readings still treated as continuous metering, seconds. */
      gapS: z.number().int().min(60).max(86_400).default(3600),
      /** Longest stretch without usable meter data that is estimated (Option A); longer ones are missing, hours. */
      estimateMaxH: z
        .number()
        .min(1)
        .max(24 * 31)
        .default(72),
      /** Power of a lamp switched off (driver, controller), W: for estimates and for spreading a bridged gap. */
      standbyW: z.number().min(0).max(50).default(1),
      /** How often lamps the ingest heard from are rolled up, seconds. */
      rollupIntervalS: z.number().min(0.2).max(3600).default(15),
      /**
       * The ingest announces readings on receipt, before they are in InfluxDB: a lamp is read this many seconds
       * after its last announcement.
       */
      settleS: z.number().min(0).max(600).default(5),
      /** How often the reconcile sweep compares InfluxDB's counts with the rollups, seconds. */
      reconcileIntervalS: z.number().min(1).max(86_400).default(900),
      /** Complete local days the reconcile sweep looks back over (lost digests, late writes). */
      reconcileDays: z.number().int().min(0).max(366).default(3),
    })
    .refine((e) => e.estimateMaxH * 3600 >= e.gapS, {
      path: ["estimateMaxH"],
      error: "must be at least gapS (an estimated gap is longer than a short interval)",
    })
    .prefault({}),
  logLevel: logLevelSchema.default("info"),
});
export type CommandConfig = z.infer<typeof commandConfigSchema>;

export const commandEnv: EnvMap = {
  COMMAND_HOST: "http.host",
  COMMAND_PORT: "http.port",
  REGISTRY_DB: "registryDb",
  COMMAND_TOKEN_FILE: "tokenFile",
  COMMAND_BOOTSTRAP_SECRETS_DIR: "bootstrapSecretsDir",
  COMMAND_RATE_LIMIT_PER_TOKEN: "rateLimit.perToken",
  COMMAND_RATE_LIMIT_ANONYMOUS: "rateLimit.anonymous",
  MQTT_URL: "mqtt.url",
  COMMAND_MQTT_USERNAME: "mqtt.username",
  COMMAND_MQTT_PASSWORD: "mqtt.password",
  COMMAND_PUBLIC_MQTT_URL: "mqtt.publicUrl",
  ...influxEnv,
  COMMISSIONING_READINGS: "commissioning.readings",
  COMMISSIONING_CONNECT_TIMEOUT_S: "commissioning.connectTimeoutS",
  COMMISSIONING_ACK_TIMEOUT_S: "commissioning.ackTimeoutS",
  SILENT_AFTER_INTERVALS: "liveness.silentAfterIntervals",
  SCHEDULE_RETRY_AFTER_S: "schedules.retryAfterS",
  SCHEDULE_MAX_ATTEMPTS: "schedules.maxAttempts",
  COMPLIANCE_TOLERANCE_PCT: "compliance.tolerancePct",
  COMPLIANCE_GRACE_S: "compliance.graceS",
  COMPLIANCE_STANDBY_W: "compliance.standbyW",
  ENERGY_TARIFF_MAD_PER_KWH: "energy.tariffMadPerKwh",
  ENERGY_GRID_KG_CO2_PER_KWH: "energy.gridKgCo2PerKwh",
  ENERGY_GAP_S: "energy.gapS",
  ENERGY_ESTIMATE_MAX_H: "energy.estimateMaxH",
  ENERGY_STANDBY_W: "energy.standbyW",
  ENERGY_ROLLUP_INTERVAL_S: "energy.rollupIntervalS",
  ENERGY_SETTLE_S: "energy.settleS",
  ENERGY_RECONCILE_INTERVAL_S: "energy.reconcileIntervalS",
  ENERGY_RECONCILE_DAYS: "energy.reconcileDays",
  LOG_LEVEL: "logLevel",
};
