// createCommissioningService(deps): liveness (presence, state, activity digests → device_activity), the
// commissioning engine and their HTTP routes, over the command service's MQTT connection and InfluxDB.
// main.ts: create it, pass `routes` to buildApp, start() after listening, stop() before closing the database.
import type { DatabaseSync } from "node:sqlite";
import type { FastifyPluginAsync } from "fastify";
import type { Registry as MetricsRegistry } from "prom-client";
import type { InfluxClient } from "../../lib/influx/index.ts";
import type { Logger } from "../../lib/log.ts";
import { createCredentialStore } from "../../registry/credentials.ts";
import type { CommandConfig } from "../config.ts";
import { type DeviceMqtt, type DeviceMqttHandlers, fanOutHandlers } from "../device-mqtt.ts";
import { type Clock, systemClock } from "../liveness/clock.ts";
import { createLivenessTracker, type LivenessTracker } from "../liveness/tracker.ts";
import { commissioningRoutes } from "../routes/commissioning.ts";
import type { RegistryChange } from "../routes/context.ts";
import { devicePageRoutes } from "../routes/device-page.ts";
import { createEngine, type Engine } from "./engine.ts";
import { influxProbe, type ReadingsProbe } from "./probe.ts";

export type CommissioningServiceDeps = {
  db: DatabaseSync;
  /** The service's MQTT side (createDeviceMqtt); absent without a broker (MQTT_URL empty): no liveness, no commands. */
  mqtt?: DeviceMqtt | undefined;
  influx: InfluxClient;
  config: Pick<CommandConfig, "commissioning" | "liveness" | "mqtt">;
  log: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry;
  /** A device row changed here (registered → connected, → commissioned): announce it like the API's changes. */
  changed?: (change: RegistryChange) => void;
  /** Tests: read readings from elsewhere than `influx`. */
  probe?: ReadingsProbe;
  /**
   * Other listeners on the same MQTT connection (the schedule engine: presence and calendar/override acks),
   * called after liveness's handlers; start() starts the connection with all of them.
   */
  moreHandlers?: readonly Partial<DeviceMqttHandlers>[];
};

export type CommissioningService = {
  engine: Engine;
  liveness: LivenessTracker;
  routes: FastifyPluginAsync[];
  /** For buildApp's onRegistryChange: stops a running commissioning of a replaced, decommissioned or re-keyed device now. */
  onRegistryChange(change: RegistryChange): void;
  start(): void;
  stop(): Promise<void>;
};

/** Changes after which a device's running commissioning cannot go on. */
const ENDS_RUN = new Set<RegistryChange["action"]>([
  "replaced",
  "decommissioned",
  "credentials_rotated",
  "credentials_revoked",
]);

/** Without a broker: runs fail at their connection check, commands time out at once saying why. */
const NO_MQTT: DeviceMqtt = {
  start() {},
  sendCommand: async (_device, req) => ({
    ok: false,
    command: { id: "-", issued_at: new Date().toISOString(), ...req } as never,
    reason: "timeout",
    detail: "the command service has no MQTT connection (MQTT_URL is not set)",
  }),
  publish() {},
  deliver: () =>
    Promise.reject(new Error("the command service has no MQTT connection (MQTT_URL is not set)")),
  isConnected: () => false,
  stop: async () => {},
};

export function createCommissioningService(deps: CommissioningServiceDeps): CommissioningService {
  const clock = deps.clock ?? systemClock;
  const log = deps.log;
  const mqtt = deps.mqtt ?? NO_MQTT;
  if (!deps.mqtt) log.warn("no MQTT broker configured: liveness and commissioning commands are off");
  // What the platform does by itself is recorded under the service's own account name.
  const actor = deps.config.mqtt.username || "svc-command";
  const liveness = createLivenessTracker({
    db: deps.db,
    log,
    clock,
    silentAfterIntervals: deps.config.liveness.silentAfterIntervals,
    actor,
    metrics: deps.metrics,
    onRegistryChange: (ids) => deps.changed?.({ action: "connected", ids, access: true }),
  });
  const probe = deps.probe ?? influxProbe(deps.influx);
  const credentials = createCredentialStore(deps.db);
  const engine = createEngine({
    db: deps.db,
    activity: liveness.store,
    credentials,
    flushActivity: liveness.flush,
    probe,
    commands: mqtt,
    config: deps.config.commissioning,
    clock,
    log,
    actor,
  });
  const silentAfterIntervals = deps.config.liveness.silentAfterIntervals;
  return {
    engine,
    liveness,
    routes: [
      commissioningRoutes({
        engine,
        mqtt,
        ackTimeoutS: deps.config.commissioning.ackTimeoutS,
        changed: (ids) => deps.changed?.({ action: "commissioned", ids, access: true }),
      }),
      devicePageRoutes({
        db: deps.db,
        activity: liveness.store,
        credentials,
        engine,
        probe,
        clock,
        silentAfterIntervals,
      }),
    ],
    onRegistryChange(change) {
      if (!ENDS_RUN.has(change.action)) return;
      for (const id of change.ids) engine.cancel(id, actor, `device ${change.action.replace("_", " ")}`);
    },
    start() {
      engine.recover();
      liveness.start();
      mqtt.start(fanOutHandlers([liveness.handlers, ...(deps.moreHandlers ?? [])]));
    },
    async stop() {
      await engine.stop();
      liveness.stop();
      await mqtt.stop();
    },
  };
}
