// Commissioning runs and their checks (commissioning_runs, commissioning_checks), and the device status changes
// commissioning owns (registered → connected on the first connection, → commissioned on sign-off). Every change
// is recorded through the audit store (audit.ts: device_audit, device_changes, access_changes) in its transaction.
import { randomUUID } from "node:crypto";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { CheckStatus, DeviceStatus, RunStatus } from "../contract/devices.ts";
import { type AuditStore, createAuditStore, type DeviceAction } from "./audit.ts";
import { isUnusable, unusableMessage, usable } from "./lifecycle.ts";
import { inTransaction, statementCache } from "./sqlite.ts";

export type CheckRecord = {
  name: string;
  status: CheckStatus;
  started_at: string | null;
  finished_at: string | null;
  detail: string | null;
  data: Record<string, unknown> | null;
};

export type RunRecord = {
  id: string;
  device_id: string;
  /** The device's credential generation when the run started; sign-off requires it unchanged. */
  generation: number;
  status: RunStatus;
  started_at: string;
  started_by: string;
  finished_at: string | null;
  signed_off_at: string | null;
  signed_off_by: string | null;
  note: string | null;
  checks: CheckRecord[];
};

export type CheckOutcome = {
  status: "passed" | "failed" | "skipped";
  detail: string;
  data?: Record<string, unknown> | undefined;
};

export type StatusMove = {
  id: string;
  from: readonly DeviceStatus[];
  to: DeviceStatus;
  actor: string;
  at: string;
  action: DeviceAction;
  detail?: Record<string, unknown>;
  /** An extra SQL condition on the devices row (its caller's constant text: one statement is kept per text). */
  when?: string;
  whenParams?: readonly SQLInputValue[];
};

/**
 * Moves a device from one of `from` to `to` (and, if given, only when the extra SQL condition `when` on the
 * devices row holds). Returns whether it moved; a move is audited as `action` with detail {status: {from, to}}.
 * Build it once per store: presence events call it for every connection.
 */
export function createStatusMover(db: DatabaseSync, audit: AuditStore): (t: StatusMove) => boolean {
  const statusOf = db.prepare("SELECT status FROM devices WHERE id = ?");
  const updateOf = statementCache(db);
  return (t) =>
    inTransaction(db, () => {
      const before = statusOf.get(t.id) as { status: DeviceStatus } | undefined;
      if (!before || !t.from.includes(before.status)) return false;
      const moved = updateOf(
        `UPDATE devices SET status = ?, updated_at = ? WHERE id = ? AND status = ?${t.when ? ` AND ${t.when}` : ""}`,
      ).run(t.to, t.at, t.id, before.status, ...(t.whenParams ?? []));
      if (Number(moved.changes) === 0) return false;
      audit.record({
        id: t.id,
        actor: t.actor,
        action: t.action,
        at: t.at,
        detail: { status: { from: before.status, to: t.to }, ...t.detail },
        access: true,
      });
      return true;
    });
}

type RunRow = Omit<RunRecord, "checks">;

export type SignOff =
  | { ok: true; run: RunRecord }
  | { ok: false; reason: "not_found" | "decommissioned" | "not_passed"; message: string };
type CheckRow = Omit<CheckRecord, "data"> & { run_id: string; position: number; data: string | null };

export type CommissioningStore = ReturnType<typeof createCommissioningStore>;

