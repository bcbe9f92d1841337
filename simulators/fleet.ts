// The simulated fleet: plans the devices from the seed, gives each its model and MQTT runtime, and runs
// them live on the simulated clock or as a backfill of history. A function of its dependencies (STYLE.md,
// habit 3): main.ts reads the configuration and passes it in; tests pass a fake clock or an in-memory link.
import type { Logger } from "pino";
import { ENERGY_TIME_ZONE } from "../services/contract/energy.ts";
import { type Clock, createSimClock } from "./clock.ts";
import { resolveStart, type SimulatorConfig } from "./config.ts";
import {
  type Credentials,
  createDeviceRuntime,
  type DeviceRuntime,
  type DeviceStats,
  gridPhaseMs,
} from "./device.ts";
import { createLimiter } from "./limiter.ts";
import { type LinkFactory, mqttLink } from "./link.ts";
import { createModel } from "./models/index.ts";
import { planFleet, type SimDevice } from "./plan.ts";
import { rngFor } from "./prng.ts";
import type { DimmingProgram } from "./program.ts";
import { type BackfillTruth, type FleetTruth, fleetTruth, writeTruthFile } from "./truth.ts";

export type FleetDeps = {
  config: SimulatorConfig;
  log: Logger;
  /** Default: a real clock at the configured speed, starting now. */
  clock?: Clock;
  /** Default: mqtt.js. */
  link?: LinkFactory;
  /** Asked at each connection. Default: username = device id, no password (a broker without access control). */
  credentials?: (device: SimDevice) => Credentials;
  /** Default: the fleet planned from `config.fleet` (single-device mode passes the one registered device). */
  devices?: readonly SimDevice[];
};

export type FleetStats = Omit<DeviceStats, "connected" | "offline" | "refused"> & {
  devices: number;
  connected: number;
  offline: number;
  /** Devices whose last CONNECT the broker refused. */
  refused: number;
};

export type BackfillSummary = {
  devices: number;
  fromMs: number;
  toMs: number;
  /** The backfill's grid step, s. */
  intervalS: number;
  readings: number;
  messages: number;
  seconds: number;
  readingsPerSecond: number;
};

export type Fleet = {
  readonly devices: readonly SimDevice[];
  readonly clock: Clock;
  /** Connects every device (bounded concurrency); resolves with how many connected within the timeout. */
  connect(): Promise<number>;
  /** Connects if needed and starts live reporting. */
  start(): Promise<void>;
  /**
   * Publishes `days` of history up to the clock's now as batches, awaiting every PUBACK, on a grid of
   * `config.backfill.intervalS` (default the fleet's interval); live then goes on at the fleet's interval.
   */
  backfill(days: number): Promise<BackfillSummary>;
  /** Graceful: flushes backlogs, publishes {"online":false}, disconnects. */
  stop(): Promise<void>;
  /** Abrupt loss of one device (its last will fires); for tests and chaos. */
  kill(deviceId: string): Promise<void>;
  /** Replaces the dimming program of the given streetlights (all if omitted). */
  setProgram(program: DimmingProgram, deviceIds?: readonly string[]): void;
  stats(): FleetStats;
  /** The truth so far (`phase` says whether the run is over), without the dark hours (computed when written). */
  truth(phase?: FleetTruth["phase"]): FleetTruth;
  /** Writes the truth file with each streetlight day's dark hours (truth.ts). */
  writeTruth(path: string, phase?: FleetTruth["phase"]): Promise<void>;
};

const DAY_MS = 86_400_000;

