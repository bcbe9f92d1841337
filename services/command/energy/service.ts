// createEnergyService(deps): keeps energy_daily up to date as readings arrive (issue 5). The ingest's activity
// digests mark lamps; every ENERGY_ROLLUP_INTERVAL_S one worker rolls the lamps due (settled: their readings are in
// InfluxDB by now) forward from their cursors, or — when a digest's first_ts lies at or behind the cursor (a
// backlog arrived after live readings) — recomputes them from the day the late data reaches back to. Every
// ENERGY_RECONCILE_INTERVAL_S the reconcile sweep catches what digests missed (QoS 0) or writes raced; at start
// every streetlight is caught up from its cursor, then a sweep. Rebuilds asked through the API go through the same
// recompute, a chunk of lamps at a time between cycles. One worker does all of it, so two passes never write one
// lamp at once. A failed pass (InfluxDB down) is logged and its lamps come round again: nothing is lost.
// main.ts: create it, pass `handlers` to the MQTT connection, `routes` to buildApp, start() after listening,
// stop() before the database closes.
import type { DatabaseSync } from "node:sqlite";
import type { FastifyPluginAsync } from "fastify";
import type { Registry as MetricsRegistry } from "prom-client";
import type { RollupRebuildBody, RollupStatus } from "../../contract/energy.ts";
import { dayStart } from "../../energy/days.ts";
import type { InfluxClient } from "../../lib/influx/index.ts";
import type { Logger } from "../../lib/log.ts";
import { createEnergyStore } from "../../registry/energy.ts";
import type { CommandConfig } from "../config.ts";
import type { DeviceMqttHandlers } from "../device-mqtt.ts";
import { type Clock, systemClock } from "../liveness/clock.ts";
import { energyRollupRoutes } from "../routes/energy-rollups.ts";
import { estimatorSource } from "./estimator-source.ts";
import { lampSource } from "./lamps.ts";
import { comeRoundAgain, createMarks, type Mark } from "./marks.ts";
import { energyMetrics } from "./metrics.ts";
import { planRebuild, type RebuildCheck } from "./rebuild.ts";
import { createReconciler, type Mismatch } from "./reconcile.ts";
import { createRoller, meterReadingReader, type RecomputeItem, type Span } from "./roller.ts";

export type EnergyServiceDeps = {
  db: DatabaseSync;
  influx: InfluxClient;
  config: Pick<CommandConfig, "energy">;
  log: Logger;
  metrics?: MetricsRegistry | undefined;
  clock?: Clock;
};

/** GET /v1/energy/rollups: the contract's status and the lamps that cannot be rolled up. */
export type EnergyStatus = RollupStatus;

export type EnergyService = {
  handlers: Pick<DeviceMqttHandlers, "activity">;
  routes: FastifyPluginAsync[];
  status(): EnergyStatus;
  /** Lamps announced or asked for and not rolled up yet (cheap: no SQL). */
  pendingLamps(): number;
  /** Checks a rebuild against the registry and queues it (the worker does it in the background). */
  rebuild(body: RollupRebuildBody): RebuildCheck;
  start(): void;
  stop(): Promise<void>;
};

/** Lamps recomputed or rebuilt per pass: one statement's worth (influx-readings.ts). */
const CHUNK = 200;
/**
 * How long a lamp's announced readings may be missing from InfluxDB before the reconcile sweep is left to them:
 * at least 12 passes and 5 minutes (an ingest draining its spool after an outage, InfluxDB a minute behind a
 * backfill), whatever the cycle's length.
 */
const MIN_ATTEMPTS = 12;
const MIN_WAIT_S = 300;

class Stopped extends Error {}

