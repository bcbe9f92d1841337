// The commissioning engine: starts runs, executes their checks in order (each pending → running → passed |
// failed | skipped, with timestamps, a detail for the engineer and data), and ends them passed or failed.
// Runs survive nothing: a run left 'running' by a crash is cancelled at start-up (recover), a run whose device
// is replaced, decommissioned or given new credentials is cancelled and its waits stop at their next poll.
import type { DatabaseSync } from "node:sqlite";
import type { CheckStatus, DeviceRecord } from "../../contract/devices.ts";
import { createCommissioningStore, type RunRecord } from "../../registry/commissioning.ts";
import { isUnusable, unusableMessage, usable } from "../../registry/lifecycle.ts";
import { inTransaction } from "../../registry/sqlite.ts";
import { CHECKS, type CheckName, type CheckOutcome, checksFor, failed } from "./checks.ts";
import { createRunners, type RunContext, type RunnerDeps } from "./runners.ts";

export type EngineDeps = RunnerDeps & {
  db: DatabaseSync;
  /** Recorded as the actor of what the platform does by itself (ending a run, cancelling one on restart). */
  actor: string;
};

export type StartResult =
  | { ok: true; run: RunRecord }
  | { ok: false; reason: "not_found" | "decommissioned" | "run_in_progress"; message: string };

/** Thrown inside a run's waits when the run was cancelled (or the service stops): not a failure of a check. */
class RunCancelled extends Error {}

export type Engine = ReturnType<typeof createEngine>;

