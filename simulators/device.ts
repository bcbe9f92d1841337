// One simulated device at run time: its MQTT link and availability, its reading schedule on the simulated
// clock, its connectivity faults and its commands (the backlog and the publish pump are outbox.ts, the
// answers to commands commands.ts). Readings sit on a fixed per-device grid (phase + k·interval), so the fleet
// does not publish in lockstep and a re-run produces the same timestamps. Backfill and live share the grid and
// the model, so seq and the energy meter run on without a break from history into the present.
// A streetlight also keeps its calendar (schedule.ts): it subscribes to its retained …/calendar topic at every
// connection, so the broker hands the calendar over again after a reboot or an outage [MQTT-3.3.1-6].
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { MAX_BATCH_READINGS } from "../services/contract/readings.ts";
import { deviceTopic } from "../services/contract/topics.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { createResponder } from "./commands.ts";
import { episode, FAULT_DURATIONS, type FaultRates } from "./faults.ts";
import { lampProfile } from "./firmware.ts";
import type { Limiter } from "./limiter.ts";
import type { Link, LinkFactory, LinkOptions, Refusal } from "./link.ts";
import type { DeviceModel } from "./models/index.ts";
import { createOutbox } from "./outbox.ts";
import type { SimDevice } from "./plan.ts";
import { rngFor } from "./prng.ts";
import type { DimmingProgram } from "./program.ts";
import { createCalendarResponder } from "./schedule.ts";
import { createTruthAccumulator, type DeviceTruth } from "./truth.ts";

export type Credentials = { username: string; password?: string };

export type DeviceDeps = {
  device: SimDevice;
  model: DeviceModel;
  clock: Clock;
  link: LinkFactory;
  /** Broker address and session timings; the identity and the last will come from the device. */
  linkOptions: Omit<LinkOptions, "clientId" | "username" | "password" | "will">;
  /** A function is asked at every (re)connection: the secret may arrive after the runtime is created. */
  credentials: Credentials | (() => Credentials);
  /** Fleet-wide bound on messages awaiting their PUBACK. */
  limiter: Limiter;
  /** Per-client bound on messages awaiting their PUBACK. */
  maxInflight: number;
  /** Oldest readings are dropped beyond this many waiting (a device's memory is finite). */
  maxBacklog: number;
  seed: string | number;
  faults: FaultRates;
  log: Logger;
};

export type DeviceStats = {
  connected: boolean;
  offline: boolean;
  /** The broker refused the last CONNECT (bad credentials, not authorised). */
  refused: boolean;
  commands: number;
  generated: number;
  published: number;
  ackedMessages: number;
  ackedReadings: number;
  backlog: number;
  inflight: number;
  dropped: number;
  errors: number;
};

export type DeviceRuntime = {
  readonly device: SimDevice;
  /** Opens the link; true once connected, false if not within the timeout (mqtt.js keeps retrying). */
  connect(timeoutMs: number): Promise<boolean>;
  /**
   * Publishes the readings of [fromMs, toMs) as batches, on a grid of `intervalS` (default: the device's own;
   * a coarser grid makes months of history cheap); resolves when the broker has acknowledged them all. Live
   * reporting then goes on on the device's own grid, the meter running on without a break.
   */
  backfill(fromMs: number, toMs: number, intervalS?: number): Promise<void>;
  /** Starts reporting on the simulated clock, continuing after the last generated reading if any. */
  startLive(): void;
  /** Graceful: flushes the backlog (bounded wait), publishes {"online":false}, disconnects. */
  stop(flushTimeoutMs: number): Promise<void>;
  /** Abrupt loss (tests, chaos): the socket drops, the broker publishes the last will, no reconnect. */
  kill(): Promise<void>;
  /** Streetlights: installs a calendar locally, as if delivered (no platform, no ack). */
  setProgram(program: DimmingProgram): void;
  /** Streetlights: the calendar version held; null on the factory calendar (and for other kinds). */
  calendarVersion(): number | null;
  stats(): DeviceStats;
  truth(): DeviceTruth;
};

