import { z } from "zod";
import { type EnvMap, logLevelSchema, portSchema } from "../lib/config.ts";

export const commandConfigSchema = z.object({
  http: z.object({ host: z.string().default("0.0.0.0"), port: portSchema.default(8080) }).prefault({}),
  /** SQLite file of the device registry; this service owns it. */
  registryDb: z.string().min(1).default(".data/registry.sqlite"),
  /** Broker to announce registry changes on (platform/v1/registry/changed); empty to only serve the feed. */
  mqttUrl: z.string().default(""),
  logLevel: logLevelSchema.default("info"),
});
export type CommandConfig = z.infer<typeof commandConfigSchema>;

export const commandEnv: EnvMap = {
  COMMAND_HOST: "http.host",
  COMMAND_PORT: "http.port",
  REGISTRY_DB: "registryDb",
  MQTT_URL: "mqttUrl",
  LOG_LEVEL: "logLevel",
};