export function createEngine(deps: EngineDeps) {
  const { db, clock } = deps;
  const log = deps.log.child({ module: "commissioning" });
  const store = createCommissioningStore(db);
  const runners = createRunners({ ...deps, log });
  const deviceById = db.prepare("SELECT * FROM devices WHERE id = ?");
  const inflight = new Map<string, { abort: AbortController; done: Promise<void>; deviceId: string }>();
  const iso = () => new Date(clock.now()).toISOString();

  /** Throws RunCancelled once the run should not go on; cancels it itself when the credential changed. */
  function guard(runId: string, device: DeviceRecord, signal: AbortSignal): void {
    if (signal.aborted || !store.isRunning(runId)) throw new RunCancelled();
    const now = deviceById.get(device.id) as DeviceRecord | undefined;
    if (now && now.credential_generation !== device.credential_generation) {
      store.cancelRunning(device.id, deps.actor, "the device's credentials changed during the run", iso());
      throw new RunCancelled();
    }
  }

  async function execute(run: RunRecord, device: DeviceRecord, signal: AbortSignal): Promise<void> {
    const rlog = log.child({ deviceId: device.id, runId: run.id });
    deps.flushActivity();
    const ctx: RunContext = {
      runId: run.id,
      device,
      startedMs: Date.parse(run.started_at),
      baseAccepted: deps.activity.get(device.id)?.accepted_total ?? 0,
      readings: [],
      async waitFor(timeoutMs, everyMs, attempt) {
        const deadline = clock.now() + timeoutMs;
        for (;;) {
          guard(run.id, device, signal);
          const value = await attempt();
          if (value !== undefined) return value;
          const left = deadline - clock.now();
          if (left <= 0) return undefined;
          await clock.sleep(Math.min(everyMs, left), signal);
        }
      },
    };
    const results = new Map<CheckName, CheckStatus>();
    try {
      for (const check of run.checks) {
        const name = check.name as CheckName;
        guard(run.id, device, signal);
        const blocker = (CHECKS[name].needs as readonly CheckName[]).find((n) => results.get(n) !== "passed");
        if (blocker) {
          const detail = `not run: ${blocker} did not pass`;
          store.finishCheck(run.id, name, iso(), { status: "skipped", detail });
          results.set(name, "skipped");
          continue;
        }
        store.startCheck(run.id, name, iso());
        let outcome: CheckOutcome;
        try {
          outcome = await runners[name](ctx);
        } catch (err) {
          if (err instanceof RunCancelled || signal.aborted) throw err;
          rlog.error({ err, check: name }, "commissioning check failed with an error");
          outcome = failed(`the check could not run: ${(err as Error).message}`);
        }
        guard(run.id, device, signal); // cancelled meanwhile: leave the cancellation's words in place
        store.finishCheck(run.id, name, iso(), outcome);
        results.set(name, outcome.status);
        rlog.info({ check: name, status: outcome.status }, outcome.detail);
      }
      const ok = [...results.values()].every((s) => s === "passed");
      if (store.finish(run.id, ok ? "passed" : "failed", iso(), deps.actor))
        rlog.info({ status: ok ? "passed" : "failed" }, "commissioning run finished");
    } catch (err) {
      if (signal.aborted) {
        store.cancelRunning(device.id, deps.actor, String(signal.reason ?? "stopped"), iso());
        rlog.info({ reason: String(signal.reason) }, "commissioning run stopped");
      } else if (err instanceof RunCancelled) rlog.info("commissioning run cancelled");
      else {
        rlog.error({ err }, "commissioning run crashed");
        store.cancelRunning(device.id, deps.actor, `internal error: ${(err as Error).message}`, iso());
      }
    }
  }

  function launch(run: RunRecord, device: DeviceRecord): void {
    const abort = new AbortController();
    const done = execute(run, device, abort.signal).finally(() => inflight.delete(run.id));
    inflight.set(run.id, { abort, done, deviceId: device.id });
  }

  return {
    store,
    device: (id: string) => deviceById.get(id) as DeviceRecord | undefined,

    /** Starts a run on the device (or re-runs it); refused when one is running or the device is gone. */
    start(deviceId: string, actor: string): StartResult {
      const started = inTransaction(db, (): StartResult & { device?: DeviceRecord } => {
        const device = usable(deviceId, deviceById.get(deviceId) as DeviceRecord | undefined);
        if (isUnusable(device)) return { ok: false, reason: device.reason, message: unusableMessage(device) };
        const running = store.running(deviceId);
        if (running)
          return {
            ok: false,
            reason: "run_in_progress",
            message: `run ${running.id} started at ${running.started_at} by ${running.started_by} is in progress`,
          };
        const checks = checksFor(device.kind);
        const run = store.create({
          deviceId,
          generation: device.credential_generation,
          actor,
          at: iso(),
          checks,
        });
        return { ok: true, run, device };
      });
      if (started.ok && started.device) {
        launch(started.run, started.device);
        log.info({ deviceId, runId: started.run.id, actor }, "commissioning run started");
      }
      const { device: _d, ...result } = started;
      return result as StartResult;
    },

    /** Cancels the device's running run (and stops its waits now); the lifecycle's own cancellation is seen at the next poll. */
    cancel(deviceId: string, actor: string, reason: string): string[] {
      const ids = store.cancelRunning(deviceId, actor, reason, iso());
      for (const [, r] of inflight) if (r.deviceId === deviceId) r.abort.abort(reason);
      return ids;
    },

    /** At start-up: a run left 'running' by a crash cannot go on (its waits died with the process). */
    recover(): number {
      const n = store.cancelAllRunning(deps.actor, "the command service restarted during the run", iso());
      if (n > 0) log.warn({ runs: n }, "commissioning runs interrupted by a restart were cancelled");
      return n;
    },

    /** Runs executing now. */
    active: () => inflight.size,

    /** Resolves when no run is executing (tests). */
    async idle(): Promise<void> {
      while (inflight.size > 0) await Promise.all([...inflight.values()].map((r) => r.done));
    },

    /** Stops every executing run (cancelled: "the command service stopped during the run"). */
    async stop(): Promise<void> {
      for (const r of inflight.values()) r.abort.abort("the command service stopped during the run");
      await Promise.all([...inflight.values()].map((r) => r.done));
    },
  };
}
