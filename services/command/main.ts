// Entry point of the command service: reads config, opens the registry, provisions the token file, listens.
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { loadConfig } from "../lib/config.ts";
import { connectInflux } from "../lib/influx/index.ts";
import { createLogger } from "../lib/log.ts";
import { openRegistry } from "../registry/registry.ts";
import { buildApp } from "./app.ts";
import { provisionTokens, TokenFileError } from "./auth/token-file.ts";
import { ensureLocalSecrets } from "./bootstrap-secrets.ts";
import { createCommissioningService } from "./commissioning/service.ts";
import { commandConfigSchema, commandEnv } from "./config.ts";
import { createDeviceMqtt } from "./device-mqtt.ts";
import { createEnergyService } from "./energy/service.ts";
import { systemClock } from "./liveness/clock.ts";
import { createMqttNotifier } from "./notifier.ts";
import { complianceRoutes } from "./routes/compliance.ts";
import { energyReportRoutes } from "./routes/energy.ts";
import { scheduleCrudRoutes } from "./routes/schedule-crud.ts";
import { createScheduleService } from "./schedules/service.ts";

const config = loadConfig("command", commandConfigSchema, commandEnv, { env: process.env });
const log = createLogger("command", config.logLevel);
const registry = openRegistry(config.registryDb, {
  silentAfterIntervals: config.liveness.silentAfterIntervals,
});

// Single-host installations without a token file of their own make the platform's tokens on first start.
const bootstrap =
  !config.tokenFile && config.bootstrapSecretsDir
    ? ensureLocalSecrets(config.bootstrapSecretsDir)
    : undefined;
const tokenFile = config.tokenFile || bootstrap?.tokenFile || "";
if (tokenFile) {
  try {
    provisionTokens(registry.tokens, tokenFile, log.child({ module: "tokens" }));
  } catch (err) {
    if (!(err instanceof TokenFileError)) throw err;
    log.fatal(err.message);
    process.exit(1);
  }
} else log.warn("no token file (COMMAND_TOKEN_FILE): only tokens made through the API will work");

const metrics = new Registry();
collectDefaultMetrics({ register: metrics });
new Gauge({
  name: "registry_devices",
  help: "Devices in the registry",
  registers: [metrics],
  collect() {
    this.set(registry.devices.count());
  },
});

const mqttPassword = config.mqtt.password || bootstrap?.token("svc-command") || "";
const notifier = config.mqtt.url
  ? createMqttNotifier(
      { url: config.mqtt.url, username: config.mqtt.username, password: mqttPassword },
      () => ({
        latest: registry.devices.changesSince(Number.MAX_SAFE_INTEGER, 1).latest,
        access_latest: registry.access.changesSince(Number.MAX_SAFE_INTEGER, 1).latest,
      }),
      log.child({ module: "notifier" }),
    )
  : undefined;

// One MQTT connection (svc-command) for commissioning, liveness and schedules: commands and acks, presence,
// retained state and the ingest's activity, calendars and overrides. Readings and rejects as stored in InfluxDB
// (connected lazily: the service runs while InfluxDB is down).
const influx = await connectInflux(config.influx, log);
const mqtt = config.mqtt.url
  ? createDeviceMqtt({ url: config.mqtt.url, username: config.mqtt.username, password: mqttPassword, log })
  : undefined;
// Dimming schedules (issue 4): calendar rollouts planned on assignment and device changes, overrides, delivery.
const schedules = createScheduleService({ db: registry.db, mqtt, config, log, metrics });
// Energy audit (issue 5): daily rollups kept up to date from the ingest's activity digests and InfluxDB.
const energy = createEnergyService({ db: registry.db, influx, config, log, metrics, clock: systemClock });
const commissioning = createCommissioningService({
  db: registry.db,
  mqtt,
  influx,
  config,
  log,
  metrics,
  changed: () => notifier?.notify(),
  // Liveness's handlers first (device_activity), then the schedule engine's (presence → re-sends, acks), then
  // the energy rollups' (activity digests mark lamps to roll up).
  moreHandlers: [schedules.handlers, energy.handlers],
});
const now = () => new Date();

const app = buildApp({
  registry,
  config,
  log,
  metrics,
  onRegistryChange: (change) => {
    notifier?.notify();
    commissioning.onRegistryChange(change);
    schedules.onRegistryChange(change);
  },
  routes: [
    ...commissioning.routes,
    ...scheduleCrudRoutes({ db: registry.db, now, replan: schedules.replan }),
    ...schedules.routes,
    complianceRoutes({ db: registry.db, influx, options: config.compliance, clock: systemClock }),
    ...energy.routes,
    energyReportRoutes({
      db: registry.db,
      config,
      clock: systemClock,
      status: () => ({ pendingLamps: energy.pendingLamps() }),
    }),
  ],
});
await app.listen({ host: config.http.host, port: config.http.port });
// Open deliveries are loaded before the MQTT connection starts, so the first presence events find them.
schedules.start();
commissioning.start();
energy.start();
log.info({ port: config.http.port, db: config.registryDb }, "command service listening");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  await app.close();
  await energy.stop();
  await schedules.stop();
  await commissioning.stop();
  await notifier?.close();
  await influx.close();
  registry.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
