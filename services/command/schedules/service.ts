// createScheduleService(deps): the delivery side of dimming schedules (issue 4) — the planner that turns
// assignment and calendar changes into calendar rollouts (`replan`, for the CRUD routes), overrides and their
// cancels, the delivery engine over the command service's MQTT connection, and the routes for overrides,
// rollouts and a lamp's schedule. main.ts: create it, give `replan` to the CRUD routes and `routes` to buildApp,
// pass `handlers` to the MQTT connection (with liveness's), call onRegistryChange on every committed device
// change, start() after listening, stop() before the MQTT connection and the database close.
import type { DatabaseSync } from "node:sqlite";
import type { FastifyPluginAsync } from "fastify";
import type { Registry as MetricsRegistry } from "prom-client";
import type { Logger } from "../../lib/log.ts";
import { createRolloutStore, type RolloutStore } from "../../registry/schedules/rollouts.ts";
import type { CommandConfig } from "../config.ts";
import type { DeviceMqtt, DeviceMqttHandlers } from "../device-mqtt.ts";
import { type Clock, systemClock } from "../liveness/clock.ts";
import type { RegistryChange } from "../routes/context.ts";
import { deviceScheduleRoutes } from "../routes/device-schedule.ts";
import { overridesRoutes } from "../routes/overrides.ts";
import { rolloutsRoutes } from "../routes/rollouts.ts";
import { createDeliveryEngine, type DeliveryEngine } from "./delivery.ts";
import { createOverrideService, type OverrideService } from "./overrides.ts";
import { loadPayload } from "./payloads.ts";
import { createPlanner, type Planner } from "./planner.ts";
import type { Replan } from "./types.ts";

export type ScheduleServiceDeps = {
  db: DatabaseSync;
  /** The command service's MQTT side (shared with liveness and commissioning); absent without a broker. */
  mqtt: Pick<DeviceMqtt, "deliver"> | undefined;
  config: Pick<CommandConfig, "schedules" | "mqtt">;
  log: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry | undefined;
};

export type ScheduleService = {
  replan: Replan;
  planner: Planner;
  overrides: OverrideService;
  engine: DeliveryEngine;
  rollouts: RolloutStore;
  routes: FastifyPluginAsync[];
  /** For the shared MQTT connection: presence (who is connected) and calendar / override acks. */
  handlers: Pick<DeviceMqttHandlers, "presence" | "ack">;
  /** A committed device change: plan calendars for new or moved lamps, close a decommissioned lamp's rows. */
  onRegistryChange(change: RegistryChange): void;
  start(): void;
  stop(): Promise<void>;
};

export function createScheduleService(deps: ScheduleServiceDeps): ScheduleService {
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ module: "schedules" });
  const { db } = deps;
  // What the platform does by itself is recorded under the service's own account name.
  const actor = deps.config.mqtt.username || "svc-command";
  const rollouts = createRolloutStore(db);
  const onlineNow = db.prepare("SELECT device_id FROM device_activity WHERE online = 1");
  const engine = createDeliveryEngine({
    store: rollouts,
    loadPayload: (id) => loadPayload(db, id),
    mqtt: deps.mqtt,
    clock,
    log,
    metrics: deps.metrics,
    retryAfterMs: deps.config.schedules.retryAfterS * 1000,
    maxAttempts: deps.config.schedules.maxAttempts,
    initialOnline: () => (onlineNow.all() as { device_id: string }[]).map((r) => r.device_id),
  });
  const planner = createPlanner({ db, rollouts, engine, clock, log });
  const overrides = createOverrideService({ db, rollouts, engine, clock, log });
  const now = () => clock.now();

  function onRegistryChange(change: RegistryChange): void {
    try {
      switch (change.action) {
        case "registered":
        case "updated":
          // A new lamp, or one whose district may have changed: the planner skips lamps whose calendar is as sent.
          planner.replan({ cause: "device_change", actor, deviceIds: change.ids });
          break;
        case "replaced":
          // New hardware behind the same id holds only its factory calendar: send the resolved one again.
          planner.replanWith({ cause: "device_change", actor, deviceIds: change.ids }, { force: true });
          break;
        case "decommissioned": {
          const closed = rollouts.supersedeDevices(
            change.ids,
            "decommissioned",
            "the lamp was decommissioned",
            new Date(clock.now()).toISOString(),
          );
          engine.forget(closed);
          for (const id of change.ids) engine.clearCalendar(id);
          break;
        }
        default:
          break;
      }
    } catch (err) {
      // The device change itself is committed; a failed plan is retried by the next change or a re-assignment.
      log.error(
        { err, action: change.action, devices: change.ids.length },
        "schedule follow-up of a device change failed",
      );
    }
  }

  return {
    replan: planner.replan,
    planner,
    overrides,
    engine,
    rollouts,
    routes: [
      overridesRoutes({ overrides, rollouts, now }),
      rolloutsRoutes({ rollouts }),
      deviceScheduleRoutes({ db, rollouts, overrides: overrides.store, engine, now }),
    ],
    handlers: { presence: engine.presence, ack: engine.ack },
    onRegistryChange,
    start() {
      engine.recover();
      engine.start();
    },
    stop: () => engine.stop(),
  };
}