export function createEnergyService(deps: EnergyServiceDeps): EnergyService {
  const cfg = deps.config.energy;
  const maxAttempts = Math.max(MIN_ATTEMPTS, Math.ceil(MIN_WAIT_S / cfg.rollupIntervalS));
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ module: "energy" });
  const now = () => clock.now();
  const settleMs = cfg.settleS * 1000;
  const store = createEnergyStore(deps.db);
  const lamps = lampSource(deps.db);
  const marks = createMarks({ settleMs, maxWaitMs: Math.max(30_000, 6 * settleMs) });
  let stopping = false;
  const roller = createRoller({
    store,
    reader: meterReadingReader(deps.influx),
    options: { gapS: cfg.gapS, estimateMaxS: cfg.estimateMaxH * 3600, standbyW: cfg.standbyW },
    estimators: estimatorSource(deps.db, cfg.standbyW),
    now,
    pause: async () => {
      await new Promise((r) => setImmediate(r));
      if (stopping) throw new Stopped("stopping");
    },
  });
  const reconciler = createReconciler({ influx: deps.influx, store, days: cfg.reconcileDays, now });
  /** Marks taken by the pass under way (still pending for the status). */
  let inFlight = new Map<string, Mark>();
  /** Rebuilds waiting, by lamp (a lamp asked twice keeps the earlier start). */
  const rebuilds = new Map<string, RecomputeItem>();
  /** Streetlights heard from that have no wattages in the registry. */
  const withoutWattages = new Set<string>();
  const state = {
    lastCycleAt: undefined as number | undefined,
    lastReconcileAt: undefined as number | undefined,
    recomputedLampDays: 0,
  };

  /** Platform time up to which every announced reading is rolled up. */
  function completeThrough(): number | undefined {
    if (state.lastCycleAt === undefined) return undefined;
    let t = state.lastCycleAt - settleMs;
    for (const m of [...marks.values(), ...inFlight.values()]) t = Math.min(t, m.since);
    return t;
  }

  /** Lamps announced or asked for and not rolled up yet. */
  const pendingLamps = () => new Set([...marks.keys(), ...inFlight.keys(), ...rebuilds.keys()]).size;

  const metrics = energyMetrics(deps.metrics, () => {
    const t = completeThrough();
    return {
      pending: pendingLamps(),
      lagS: t === undefined ? undefined : Math.max(0, (now() - t) / 1000),
    };
  });

  function countRecomputed(outcomes: Map<string, { days: Set<string> }>, cause: string): void {
    let n = 0;
    for (const o of outcomes.values()) n += Math.max(1, o.days.size);
    state.recomputedLampDays += n;
    metrics.recomputed.inc({ cause }, n);
  }

  async function cycle(): Promise<void> {
    const started = now();
    inFlight = marks.take(started);
    const due = inFlight;
    try {
      const sel = lamps.byIds([...due.keys()]);
      for (const id of sel.withoutWattages) withoutWattages.add(id);
      const cursors = store.cursors(sel.lamps.map((l) => l.id));
      const late: RecomputeItem[] = [];
      const forward = sel.lamps.filter((lamp) => {
        withoutWattages.delete(lamp.id);
        const first = due.get(lamp.id)?.firstTs;
        const cursor = cursors.get(lamp.id);
        if (first === undefined || cursor === undefined || first > cursor.ts) return true;
        late.push({ lamp, afterMs: first });
        return false;
      });
      // What each lamp's digests announced: the pass counts how many of those it read (comeRoundAgain).
      const watch = new Map<string, Span>();
      for (const [id, m] of due)
        if (m.firstTs !== undefined && m.lastTs !== undefined)
          watch.set(id, { fromTs: m.firstTs, toTs: m.lastTs });
      const outcomes = [...(await roller.forward(forward, watch))];
      const recomputed = await roller.recompute(late, watch);
      outcomes.push(...recomputed);
      countRecomputed(recomputed, "late");
      metrics.lamps.inc({ path: "forward" }, forward.length);
      metrics.lamps.inc({ path: "recompute" }, late.length);
      // Announced readings not in InfluxDB yet (a slow write): the lamp comes round again.
      for (const [id, o] of outcomes) {
        if (o.error) {
          log.error({ err: o.error, deviceId: id }, "energy rollup of a lamp failed; it is left as it was");
          continue;
        }
        const m = due.get(id);
        const again = m && comeRoundAgain(m, o, now(), maxAttempts);
        if (again === "give_up")
          log.warn({ deviceId: id, lastTs: m?.lastTs }, "announced readings never appeared in InfluxDB");
        else if (again) marks.add(id, again);
      }
      state.lastCycleAt = started;
    } catch (err) {
      for (const [id, m] of due) marks.add(id, m);
      throw err;
    } finally {
      inFlight = new Map();
    }
  }

  async function recomputeInChunks(items: RecomputeItem[], cause: string): Promise<void> {
    for (let i = 0; i < items.length; i += CHUNK) {
      const done = await roller.recompute(items.slice(i, i + CHUNK));
      for (const [id, o] of done)
        if (o.error) log.error({ err: o.error, deviceId: id, cause }, "energy recompute of a lamp failed");
      countRecomputed(done, cause);
      metrics.lamps.inc({ path: "recompute" }, done.size);
    }
  }

  async function reconcile(): Promise<void> {
    const t = now();
    for (const id of await reconciler.neverRolled())
      if (!withoutWattages.has(id)) marks.add(id, { since: t, at: t, attempts: 0 });
    const found = await reconciler.sweep((id) => marks.has(id) || rebuilds.has(id));
    const sel = lamps.byIds(found.map((m) => m.id));
    const byId = new Map(found.map((m) => [m.id, m]));
    const items = sel.lamps.map((lamp) => ({ lamp, mismatch: byId.get(lamp.id) as Mismatch }));
    if (items.length > 0) {
      await recomputeInChunks(
        items.map((i) => ({ lamp: i.lamp, afterMs: dayStart(i.mismatch.day) })),
        "reconcile",
      );
      reconciler.recomputed(items.map((i) => i.mismatch));
      log.info(
        { lamps: items.length, first: found.slice(0, 5) },
        "reconcile: rollups recomputed where InfluxDB's counts differed",
      );
    }
    state.lastReconcileAt = now();
  }

  async function rebuildChunk(): Promise<void> {
    const chunk = [...rebuilds.values()].slice(0, CHUNK);
    await recomputeInChunks(chunk, "rebuild");
    for (const i of chunk) if (rebuilds.get(i.lamp.id) === i) rebuilds.delete(i.lamp.id);
  }

  /** Runs a pass, timing it; a failure is logged (once a minute while it lasts) and retried by the next tick. */
  const lastLogged = new Map<string, number>();
  async function step(kind: string, fn: () => Promise<void>): Promise<boolean> {
    const end = metrics.cycle.startTimer({ kind });
    try {
      await fn();
      if (lastLogged.delete(kind)) log.info({ kind }, "energy rollups: pass succeeded again");
      return true;
    } catch (err) {
      if (err instanceof Stopped) return false;
      metrics.failures.inc({ kind });
      const t = now();
      if (t - (lastLogged.get(kind) ?? Number.NEGATIVE_INFINITY) >= 60_000) {
        log.warn({ err, kind }, "energy rollups: pass failed; retried next cycle");
        lastLogged.set(kind, t);
      }
      return false;
    } finally {
      end();
    }
  }

  let wake: AbortController | undefined;
  let loop: Promise<void> | undefined;
  async function run(): Promise<void> {
    // At start every streetlight is rolled on from its cursor (readings that came while the service was down):
    // due at once (at 0), pending since now.
    const started = now();
    const all = lamps.all();
    for (const id of all.withoutWattages) withoutWattages.add(id);
    for (const lamp of all.lamps) marks.add(lamp.id, { since: started, at: 0, attempts: 0 });
    let nextReconcile = 0;
    while (!stopping) {
      await step("cycle", cycle);
      if (!stopping && cfg.reconcileDays > 0 && now() >= nextReconcile && state.lastCycleAt !== undefined) {
        const ok = await step("reconcile", reconcile);
        nextReconcile = now() + (ok ? cfg.reconcileIntervalS * 1000 : cfg.rollupIntervalS * 1000);
      }
      if (!stopping && rebuilds.size > 0 && (await step("rebuild", rebuildChunk)) && rebuilds.size > 0) {
        await new Promise((r) => setImmediate(r));
        continue; // more to rebuild: on at once (a cycle runs between chunks)
      }
      if (stopping) break;
      wake = new AbortController();
      await clock.sleep(cfg.rollupIntervalS * 1000, wake.signal).catch(() => undefined);
    }
  }

  const service: EnergyService = {
    handlers: {
      activity(digest) {
        const t = now();
        for (const d of digest.devices) {
          if (d.kind !== "streetlight" || d.accepted === 0) continue;
          marks.add(d.id, {
            since: t,
            at: t,
            firstTs: d.first_ts,
            lastTs: d.last_ts,
            accepted: d.accepted,
            attempts: 0,
          });
        }
      },
    },
    routes: [],
    pendingLamps,
    status() {
      const counts = store.counts();
      const t = completeThrough();
      const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
      return {
        lamps_with_data: counts.lampsWithData,
        pending_lamps: pendingLamps(),
        computed_through: counts.lampsWithData > 0 ? iso(t) : null,
        last_cycle_at: iso(state.lastCycleAt),
        last_reconcile_at: iso(state.lastReconcileAt),
        recomputed_lamp_days: state.recomputedLampDays,
        rows: counts.rows,
        lamps_without_wattages: withoutWattages.size,
      };
    },
    rebuild(body) {
      const plan = planRebuild(body, lamps, now());
      if (!plan.ok) return plan;
      const afterMs = dayStart(plan.from);
      for (const lamp of plan.lamps) {
        const have = rebuilds.get(lamp.id);
        rebuilds.set(lamp.id, { lamp, afterMs: Math.min(afterMs, have?.afterMs ?? afterMs) });
      }
      for (const id of plan.withoutWattages) withoutWattages.add(id);
      log.info({ from: plan.from, lamps: plan.lamps.length }, "energy rollups rebuild queued");
      wake?.abort();
      return plan;
    },
    start() {
      loop ??= run().catch((err: unknown) => {
        // Only the registry read before the first pass can get here (the passes catch their own failures).
        log.error({ err }, "energy rollups stopped: they could not start");
      });
    },
    async stop() {
      stopping = true;
      wake?.abort();
      await loop;
    },
  };
  service.routes.push(
    energyRollupRoutes({ status: () => service.status(), rebuild: (b) => service.rebuild(b) }),
  );
  return service;
}
