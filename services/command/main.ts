// Entry point of the command service: reads config, opens the registry, listens.
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { openRegistryStore } from "../registry/store.ts";
import { buildApp } from "./app.ts";
import { commandConfigSchema, commandEnv } from "./config.ts";
import { createMqttNotifier } from "./notifier.ts";

const config = loadConfig("command", commandConfigSchema, commandEnv, { env: process.env });
const log = createLogger("command", config.logLevel);
const registry = openRegistryStore(config.registryDb);
const metrics = new Registry();
collectDefaultMetrics({ register: metrics });
new Gauge({
  name: "registry_devices",
  help: "Devices in the registry",
  registers: [metrics],
  collect() {
    this.set(registry.count());
  },
});
const notifier = config.mqttUrl
  ? createMqttNotifier(config.mqttUrl, log.child({ module: "notifier" }))
  : undefined;
const app = buildApp({
  registry,
  log,
  metrics,
  onRegistryChange: () => notifier?.notify(registry.changesSince(Number.MAX_SAFE_INTEGER, 1).latest),
});
await app.listen({ host: config.http.host, port: config.http.port });
log.info({ port: config.http.port, db: config.registryDb }, "command service listening");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  await app.close();
  await notifier?.close();
  registry.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
