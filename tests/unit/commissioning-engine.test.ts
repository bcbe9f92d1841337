// The commissioning engine's orchestration with a manual clock: an in-memory registry, the real liveness
// tracker, and in-process stand-ins for InfluxDB (readings stored by a fake lamp) and for the device's acks.
// The waits, the order of checks, skipping what depends on a failed check, cancellation and sign-off.
import type { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ReadingRow } from "../../services/command/commissioning/checks.ts";
import { createEngine, type Engine } from "../../services/command/commissioning/engine.ts";
import type { ReadingsProbe } from "../../services/command/commissioning/probe.ts";
import type { CommandRequest, CommandResult } from "../../services/command/device-mqtt.ts";
import { type ManualClock, manualClock } from "../../services/command/liveness/clock.ts";
import { createLivenessTracker, type LivenessTracker } from "../../services/command/liveness/tracker.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { createCredentialStore } from "../../services/registry/credentials.ts";
import { openRegistryDb } from "../../services/registry/store.ts";

const T0 = Date.UTC(2026, 2, 1, 21, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const INTERVAL = 10;

let db: DatabaseSync;
let clock: ManualClock;
let liveness: LivenessTracker;
let engine: Engine;
let lamp: ReturnType<typeof fakeLamp>;

/** A streetlight that reports every INTERVAL s and answers commands after 100 ms. */
function fakeLamp(id: string, opts: { followsDim?: boolean; acks?: boolean } = {}) {
  const stored: ReadingRow[] = [];
  let level = 100;
  let seq = 0;
  let stop: (() => void) | undefined;
  const sent: CommandRequest[] = [];
  return {
    stored,
    sent,
    connect() {
      liveness.handlers.presence({ id, kind: "streetlight", online: true, at: iso(clock.now()) });
      liveness.handlers.state(id, true, false, iso(clock.now()));
      stop = clock.every(INTERVAL * 1000, () => {
        const power = opts.followsDim === false ? 90 : 0.5 + 90 * (0.04 + 0.96 * (level / 100));
        stored.push({
          time: clock.now(),
          device_id: id,
          dim_pct: level,
          power_w: power,
          lamp_ok: true,
          seq: seq++,
        });
        const now = clock.now();
        liveness.handlers.activity({
          at: now,
          devices: [{ id, kind: "streetlight", received_at: now, last_ts: now, accepted: 1, rejected: 0 }],
        });
      });
    },
    disconnect: () => stop?.(),
    async answer(req: CommandRequest, timeoutMs: number): Promise<CommandResult> {
      sent.push(req);
      const command = {
        id: `cmd-${sent.length}`,
        issued_at: iso(clock.now()),
        ...req,
      } as CommandResult["command"];
      if (opts.acks === false) {
        await clock.sleep(timeoutMs);
        return { ok: false, command, reason: "timeout", detail: `no ack within ${timeoutMs / 1000} s` };
      }
      await clock.sleep(100);
      if (req.cmd === "dim") level = req.level_pct;
      const ts = clock.now();
      return { ok: true, command, ack: { id: command.id, status: "ok", ts }, receivedAt: ts, latencyMs: 100 };
    },
  };
}

function seed(id: string, kind = "streetlight", extra = "") {
  db.prepare(
    `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, led_watts, legacy_watts,
       status, credential_generation, created_at, updated_at)
     VALUES (?, ?, 'Anfa', 33.59, -7.65, '2025-01-01', ?, 90, 295, 'registered', 1, ?, ?)${extra}`,
  ).run(id, kind, INTERVAL, iso(T0 - 60_000), iso(T0 - 60_000));
  db.prepare(
    `INSERT INTO device_credentials (device_id, generation, secret_hash, created_at, created_by)
     VALUES (?, 1, 'scrypt$x', ?, 'test')`,
  ).run(id, iso(T0 - 60_000));
}

function build(device: ReturnType<typeof fakeLamp>) {
  const probe: ReadingsProbe = {
    readingsSince: async (_k, _id, since, limit) =>
      device.stored.filter((r) => r.time >= since).slice(0, limit),
    latestReading: async () => device.stored.at(-1),
    rejectsSince: async () => ({ total: 0, by_reason: {} }),
    latestRejects: async () => [],
  };
  return createEngine({
    db,
    actor: "svc-command",
    activity: liveness.store,
    credentials: createCredentialStore(db),
    flushActivity: liveness.flush,
    probe,
    commands: { sendCommand: (_d, req, timeoutMs) => device.answer(req, timeoutMs) },
    config: { readings: 3, connectTimeoutS: 60, ackTimeoutS: 5 },
    clock,
    log: silentLogger(),
  });
}

/** Advances the clock until the engine has nothing running (or `maxS` passed). */
async function runToEnd(maxS = 600) {
  for (let s = 0; s < maxS; s++) {
    if (engine.active() === 0) return;
    await clock.advance(1000);
  }
  throw new Error("the run did not end");
}

const status = (id: string) =>
  (db.prepare("SELECT status FROM devices WHERE id = ?").get(id) as { status: string }).status;
const checks = (id: string) =>
  Object.fromEntries((engine.store.latest(id)?.checks ?? []).map((c) => [c.name, c.status]));

beforeEach(() => {
  db = openRegistryDb(":memory:");
  clock = manualClock(T0);
  liveness = createLivenessTracker({
    db,
    log: silentLogger(),
    clock,
    silentAfterIntervals: 3,
    actor: "svc-command",
  });
});
afterEach(async () => {
  await engine?.stop();
  lamp?.disconnect();
});

describe("a streetlight's commissioning", () => {
  it("passes every check in order, then sign-off makes it commissioned", async () => {
    seed("sl-1");
    lamp = fakeLamp("sl-1");
    engine = build(lamp);
    const started = engine.start("sl-1", "eng-ana");
    expect(started.ok).toBe(true);
    expect(engine.store.latest("sl-1")?.checks.map((c) => [c.name, c.status])).toEqual(
      ["connection", "state", "readings", "plausibility", "location", "identify", "test_dim"].map((n) => [
        n,
        expect.any(String),
      ]),
    );
    await clock.advance(3000);
    lamp.connect(); // the engineer powers the controller up after starting the run
    await runToEnd();
    const run = engine.store.latest("sl-1");
    expect(run?.status).toBe("passed");
    expect(run?.checks.every((c) => c.status === "passed" && c.started_at && c.finished_at)).toBe(true);
    expect(run?.checks.find((c) => c.name === "readings")?.detail).toBe(
      "3 readings, gaps 10 s (expected 10 s)",
    );
    expect(run?.checks.find((c) => c.name === "test_dim")?.detail).toMatch(
      /^ack ok in 100 ms \(for 60 s\); reading at 21:00:\d\d: 30 % → 30 W \(expected 21\.6–43\.4 W\)$/,
    );
    expect(lamp.sent).toEqual([
      { cmd: "identify", duration_s: 10 },
      { cmd: "dim", level_pct: 30, duration_s: 60, reason: "commissioning test dim" },
    ]);
    expect(status("sl-1")).toBe("connected");
    const signed = engine.store.signOff("sl-1", "eng-ana", "pole 14", iso(clock.now()));
    expect(signed).toMatchObject({ ok: true, run: { signed_off_by: "eng-ana", note: "pole 14" } });
    expect(status("sl-1")).toBe("commissioned");
    const actions = db
      .prepare("SELECT actor, action FROM device_audit WHERE device_id = 'sl-1' ORDER BY seq")
      .all();
    expect(actions.map((a) => `${a.actor}:${a.action}`)).toEqual([
      "eng-ana:commissioning_started",
      "svc-command:connected",
      "svc-command:commissioning_finished",
      "eng-ana:commissioned",
    ]);
    expect(engine.store.signOff("sl-1", "eng-ana", null, iso(clock.now()))).toMatchObject({
      ok: false,
      reason: "not_passed",
    });
  });

  it("a lamp whose power does not follow the dim fails test_dim only, and stays connected", async () => {
    seed("sl-2");
    lamp = fakeLamp("sl-2", { followsDim: false });
    engine = build(lamp);
    lamp.connect();
    engine.start("sl-2", "eng-ana");
    await runToEnd();
    expect(engine.store.latest("sl-2")?.status).toBe("failed");
    expect(checks("sl-2")).toMatchObject({
      readings: "passed",
      plausibility: "passed",
      identify: "passed",
      test_dim: "failed",
    });
    expect(engine.store.latest("sl-2")?.checks.find((c) => c.name === "test_dim")?.detail).toContain(
      "seen: 30 % → 90 W",
    );
    expect(status("sl-2")).toBe("connected");
    expect(engine.store.signOff("sl-2", "eng-ana", null, iso(clock.now()))).toMatchObject({
      ok: false,
      reason: "not_passed",
      message: "the latest commissioning run is failed",
    });
  });

  it("a device that never connects: dependent checks skipped, location still judged", async () => {
    seed("sl-3");
    lamp = fakeLamp("sl-3");
    engine = build(lamp);
    engine.start("sl-3", "eng-ana");
    await runToEnd();
    expect(checks("sl-3")).toEqual({
      connection: "failed",
      state: "skipped",
      readings: "skipped",
      plausibility: "skipped",
      location: "passed",
      identify: "skipped",
      test_dim: "skipped",
    });
    expect(engine.store.latest("sl-3")?.checks[0]?.detail).toContain("not connected within 60 s");
    expect(status("sl-3")).toBe("registered");
  });

  it("refuses a second run while one runs, and any run on a decommissioned device", () => {
    seed("sl-4");
    seed("sl-5");
    db.prepare("UPDATE devices SET status = 'decommissioned' WHERE id = 'sl-5'").run();
    lamp = fakeLamp("sl-4");
    engine = build(lamp);
    expect(engine.start("sl-4", "a").ok).toBe(true);
    expect(engine.start("sl-4", "a")).toMatchObject({ ok: false, reason: "run_in_progress" });
    expect(engine.start("sl-5", "a")).toMatchObject({ ok: false, reason: "decommissioned" });
    expect(engine.start("nope", "a")).toMatchObject({ ok: false, reason: "not_found" });
  });
});

describe("runs survive nothing", () => {
  it("stops waiting once the lifecycle cancelled the run in the database (replacement)", async () => {
    seed("sl-6");
    lamp = fakeLamp("sl-6");
    engine = build(lamp);
    engine.start("sl-6", "eng");
    await clock.advance(2000);
    db.prepare(
      "UPDATE commissioning_runs SET status = 'cancelled', finished_at = ? WHERE device_id = 'sl-6'",
    ).run(iso(clock.now()));
    await clock.advance(1000);
    await engine.idle();
    expect(engine.store.latest("sl-6")?.status).toBe("cancelled");
  });

  it("cancels itself when the credentials change during the run", async () => {
    seed("sl-7");
    lamp = fakeLamp("sl-7");
    engine = build(lamp);
    engine.start("sl-7", "eng");
    await clock.advance(2000);
    db.prepare("UPDATE devices SET credential_generation = 2 WHERE id = 'sl-7'").run();
    await clock.advance(1000);
    await engine.idle();
    const run = engine.store.latest("sl-7");
    expect(run?.status).toBe("cancelled");
    expect(run?.checks[0]).toMatchObject({
      status: "skipped",
      detail: "cancelled: the device's credentials changed during the run",
    });
  });

  it("engine.cancel stops a run at once; recover cancels runs a crash left running", async () => {
    seed("sl-8");
    lamp = fakeLamp("sl-8");
    engine = build(lamp);
    engine.start("sl-8", "eng");
    expect(engine.cancel("sl-8", "eng", "device replaced")).toHaveLength(1);
    await engine.idle();
    expect(engine.store.latest("sl-8")?.status).toBe("cancelled");
    // A run the previous process left running:
    engine.store.create({
      deviceId: "sl-8",
      generation: 1,
      actor: "eng",
      at: iso(clock.now()),
      checks: ["connection"],
    });
    expect(build(lamp).recover()).toBe(1);
    expect(engine.store.latest("sl-8")).toMatchObject({
      status: "cancelled",
      checks: [{ status: "skipped", detail: "cancelled: the command service restarted during the run" }],
    });
  });
});