export function createFleet(deps: FleetDeps): Fleet {
  const { config, log } = deps;
  const clock =
    deps.clock ??
    createSimClock({ speed: config.clock.speed, startMs: resolveStart(config.clock, Date.now()) });
  const link = deps.link ?? mqttLink;
  const credentials = deps.credentials ?? ((d: SimDevice) => ({ username: d.id }));
  const devices = deps.devices ?? planFleet(config.fleet);
  const limiter = createLimiter(config.publish.maxInflight);
  const runtimes = new Map<string, DeviceRuntime>();
  for (const device of devices) {
    const jitter = rngFor(config.fleet.seed, device.id, "reconnect")();
    const { reconnectMinMs, reconnectMaxMs } = config.mqtt;
    runtimes.set(
      device.id,
      createDeviceRuntime({
        device,
        model: createModel(device, { seed: config.fleet.seed, faults: config.faults }),
        clock,
        link,
        linkOptions: {
          url: config.mqtt.url,
          keepaliveS: config.mqtt.keepaliveS,
          reconnectPeriodMs: Math.round(
            reconnectMinMs + jitter * Math.max(0, reconnectMaxMs - reconnectMinMs),
          ),
          connectTimeoutMs: config.mqtt.connectTimeoutMs,
          refusedRetryMinMs: config.mqtt.refusedRetryMinMs,
          refusedRetryMaxMs: config.mqtt.refusedRetryMaxMs,
        },
        credentials: () => credentials(device),
        limiter,
        maxInflight: config.publish.maxInflightPerClient,
        maxBacklog: config.publish.maxBacklog,
        seed: config.fleet.seed,
        faults: config.faults,
        log,
      }),
    );
  }
  const all = [...runtimes.values()];
  let connected = false;
  let live = false;
  let backfilled: BackfillTruth | null = null;

  async function connect(): Promise<number> {
    // Open connections in waves (no connect storm on the broker and its auth hook), waiting a little for each
    // wave, then for everyone together; a device that is not up by then keeps retrying on its own.
    await forEachLimited(all, config.mqtt.connectConcurrency, (r) =>
      r.connect(Math.min(1000, config.mqtt.connectTimeoutMs)),
    );
    const results = await Promise.all(all.map((r) => r.connect(config.mqtt.connectTimeoutMs)));
    const ok = results.filter(Boolean).length;
    connected = true;
    const refused = all.filter((r) => r.stats().refused).length;
    if (ok < all.length)
      log.warn({ connected: ok, refused, devices: all.length }, "some devices did not connect yet");
    else log.info({ devices: all.length }, "fleet connected");
    return ok;
  }

  function stats(): FleetStats {
    const s: FleetStats = {
      devices: all.length,
      connected: 0,
      offline: 0,
      refused: 0,
      commands: 0,
      generated: 0,
      published: 0,
      ackedMessages: 0,
      ackedReadings: 0,
      backlog: 0,
      inflight: 0,
      dropped: 0,
      errors: 0,
    };
    for (const r of all) {
      const d = r.stats();
      if (d.connected) s.connected++;
      if (d.offline) s.offline++;
      if (d.refused) s.refused++;
      s.commands += d.commands;
      s.generated += d.generated;
      s.published += d.published;
      s.ackedMessages += d.ackedMessages;
      s.ackedReadings += d.ackedReadings;
      s.backlog += d.backlog;
      s.inflight += d.inflight;
      s.dropped += d.dropped;
      s.errors += d.errors;
    }
    return s;
  }

  function truth(phase: FleetTruth["phase"] = "final"): FleetTruth {
    return fleetTruth(
      {
        seed: config.fleet.seed,
        intervalS: config.fleet.intervalS,
        timeZone: ENERGY_TIME_ZONE,
        phase,
        backfill: backfilled,
      },
      all.map((r) => r.truth()),
    );
  }

  async function backfill(days: number): Promise<BackfillSummary> {
    if (live) throw new Error("backfill must come before start()");
    if (!connected) await connect();
    const toMs = clock.now();
    const fromMs = toMs - days * DAY_MS;
    const intervalS = config.backfill.intervalS;
    const expected = devices.reduce((n, d) => n + gridCount(d, fromMs, toMs, intervalS), 0);
    const before = stats();
    const started = Date.now();
    log.info(
      {
        days,
        devices: all.length,
        readings: expected,
        intervalS: intervalS ?? config.fleet.intervalS,
        from: new Date(fromMs).toISOString(),
      },
      "backfill start",
    );
    const progress = setInterval(() => {
      const done = stats().ackedReadings - before.ackedReadings;
      const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
      const eta = rate > 0 ? Math.round((expected - done) / rate) : null;
      const pct = expected > 0 ? ((100 * done) / expected).toFixed(1) : "100";
      log.info(
        { done, expected, rate: Math.round(rate), etaS: eta },
        `backfill ${pct}% (${done}/${expected})`,
      );
    }, config.backfill.progressIntervalS * 1000);
    progress.unref();
    backfilled = {
      from_ts: fromMs,
      to_ts: toMs,
      interval_s: intervalS ?? config.fleet.intervalS,
      completed: false,
    };
    try {
      await Promise.all(all.map((r) => r.backfill(fromMs, toMs, intervalS)));
    } finally {
      clearInterval(progress);
    }
    // Interrupted (stop() cuts a backfill short): what was generated went out, the rest never will.
    backfilled.completed =
      all.every((r) => r.stats().backlog === 0) && stats().generated >= before.generated + expected;
    const after = stats();
    const seconds = (Date.now() - started) / 1000;
    const summary: BackfillSummary = {
      devices: all.length,
      fromMs,
      toMs,
      intervalS: backfilled.interval_s,
      readings: after.ackedReadings - before.ackedReadings,
      messages: after.ackedMessages - before.ackedMessages,
      seconds,
      readingsPerSecond: Math.round((after.ackedReadings - before.ackedReadings) / Math.max(0.001, seconds)),
    };
    log.info(
      summary,
      `backfill done: ${summary.readings} readings in ${summary.messages} messages, ${seconds.toFixed(1)} s`,
    );
    return summary;
  }

  return {
    devices,
    clock,
    connect,
    async start() {
      if (!connected) await connect();
      live = true;
      for (const r of all) r.startLive();
      log.info(
        { devices: all.length, speed: clock.rate(), at: new Date(clock.now()).toISOString() },
        "fleet live",
      );
    },
    backfill,
    async stop() {
      live = false;
      await forEachLimited(all, 50, (r) => r.stop(config.publish.flushTimeoutMs));
      log.info(stats(), "fleet stopped");
    },
    async kill(deviceId) {
      await runtimes.get(deviceId)?.kill();
    },
    setProgram(program, deviceIds) {
      for (const id of deviceIds ?? runtimes.keys()) runtimes.get(id)?.setProgram(program);
    },
    stats,
    truth,
    writeTruth: (path, phase) => writeTruthFile(path, truth(phase)),
  };
}

/** Readings of a device in [fromMs, toMs) on its grid, or on a backfill's grid of `intervalS` (device.ts). */
export function gridCount(d: SimDevice, fromMs: number, toMs: number, intervalS = d.intervalS): number {
  const step = intervalS * 1000;
  const phase = gridPhaseMs(d, intervalS);
  const first = phase + Math.ceil((fromMs - phase) / step) * step;
  return first >= toMs ? 0 : Math.floor((toMs - 1 - first) / step) + 1;
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
