// Commissioning runs and their checks (commissioning_runs, commissioning_checks), and the device status changes
// commissioning owns (registered → connected on the first connection, → commissioned on sign-off). Every change
// is recorded through the audit store (audit.ts: device_audit, device_changes, access_changes) in its transaction.
import { randomUUID } from "node:crypto";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { DeviceStatus } from "../contract/devices.ts";
import { createAuditStore, type DeviceAction } from "./audit.ts";

export const RUN_STATUSES = ["running", "passed", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const CHECK_STATUSES = ["pending", "running", "passed", "failed", "skipped"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

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

/**
 * Runs `fn` in a write transaction, or inside the caller's when one is open (so that these store calls compose
 * with the lifecycle's transactions; store.ts's inTransaction always opens its own).
 */
export function atomically<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

/**
 * Moves a device from one of `from` to `to` (and, if given, only when the extra SQL condition `when` on the
 * devices row holds). Returns whether it moved; a move is audited as `action` with detail {status: {from, to}}.
 */
export function transitionStatus(
  db: DatabaseSync,
  t: {
    id: string;
    from: readonly DeviceStatus[];
    to: DeviceStatus;
    actor: string;
    at: string;
    action: DeviceAction;
    detail?: Record<string, unknown>;
    when?: string;
    whenParams?: readonly SQLInputValue[];
  },
): boolean {
  return atomically(db, () => {
    const before = db.prepare("SELECT status FROM devices WHERE id = ?").get(t.id) as
      | { status: DeviceStatus }
      | undefined;
    if (!before || !t.from.includes(before.status)) return false;
    const moved = db
      .prepare(
        `UPDATE devices SET status = ?, updated_at = ? WHERE id = ? AND status = ?${t.when ? ` AND ${t.when}` : ""}`,
      )
      .run(t.to, t.at, t.id, before.status, ...(t.whenParams ?? []));
    if (Number(moved.changes) === 0) return false;
    createAuditStore(db).record({
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
  const runById = db.prepare("SELECT * FROM commissioning_runs WHERE id = ?");
  const checksOf = db.prepare("SELECT * FROM commissioning_checks WHERE run_id = ? ORDER BY position");
  const latest = db.prepare(
    "SELECT * FROM commissioning_runs WHERE device_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
  );
  const all = db.prepare(
    "SELECT * FROM commissioning_runs WHERE device_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
  );
  const running = db.prepare("SELECT * FROM commissioning_runs WHERE device_id = ? AND status = 'running'");
  const setCheck = db.prepare(
    `UPDATE commissioning_checks SET status = ?, started_at = COALESCE(started_at, ?), finished_at = ?,
       detail = ?, data = ? WHERE run_id = ? AND name = ?`,
  );

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
    return atomically(db, () => {
      const r = db
        .prepare(
          "UPDATE commissioning_runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'running'",
        )
        .run(at, run.id);
      if (Number(r.changes) === 0) return false;
      db.prepare(
        `UPDATE commissioning_checks SET status = 'skipped', finished_at = ?, detail = ?
          WHERE run_id = ? AND status IN ('pending', 'running')`,
      ).run(at, `cancelled: ${detail}`, run.id);
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
      atomically(db, () => {
        db.prepare(
          `INSERT INTO commissioning_runs (id, device_id, generation, status, started_at, started_by)
           VALUES (?, ?, ?, 'running', ?, ?)`,
        ).run(id, r.deviceId, r.generation, r.at, r.actor);
        const insert = db.prepare(
          "INSERT INTO commissioning_checks (run_id, name, position, status) VALUES (?, ?, ?, 'pending')",
        );
        for (const [i, name] of r.checks.entries()) insert.run(id, name, i);
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
      return atomically(db, () => {
        const run = runById.get(runId) as RunRow | undefined;
        if (run?.status !== "running") return false;
        db.prepare("UPDATE commissioning_runs SET status = ?, finished_at = ? WHERE id = ?").run(
          status,
          at,
          runId,
        );
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
      const rows = db
        .prepare("SELECT * FROM commissioning_runs WHERE device_id = ? AND status = 'running'")
        .all(deviceId) as RunRow[];
      return rows.filter((r) => cancel(r, actor, detail, at)).map((r) => r.id);
    },

    /** At start-up: runs a crash left 'running' cannot go on (their waits died with the process). */
    cancelAllRunning(actor: string, detail: string, at: string): number {
      const rows = db.prepare("SELECT * FROM commissioning_runs WHERE status = 'running'").all() as RunRow[];
      return rows.filter((r) => cancel(r, actor, detail, at)).length;
    },

    /**
     * Signs the device's latest run off and makes the device commissioned, if that run passed, was not signed off
     * yet and was made with the credential still live (a rotation or replacement since means another
     * controller or secret: run again). All in one transaction.
     */
    signOff(deviceId: string, actor: string, note: string | null, at: string): SignOff {
      return atomically(db, () => {
        const device = db
          .prepare("SELECT status, credential_generation FROM devices WHERE id = ?")
          .get(deviceId) as { status: DeviceStatus; credential_generation: number } | undefined;
        if (!device) return { ok: false, reason: "not_found", message: `device ${deviceId} not found` };
        if (device.status === "decommissioned")
          return { ok: false, reason: "decommissioned", message: `device ${deviceId} is decommissioned` };
        const run = latest.get(deviceId) as RunRow | undefined;
        const refuse = (message: string): SignOff => ({ ok: false, reason: "not_passed", message });
        if (!run) return refuse(`device ${deviceId} has no commissioning run`);
        if (run.status !== "passed") return refuse(`the latest commissioning run is ${run.status}`);
        if (run.signed_off_at) return refuse(`the latest run was already signed off by ${run.signed_off_by}`);
        if (run.generation !== device.credential_generation)
          return refuse(
            `the device's credentials changed since the run (generation ${run.generation} → ${device.credential_generation}); run it again`,
          );
        db.prepare(
          "UPDATE commissioning_runs SET signed_off_at = ?, signed_off_by = ?, note = ? WHERE id = ?",
        ).run(at, actor, note, run.id);
        const detail = { run_id: run.id, ...(note ? { note } : {}) };
        const moved = transitionStatus(db, {
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
