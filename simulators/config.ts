// The simulator's configuration: one zod schema (config/simulator.json, then the environment, then CLI flags),
// parsed once in main.ts and passed in frozen (STYLE.md, habit 2). Defaults give the demo fleet.
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEVICE_ID_PATTERN } from "../services/contract/topics.ts";
import { logLevelSchema } from "../services/lib/config.ts";

const rate = z.number().min(0).max(1000);
const share = z.number().min(0).max(1);
const asString = (v: unknown) => (typeof v === "number" ? String(v) : v);
const OFFSET = /^-(\d+(?:\.\d+)?)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const isInstant = (s: string) => /T.*([zZ]|[+-]\d{2}:?\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));

export const simulatorConfigSchema = z.object({
  mqtt: z
    .object({
      url: z
        .string()
        .regex(/^(mqtts?|wss?|tcp):\/\//, { error: "must be an mqtt://, mqtts://, ws:// or wss:// URL" })
        .default("mqtt://127.0.0.1:1883"),
      keepaliveS: z.number().int().min(5).max(1200).default(30),
      /** Each device waits a random time in [min, max] between reconnect attempts (no reconnect storm). */
      reconnectMinMs: z.number().int().min(100).default(1000),
      reconnectMaxMs: z.number().int().min(100).default(5000),
      connectTimeoutMs: z.number().int().min(100).default(10_000),
      /** After a refused CONNECT (0x04, 0x05) a device retries after min, doubling up to max (no tight loop). */
      refusedRetryMinMs: z.number().int().min(100).default(5000),
      refusedRetryMaxMs: z.number().int().min(100).default(300_000),
      /** Devices opening their connection at the same time during start-up. */
      connectConcurrency: z.number().int().min(1).default(20),
    })
    .prefault({}),
  registry: z
    .object({
      url: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:8080"),
      /** Register the fleet before connecting (off for a broker without a registry). */
      register: z.boolean().default(true),
      /** How long to keep retrying while the command service is not up yet. */
      retryForMs: z.number().int().min(0).default(120_000),
      /** API token (role engineer or admin), sent as `Authorization: Bearer`; empty: read `tokenFile`. */
      token: z.string().default(""),
      /** File holding the API token (`npm start` writes it); read only when `token` is empty. */
      tokenFile: z.string().default(".data/secrets/simulator.token"),
    })
    .prefault({}),
  /** The devices' secrets as the registry issued them (JSON, mode 0600, replaced atomically). */
  credentialsFile: z.string().min(1).default(".data/simulator/credentials.json"),
  commission: z
    .object({
      /** Once the fleet is live, commission and sign off its devices that are not commissioned yet. */
      enabled: z.boolean().default(true),
      /** Commissioning polls in flight at once. */
      concurrency: z.number().int().min(1).max(64).default(4),
      /** Least time between two polls of one device's run, ms. */
      pollIntervalMs: z.number().int().min(100).default(5000),
      /** Polls per second across the fleet (the API's rate limit is per token). */
      maxRequestsPerS: z.number().min(0.1).max(1000).default(8),
      /** Stop following runs after this long, ms. */
      timeoutMs: z.number().int().min(1000).default(900_000),
    })
    .prefault({}),
  /** Single-device mode: simulate just this registered device, live, with its secret. */
  device: z
    .object({
      id: z
        .string()
        .regex(DEVICE_ID_PATTERN, { error: `must match ${DEVICE_ID_PATTERN}` })
        .optional(),
      /** Its secret as the registry showed it; default: from the credentials file. */
      secret: z.string().min(1).optional(),
    })
    .prefault({}),
  fleet: z
    .object({
      seed: z.union([z.string().min(1), z.number()]).default("casablanca"),
      streetlights: z.number().int().min(0).max(100_000).default(240),
      airquality: z.number().int().min(0).max(10_000).default(40),
      traffic: z.number().int().min(0).max(10_000).default(40),
      /** Seconds between readings (simulated time); also the traffic counters' counting period. */
      intervalS: z.number().int().min(1).max(3600).default(10),
      idPrefix: z
        .preprocess(
          asString,
          z.string().regex(/^([a-z0-9][a-z0-9-]{0,23})?$/, {
            error: "lowercase letters, digits and '-', at most 24",
          }),
        )
        .default(""),
      /** Largest distance of a device from its district centre, metres. */
      jitterM: z.number().min(0).max(3000).default(400),
    })
    .prefault({}),
  clock: z
    .object({
      /** Simulated seconds per real second; the clock never runs ahead of real time (see clock.ts). */
      speed: z.number().min(1).max(1_000_000).default(1),
      /** Simulated start: ISO 8601 instant or an offset such as -24h, -7d, -90m; default now (−24h if speed > 1). */
      start: z
        .string()
        .refine((s) => OFFSET.test(s) || isInstant(s), {
          error: "an ISO 8601 instant with a zone (2025-01-15T18:00:00Z) or an offset like -24h, -7d, -90m",
        })
        .optional(),
    })
    .prefault({}),
  backfill: z
    .object({
      days: z.number().min(0).max(366).default(0),
      /** Seconds between the backfill's readings (its own grid; live goes on at fleet.intervalS); default the same. */
      intervalS: z.number().int().min(1).max(86_400).optional(),
      /** Stop after the backfill instead of continuing live. */
      only: z.boolean().default(false),
      /** Real seconds between progress lines. */
      progressIntervalS: z.number().min(0.1).default(5),
    })
    .prefault({}),
  publish: z
    .object({
      maxInflightPerClient: z.number().int().min(1).max(100).default(2),
      maxInflight: z.number().int().min(1).max(10_000).default(64),
      maxBacklog: z.number().int().min(500).default(100_000),
      /** How long a graceful stop waits for backlogs to drain, ms. */
      flushTimeoutMs: z.number().int().min(0).default(10_000),
    })
    .prefault({}),
  faults: z
    .object({
      lampFailurePerDay: rate.default(0.01),
      stuckSensorPerDay: rate.default(0.02),
      offlinePerDay: rate.default(0.05),
      meterResetPerDay: rate.default(0.005),
      /** Readings lost before sending, episodes of 15 min–6 h per device-day (off by default). */
      readingLossPerDay: rate.default(0),
      /** Share of streetlights whose firmware refuses some calendars (firmware.ts), drawn per lamp from the seed. */
      scheduleRejectShare: share.default(0.02),
      /** Chance that a streetlight loses a calendar, override or cancel_override message (no ack). */
      scheduleMissRate: share.default(0.02),
    })
    .prefault({}),
  /** Real seconds between status lines (0 = none). */
  statusIntervalS: z.number().min(0).default(10),
  truthFile: z.string().min(1).optional(),
  /** Stop after this many real seconds of live running (tests, demos); default: until SIGINT/SIGTERM. */
  durationS: z.number().positive().optional(),
  logLevel: logLevelSchema.default("info"),
});

export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;

export const SIMULATOR_ENV = {
  MQTT_URL: "mqtt.url",
  REGISTRY_URL: "registry.url",
  SIM_REGISTER: "registry.register",
  SIM_API_TOKEN: "registry.token",
  SIM_API_TOKEN_FILE: "registry.tokenFile",
  SIM_CREDENTIALS_FILE: "credentialsFile",
  SIM_COMMISSION: "commission.enabled",
  SIM_DEVICE_ID: "device.id",
  SIM_DEVICE_SECRET: "device.secret",
  SIM_SEED: "fleet.seed",
  SIM_STREETLIGHTS: "fleet.streetlights",
  SIM_AIRQUALITY: "fleet.airquality",
  SIM_TRAFFIC: "fleet.traffic",
  SIM_INTERVAL_S: "fleet.intervalS",
  SIM_ID_PREFIX: "fleet.idPrefix",
  SIM_SPEED: "clock.speed",
  SIM_START: "clock.start",
  SIM_BACKFILL_DAYS: "backfill.days",
  SIM_BACKFILL_ONLY: "backfill.only",
  SIM_BACKFILL_INTERVAL_S: "backfill.intervalS",
  SIM_FAULT_LAMP_PER_DAY: "faults.lampFailurePerDay",
  SIM_FAULT_STUCK_PER_DAY: "faults.stuckSensorPerDay",
  SIM_FAULT_OFFLINE_PER_DAY: "faults.offlinePerDay",
  SIM_FAULT_METER_RESET_PER_DAY: "faults.meterResetPerDay",
  SIM_FAULT_LOSS_PER_DAY: "faults.readingLossPerDay",
  SIM_SCHEDULE_REJECT_SHARE: "faults.scheduleRejectShare",
  SIM_SCHEDULE_MISS_RATE: "faults.scheduleMissRate",
  SIM_STATUS_INTERVAL_S: "statusIntervalS",
  SIM_TRUTH_FILE: "truthFile",
  SIM_DURATION_S: "durationS",
  LOG_LEVEL: "logLevel",
} as const;

/** CLI flag → config path; each flag overrides its environment variable. */
const FLAGS = {
  "mqtt-url": "mqtt.url",
  "registry-url": "registry.url",
  "credentials-file": "credentialsFile",
  device: "device.id",
  secret: "device.secret",
  seed: "fleet.seed",
  streetlights: "fleet.streetlights",
  airquality: "fleet.airquality",
  traffic: "fleet.traffic",
  interval: "fleet.intervalS",
  "id-prefix": "fleet.idPrefix",
  speed: "clock.speed",
  start: "clock.start",
  "backfill-days": "backfill.days",
  "backfill-interval": "backfill.intervalS",
  "fault-lamp": "faults.lampFailurePerDay",
  "fault-stuck": "faults.stuckSensorPerDay",
  "fault-offline": "faults.offlinePerDay",
  "fault-meter-reset": "faults.meterResetPerDay",
  "fault-loss": "faults.readingLossPerDay",
  "schedule-reject-share": "faults.scheduleRejectShare",
  "schedule-miss-rate": "faults.scheduleMissRate",
  "status-interval": "statusIntervalS",
  "truth-file": "truthFile",
  duration: "durationS",
  "log-level": "logLevel",
} as const;
const SWITCHES = {
  "backfill-only": ["backfill.only", true],
  "no-register": ["registry.register", false],
  "no-commission": ["commission.enabled", false],
} as const;
const TEXT_FLAGS = new Set([
  "mqtt-url",
  "registry-url",
  "credentials-file",
  "device",
  "secret",
  "seed",
  "id-prefix",
  "start",
  "truth-file",
  "log-level",
]);

export const USAGE = `usage: node simulators/main.ts [flags]
       node simulators/main.ts --device ID [--secret S]   just this registered device, live
  --streetlights N --airquality N --traffic N   fleet size (env SIM_STREETLIGHTS, SIM_AIRQUALITY, SIM_TRAFFIC)
  --seed S            deterministic fleet and readings (SIM_SEED)
  --interval S        seconds between readings (SIM_INTERVAL_S)
  --id-prefix P       prefix for device ids (SIM_ID_PREFIX)
  --speed X           time acceleration, e.g. 60 = a simulated minute per second (SIM_SPEED)
  --start T           simulated start: ISO instant or -24h / -7d (SIM_START)
  --backfill-days N   publish N days of history first (SIM_BACKFILL_DAYS)
  --backfill-interval S   seconds between the backfill's readings, e.g. 900 (SIM_BACKFILL_INTERVAL_S; default --interval)
  --backfill-only     stop after the backfill (SIM_BACKFILL_ONLY)
  --fault-lamp R --fault-stuck R --fault-offline R --fault-meter-reset R --fault-loss R   fault rates per device-day
  --schedule-reject-share S   share of lamps refusing some calendars (SIM_SCHEDULE_REJECT_SHARE, 0.02)
  --schedule-miss-rate P      chance a lamp loses a calendar or override message (SIM_SCHEDULE_MISS_RATE, 0.02)
  --truth-file F      write per-device truth (counts, energy per day) as JSON after the backfill and at the end
                      (SIM_TRUTH_FILE); npm run truth -- --file F prints its savings figures
  --duration S        stop after S real seconds (SIM_DURATION_S)
  --credentials-file F  the devices' secrets (SIM_CREDENTIALS_FILE, default .data/simulator/credentials.json)
  --no-commission     do not commission the fleet once it is live (SIM_COMMISSION=false)
  --device ID --secret S   single-device mode (SIM_DEVICE_ID, SIM_DEVICE_SECRET); the secret defaults to
                      the credentials file's; the API token comes from SIM_API_TOKEN or .data/secrets/simulator.token
  --status-interval S --log-level L --mqtt-url U --registry-url U --no-register`;

export type CliResult = { help: true } | { help: false; overrides: Record<string, unknown> };

/** Parses CLI flags into config overrides (numbers stay strings when they do not parse, so zod names the flag). */
export function parseCli(argv: readonly string[]): CliResult {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const flag of Object.keys(FLAGS)) options[flag] = { type: "string" };
  for (const flag of Object.keys(SWITCHES)) options[flag] = { type: "boolean" };
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  if (values.help) return { help: true };
  const overrides: Record<string, unknown> = {};
  for (const [flag, path] of Object.entries(FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== "string") continue;
    const n = Number(raw);
    setPath(overrides, path, TEXT_FLAGS.has(flag) || raw.trim() === "" || Number.isNaN(n) ? raw : n);
  }
  for (const [flag, [path, value]] of Object.entries(SWITCHES))
    if (values[flag]) setPath(overrides, path, value);
  return { help: false, overrides };
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    cur[key] ??= {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1] as string] = value;
}

/**
 * The simulated clock's start (epoch ms). An accelerated clock needs a start in the past to have room to run
 * before it meets the present, so speed > 1 without a start begins 24 hours ago.
 */
export function resolveStart(clock: SimulatorConfig["clock"], nowMs: number): number {
  if (clock.start === undefined) return clock.speed > 1 ? nowMs - UNIT_MS.h * 24 : nowMs;
  const offset = OFFSET.exec(clock.start);
  if (offset) return nowMs - Number(offset[1]) * UNIT_MS[offset[2] as keyof typeof UNIT_MS];
  // The schema accepted it as an ISO instant; the clock never starts in the future.
  return Math.min(Date.parse(clock.start), nowMs);
}