export function createCommissioningStore(db: DatabaseSync) {
  const audit = createAuditStore(db);
  const transitionStatus = createStatusMover(db, audit);
  const runById = db.prepare("SELECT * FROM commissioning_runs WHERE id = ?");
  const checksOf = db.prepare("SELECT * FROM commissioning_checks WHERE run_id = ? ORDER BY position");
  const latest = db.prepare(
    "SELECT * FROM commissioning_runs WHERE device_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
  );
  const all = db.prepare(
    "SELECT * FROM commissioning_runs WHERE device_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
  );
  const running = db.prepare("SELECT * FROM commissioning_runs WHERE device_id = ? AND status = 'running'");
  const allRunning = db.prepare("SELECT * FROM commissioning_runs WHERE status = 'running'");
  const insertRun = db.prepare(
    `INSERT INTO commissioning_runs (id, device_id, generation, status, started_at, started_by)
     VALUES (?, ?, ?, 'running', ?, ?)`,
  );
  const insertCheck = db.prepare(
    "INSERT INTO commissioning_checks (run_id, name, position, status) VALUES (?, ?, ?, 'pending')",
  );
  const setCheck = db.prepare(
    `UPDATE commissioning_checks SET status = ?, started_at = COALESCE(started_at, ?), finished_at = ?,
       detail = ?, data = ? WHERE run_id = ? AND name = ?`,
  );
  const endRun = db.prepare("UPDATE commissioning_runs SET status = ?, finished_at = ? WHERE id = ?");
  const cancelRun = db.prepare(
    "UPDATE commissioning_runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'running'",
  );
  const skipUnfinished = db.prepare(
    `UPDATE commissioning_checks SET status = 'skipped', finished_at = ?, detail = ?
      WHERE run_id = ? AND status IN ('pending', 'running')`,
  );
  const signRun = db.prepare(
    "UPDATE commissioning_runs SET signed_off_at = ?, signed_off_by = ?, note = ? WHERE id = ?",
  );
  const deviceOf = db.prepare("SELECT status, credential_generation FROM devices WHERE id = ?");

  function withChecks(row: RunRow | undefined): RunRecord | undefined {
    if (!row) return undefined;
    const checks = (checksOf.all(row.id) as CheckRow[]).map(
      ({ run_id: _r, position: _p, data, ...c }): CheckRecord => ({
        ...c,
        data: data === null ? null : (JSON.parse(data) as Record<string, unknown>),
      }),
    );
    return { ...row, checks };
  }

  /** Marks a run cancelled, its unfinished checks skipped with `detail`; false if it was not running. */
  function cancel(run: RunRow, actor: string, detail: string, at: string): boolean {
    return inTransaction(db, () => {
      if (Number(cancelRun.run(at, run.id).changes) === 0) return false;
      skipUnfinished.run(at, `cancelled: ${detail}`, run.id);
      audit.record({
        id: run.device_id,
        actor,
        action: "commissioning_finished",
        at,
        detail: { run_id: run.id, status: "cancelled", reason: detail },
        access: false,
      });
      return true;
    });
  }

  return {
    get: (id: string) => withChecks(runById.get(id) as RunRow | undefined),
    latest: (deviceId: string) => withChecks(latest.get(deviceId) as RunRow | undefined),
    list: (deviceId: string, limit = 100) =>
      (all.all(deviceId, limit) as RunRow[]).map((r) => withChecks(r) as RunRecord),
    running: (deviceId: string) => running.get(deviceId) as RunRow | undefined,
    isRunning: (runId: string) => (runById.get(runId) as RunRow | undefined)?.status === "running",

    create(r: {
      deviceId: string;
      generation: number;
      actor: string;
      at: string;
      checks: readonly string[];
    }) {
      const id = randomUUID();
      inTransaction(db, () => {
        insertRun.run(id, r.deviceId, r.generation, r.at, r.actor);
        for (const [i, name] of r.checks.entries()) insertCheck.run(id, name, i);
        audit.record({
          id: r.deviceId,
          actor: r.actor,
          action: "commissioning_started",
          at: r.at,
          detail: { run_id: id, checks: r.checks, generation: r.generation },
          access: false,
        });
      });
      return withChecks(runById.get(id) as RunRow) as RunRecord;
    },

    startCheck(runId: string, name: string, at: string): void {
      setCheck.run("running", at, null, null, null, runId, name);
    },

    finishCheck(runId: string, name: string, at: string, o: CheckOutcome): void {
      setCheck.run(o.status, at, at, o.detail, o.data ? JSON.stringify(o.data) : null, runId, name);
    },

    /** Ends a running run as passed or failed (audited); false if it is no longer running (cancelled). */
    finish(runId: string, status: "passed" | "failed", at: string, actor: string): boolean {
      return inTransaction(db, () => {
        const run = runById.get(runId) as RunRow | undefined;
        if (run?.status !== "running") return false;
        endRun.run(status, at, runId);
        const failed = (checksOf.all(runId) as CheckRow[]).filter((c) => c.status === "failed");
        audit.record({
          id: run.device_id,
          actor,
          action: "commissioning_finished",
          at,
          detail: { run_id: runId, status, failed: failed.map((c) => c.name) },
          access: false,
        });
        return true;
      });
    },

    cancelRunning(deviceId: string, actor: string, detail: string, at: string): string[] {
      const rows = running.all(deviceId) as RunRow[];
      return rows.filter((r) => cancel(r, actor, detail, at)).map((r) => r.id);
    },

    /** At start-up: runs a crash left 'running' cannot go on (their waits died with the process). */
    cancelAllRunning(actor: string, detail: string, at: string): number {
      const rows = allRunning.all() as RunRow[];
      return rows.filter((r) => cancel(r, actor, detail, at)).length;
    },

    /**
     * Signs the device's latest run off and makes the device commissioned, if that run passed, was not signed off
     * yet and was made with the credential still live (a rotation or replacement since means another
     * controller or secret: run again). All in one transaction.
     */
    signOff(deviceId: string, actor: string, note: string | null, at: string): SignOff {
      return inTransaction(db, () => {
        const device = usable(
          deviceId,
          deviceOf.get(deviceId) as { status: DeviceStatus; credential_generation: number } | undefined,
        );
        if (isUnusable(device)) return { ok: false, reason: device.reason, message: unusableMessage(device) };
        const run = latest.get(deviceId) as RunRow | undefined;
        const refuse = (message: string): SignOff => ({ ok: false, reason: "not_passed", message });
        if (!run) return refuse(`device ${deviceId} has no commissioning run`);
        if (run.status !== "passed") return refuse(`the latest commissioning run is ${run.status}`);
        if (run.signed_off_at) return refuse(`the latest run was already signed off by ${run.signed_off_by}`);
        if (run.generation !== device.credential_generation)
          return refuse(
            `the device's credentials changed since the run (generation ${run.generation} → ${device.credential_generation}); run it again`,
          );
        signRun.run(at, actor, note, run.id);
        const detail = { run_id: run.id, ...(note ? { note } : {}) };
        const moved = transitionStatus({
          id: deviceId,
          from: ["registered", "connected"],
          to: "commissioned",
          actor,
          at,
          action: "commissioned",
          detail,
        });
        // A re-run of a commissioned device: the sign-off is recorded, the status stays.
        if (!moved) audit.record({ id: deviceId, actor, action: "commissioned", at, detail, access: false });
        return { ok: true, run: withChecks(runById.get(run.id) as RunRow) as RunRecord };
      });
    },
  };
}
