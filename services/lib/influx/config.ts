// The InfluxDB connection settings every service that talks to InfluxDB embeds as `influx: {...}` in its
// own config schema (services/lib/config.ts), with the matching environment variables.
import { z } from "zod";
import type { EnvMap } from "../config.ts";

export const influxConfigSchema = z.object({
  /** Base URL, e.g. http://127.0.0.1:8086 (1.x/2.x) or http://127.0.0.1:8181 (3 Core). */
  url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, "")),
  /** 2.x/3: an API token. 1.x: "user:password" when auth is enabled (sent as HTTP Basic). Empty: none. */
  token: z.string().default(""),
  /** 2.x organisation; ignored by 1.x and 3. */
  org: z.string().min(1).default("city"),
  /** 2.x bucket, 3 database; for 1.x the database, optionally "database/retention-policy". */
  bucket: z.string().min(1).default("telemetry"),
  /** Per-request timeout (writes, queries, pings). */
  timeoutMs: z.number().int().positive().default(10_000),
});

export type InfluxConfig = z.infer<typeof influxConfigSchema>;

/** Environment variables for a service config that holds `influx: influxConfigSchema`. */
export const influxEnv: EnvMap = {
  INFLUX_URL: "influx.url",
  INFLUX_TOKEN: "influx.token",
  INFLUX_ORG: "influx.org",
  INFLUX_BUCKET: "influx.bucket",
};