export function createDeviceRuntime(deps: DeviceDeps): DeviceRuntime {
  const { device, model, clock } = deps;
  const log = deps.log.child({ deviceId: device.id });
  const stateTopic = deviceTopic(device.kind, device.id, "state");
  const cmdTopic = deviceTopic(device.kind, device.id, "cmd");
  const ackTopic = deviceTopic(device.kind, device.id, "ack");
  // Only streetlights have a calendar (the contract's ACL lets a device subscribe to its own).
  const calendarTopic = model.lamp ? deviceTopic(device.kind, device.id, "calendar") : undefined;
  const intervalMs = device.intervalS * 1000;
  const offlineRng = rngFor(deps.seed, device.id, "offline");
  const offlineFault = episode(offlineRng, deps.faults.offlinePerDay, FAULT_DURATIONS.offline);
  // Its own stream: turning reading loss on leaves every other fault where it was.
  const lossFault = episode(
    rngFor(deps.seed, device.id, "loss"),
    deps.faults.readingLossPerDay,
    FAULT_DURATIONS.readingLoss,
  );
  const truth = createTruthAccumulator(device);
  let link: Link | undefined;
  let cursor: number | undefined; // next grid instant to generate
  let backfillEnd: number | undefined;
  let stepMs = intervalMs; // the backfill's grid step while it runs, else the device's interval
  let lastGenTs: number | undefined;
  let resetUnsent = false; // a meter restart whose reading was lost: the next one sent says so
  let timer: TimerHandle | undefined;
  let offline = false;
  let stopped = false;
  let killed = false;
  let lastLiveTs: number | undefined;
  let generated = 0;
  let dropped = 0;
  let commands = 0;
  let refused: Refusal | undefined;
  const profile = model.lamp ? lampProfile(deps.seed, device.id, deps.faults) : undefined;
  const respond = createResponder({ kind: device.kind, lamp: model.lamp, profile, clock, truth, log });
  const calendar = model.lamp && createCalendarResponder({ lamp: model.lamp, profile, clock, truth, log });

  const outbox = createOutbox({
    topic: deviceTopic(device.kind, device.id, "telemetry"),
    link: () => link,
    limiter: deps.limiter,
    maxInflight: deps.maxInflight,
    truth,
    log,
    // Backfill readings are generated as they are sent, one message's worth ahead (bounded memory).
    refill(waiting) {
      for (let n = waiting; n < MAX_BATCH_READINGS && backfillPending(); n++) {
        generate(cursor as number);
        cursor = (cursor as number) + stepMs;
      }
    },
    refillPending: () => backfillPending(),
  });

  const backfillPending = () => backfillEnd !== undefined && cursor !== undefined && cursor < backfillEnd;

  /** First grid instant at or after `ms`. */
  const gridAtOrAfter = (ms: number) =>
    device.phaseMs + Math.ceil((ms - device.phaseMs) / intervalMs) * intervalMs;

  function generate(ts: number): void {
    const { reading, energyWh, burnS, overrideS = 0 } = model.next(ts);
    const dtMs = lastGenTs === undefined ? 0 : ts - lastGenTs;
    lastGenTs = ts;
    generated++;
    truth.generated({ ts, energyWh, burnS });
    const r = reading as typeof reading & { meter_reset?: boolean };
    if (lossFault.at(ts, dtMs)) {
      // Lost before sending (a controller's storage dropping records): measured, never published. The seq gap
      // shows it to the platform; the cumulative meter carries the energy over to the next reading.
      truth.lost();
      if (r.meter_reset) resetUnsent = true;
      return;
    }
    // The controller still owes the platform the news of a restart whose reading was lost (the contract: a meter
    // that went back carries meter_reset), else the ingest would refuse its readings as running backwards.
    if (resetUnsent && !r.meter_reset) r.meter_reset = true;
    resetUnsent = false;
    outbox.push({ ts, seq: reading.seq, json: JSON.stringify(r), energyWh, burnS, overrideS });
  }

  const credentialsOf = (): Credentials =>
    typeof deps.credentials === "function" ? deps.credentials() : deps.credentials;

  function openLink(): Link {
    const l = deps.link({
      ...deps.linkOptions,
      clientId: device.id,
      username: credentialsOf().username,
      password: () => credentialsOf().password,
      will: { topic: stateTopic, payload: JSON.stringify({ online: false }), qos: 1, retain: true },
    });
    let lastError = "";
    l.onError((err) => {
      // While the broker is down every retry fails the same way: say it once, then at debug level.
      if (err.message === lastError) log.debug({ err: err.message }, "mqtt error");
      else log.warn({ err: err.message }, "mqtt error");
      lastError = err.message;
    });
    l.onRefused((r) => {
      // Once per device and reason at warn (the broker's refusal is the news), then quietly: the link retries
      // with a growing delay, never in a tight loop. 0x03 is a broker still loading its access list.
      const quiet = refused?.code === r.code || r.code === 3;
      refused = r;
      const fields = { code: r.code, reason: r.reason, retryInMs: r.retryInMs };
      if (quiet) log.debug(fields, "connect refused");
      else log.warn(fields, `connect refused by the broker: ${r.reason} (0x0${r.code})`);
    });
    l.onConnect(() => {
      if (link !== l) return;
      if (refused) log.info({ after: refused.reason }, "connected after a refusal");
      else log.debug("connected");
      refused = undefined;
      // Retained availability, replacing the last will the broker may have published [MQTT-3.3.1-5].
      l.publish(stateTopic, JSON.stringify({ online: true }), { qos: 1, retain: true }).catch(
        (err: Error) => {
          log.debug({ err: err.message }, "online state not acknowledged");
        },
      );
      // Clean session: the broker forgot the subscription with the last connection [MQTT-3.1.2-6].
      l.subscribe(cmdTopic, 1).catch((err: Error) => {
        log.warn({ err: err.message, topic: cmdTopic }, "cannot subscribe to commands");
      });
      if (calendarTopic)
        l.subscribe(calendarTopic, 1).catch((err: Error) => {
          log.warn({ err: err.message, topic: calendarTopic }, "cannot subscribe to its calendar");
        });
      outbox.pump();
    });
    l.onMessage((topic, payload) => {
      if (link !== l) return;
      // A calendar is stored even during a backfill: readings of the past keep the calendar they had
      // (program.ts), so there is nothing to refuse as busy.
      if (topic === calendarTopic && calendar)
        return calendar.receive(payload, (ack) => l.publish(ackTopic, ack, { qos: 1 }));
      if (topic !== cmdTopic) return;
      commands++;
      // During a backfill the controller is busy uploading its history (see commands.ts).
      respond(payload, backfillEnd !== undefined, (ack) => l.publish(ackTopic, ack, { qos: 1 }));
    });
    return l;
  }

  function tick(): void {
    timer = undefined;
    if (stopped) return;
    try {
      const now = clock.now();
      while (cursor !== undefined && cursor <= now) {
        const dt = lastLiveTs === undefined ? 0 : cursor - lastLiveTs;
        lastLiveTs = cursor;
        applyOfflineFault(cursor, dt);
        generate(cursor);
        cursor += intervalMs;
      }
      dropped += outbox.trim(deps.maxBacklog);
      outbox.pump();
    } catch (err) {
      log.error({ err }, "tick failed");
    }
    if (cursor !== undefined) timer = clock.setTimer(cursor - clock.now(), tick);
  }

  /** A device losing its connection for a while: it keeps measuring, and sends the backlog on return. */
  function applyOfflineFault(ts: number, dtMs: number): void {
    const down = offlineFault.at(ts, dtMs);
    if (down && !offline) {
      offline = true;
      log.info({ until: new Date(offlineFault.until).toISOString() }, "fault: going offline");
      const l = link;
      link = undefined;
      void l?.close(true);
    } else if (!down && offline) {
      offline = false;
      log.info({ backlog: outbox.length }, "fault over: reconnecting");
      link = openLink();
    }
  }

  /** True once connected; false at the timeout or at once if the broker refuses it (0x03 aside: a wait). */
  function waitConnected(l: Link, timeoutMs: number): Promise<boolean> {
    if (l.connected) return Promise.resolve(true);
    if (refused && refused.code !== 3) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      const settle = (ok: boolean) => {
        clearTimeout(t);
        resolve(ok);
      };
      l.onConnect(() => settle(true));
      l.onRefused((r) => r.code !== 3 && settle(false));
    });
  }

  return {
    device,
    connect(timeoutMs) {
      link ??= openLink();
      return waitConnected(link, timeoutMs);
    },
    async backfill(fromMs, toMs, intervalS) {
      if (timer) throw new Error("backfill while live: stop first");
      stepMs = (intervalS ?? device.intervalS) * 1000;
      // The backfill's own grid keeps the device's phase as a share of the step (the fleet stays spread out,
      // and a re-run over the same period writes the same timestamps).
      const phase = gridPhaseMs(device, stepMs / 1000);
      const start = Math.max(fromMs, cursor ?? fromMs);
      cursor = phase + Math.ceil((start - phase) / stepMs) * stepMs;
      backfillEnd = toMs;
      try {
        outbox.pump();
        await outbox.drained();
      } finally {
        backfillEnd = undefined;
        // Live (or a next backfill) resumes on the device's own grid where this one ended, never repeating a
        // timestamp already generated.
        stepMs = intervalMs;
        cursor = gridAtOrAfter(lastGenTs === undefined ? toMs : Math.max(toMs, lastGenTs + 1));
      }
    },
    startLive() {
      if (timer || stopped) return;
      if (!offline) link ??= openLink();
      cursor ??= gridAtOrAfter(clock.now());
      timer = clock.setTimer(cursor - clock.now(), tick);
    },
    async stop(flushTimeoutMs) {
      stopped = true;
      backfillEnd = undefined; // an interrupted backfill sends what it has generated, no more
      timer?.cancel();
      timer = undefined;
      if (killed) return;
      offline = false; // a device being stopped comes back to hand over its backlog
      link ??= openLink();
      const l = link;
      // A refused device has nothing to flush and no session to close gracefully.
      if (!refused && (await waitConnected(l, Math.min(flushTimeoutMs, 5000)))) {
        const flushed = await Promise.race([
          outbox.drained().then(() => true),
          sleep(flushTimeoutMs, false, { ref: false }),
        ]);
        if (!flushed)
          log.warn({ backlog: outbox.length, inflight: outbox.inflight }, "stopping with readings unsent");
        const offlineState = JSON.stringify({ online: false });
        await l.publish(stateTopic, offlineState, { qos: 1, retain: true }).catch(() => {});
      }
      link = undefined;
      await l.close(false);
    },
    async kill() {
      stopped = true;
      killed = true;
      timer?.cancel();
      timer = undefined;
      const l = link;
      link = undefined;
      await l?.close(true);
    },
    setProgram(program) {
      calendar?.install(program);
    },
    calendarVersion: () => calendar?.version() ?? null,
    stats: () => ({
      connected: link?.connected ?? false,
      offline,
      refused: refused !== undefined,
      commands,
      generated,
      ...outbox.stats(),
      backlog: outbox.length,
      inflight: outbox.inflight,
      dropped,
    }),
    truth: () => {
      const t = truth.snapshot(outbox.length + dropped);
      if (t.calendar && calendar) t.calendar.version = calendar.version(); // also one installed locally
      return t;
    },
  };
}

/** A device's phase on a grid of `intervalS`: its own phase as the same share of the step (device.ts, fleet.ts). */
export function gridPhaseMs(device: SimDevice, intervalS: number): number {
  if (intervalS === device.intervalS) return device.phaseMs;
  return Math.floor((device.phaseMs / (device.intervalS * 1000)) * intervalS * 1000);
}
