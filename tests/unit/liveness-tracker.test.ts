// Liveness from presence, state and digests into device_activity (an in-memory registry, no broker): the first
// connection with the live credential moves a device to connected (audited, fed), late and takeover events do
// not flip a device offline, digests add up, and the sweep (driven by a manual clock) counts and logs silent devices.
import type { DatabaseSync } from "node:sqlite";
import { pino } from "pino";
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import { manualClock } from "../../services/command/liveness/clock.ts";
import { createLivenessTracker } from "../../services/command/liveness/tracker.ts";
import type { PresenceEvent } from "../../services/contract/platform.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { openRegistryDb } from "../../services/registry/store.ts";

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
let db: DatabaseSync;

function seed(id: string, opts: { generation?: number; credentialAt?: number; interval?: number } = {}) {
  const generation = opts.generation ?? 1;
  db.prepare(
    `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, led_watts, legacy_watts,
       status, credential_generation, created_at, updated_at)
     VALUES (?, 'streetlight', 'Anfa', 33.59, -7.65, '2025-01-01', ?, 90, 295, 'registered', ?, ?, ?)`,
  ).run(id, opts.interval ?? 10, generation, iso(T0 - 60_000), iso(T0 - 60_000));
  if (generation > 0)
    db.prepare(
      `INSERT INTO device_credentials (device_id, generation, secret_hash, created_at, created_by)
       VALUES (?, ?, 'scrypt$x', ?, 'test')`,
    ).run(id, generation, iso(opts.credentialAt ?? T0 - 60_000));
}

const online = (id: string, at: number): PresenceEvent => ({
  id,
  kind: "streetlight",
  online: true,
  at: iso(at),
});
const offline = (
  id: string,
  at: number,
  reason: PresenceEvent["reason"] = "connection_lost",
): PresenceEvent => ({
  id,
  kind: "streetlight",
  online: false,
  at: iso(at),
  reason,
});
const status = (id: string) =>
  (db.prepare("SELECT status FROM devices WHERE id = ?").get(id) as { status: string }).status;

function tracker(clock = manualClock(T0), metrics?: Registry, log = silentLogger()) {
  const changed: string[][] = [];
  const t = createLivenessTracker({
    db,
    log,
    clock,
    silentAfterIntervals: 3,
    actor: "svc-command",
    metrics,
    onRegistryChange: (ids) => changed.push(ids),
  });
  return { t, changed, clock };
}

beforeEach(() => {
  db = openRegistryDb(":memory:");
});

describe("presence", () => {
  it("a first connection with the live credential makes the device connected, audited and fed once", () => {
    seed("sl-1");
    const { t, changed } = tracker();
    t.handlers.presence(online("sl-1", T0));
    t.flush();
    expect(status("sl-1")).toBe("connected");
    expect(changed).toEqual([["sl-1"]]);
    const audit = db.prepare("SELECT actor, action, detail FROM device_audit WHERE device_id = 'sl-1'").all();
    expect(audit).toEqual([
      expect.objectContaining({
        actor: "svc-command",
        action: "connected",
        detail: expect.stringContaining('"to":"connected"'),
      }),
    ]);
    expect(db.prepare("SELECT op FROM device_changes WHERE device_id = 'sl-1'").all()).toEqual([
      { op: "upsert" },
    ]);
    t.handlers.presence(offline("sl-1", T0 + 1000));
    t.handlers.presence(online("sl-1", T0 + 2000));
    t.flush();
    expect(changed).toHaveLength(1);
    expect(t.store.get("sl-1")).toMatchObject({
      online: 1,
      connected_at: iso(T0 + 2000),
      disconnected_at: iso(T0 + 1000),
    });
  });

  it("no live credential (generation 0), or a session older than the credential: stays registered", () => {
    seed("sl-none", { generation: 0 });
    seed("sl-new", { credentialAt: T0 + 5000 });
    const { t } = tracker();
    t.handlers.presence(online("sl-none", T0));
    t.handlers.presence(online("sl-new", T0));
    t.flush();
    expect([status("sl-none"), status("sl-new")]).toEqual(["registered", "registered"]);
    expect(t.store.get("sl-new")?.online).toBe(1);
  });

  it("ignores unknown devices, late events of an older session and a takeover's offline", () => {
    seed("sl-1");
    const { t } = tracker();
    t.handlers.presence(online("nobody", T0));
    t.handlers.presence(online("sl-1", T0 + 2000));
    t.handlers.presence(offline("sl-1", T0 + 1000)); // the previous session's, delivered late
    t.handlers.presence(offline("sl-1", T0 + 3000, "takeover"));
    t.flush();
    expect(t.store.get("nobody")).toBeUndefined();
    expect(t.store.get("sl-1")).toMatchObject({
      online: 1,
      connected_at: iso(T0 + 2000),
      disconnected_at: null,
    });
    t.handlers.presence(offline("sl-1", T0 + 4000, "revoked"));
    t.handlers.presence(online("sl-1", T0 + 3500)); // older than the disconnect
    t.flush();
    expect(t.store.get("sl-1")).toMatchObject({ online: 0, disconnect_reason: "revoked" });
  });
});

describe("state and digests", () => {
  it("records the retained state; a replayed retained message does not count as seen", () => {
    seed("sl-1");
    const { t } = tracker();
    t.handlers.state("sl-1", true, true, iso(T0));
    t.flush();
    expect(t.store.get("sl-1")).toMatchObject({ state_online: 1, state_at: iso(T0), last_seen_at: null });
    t.handlers.state("sl-1", false, false, iso(T0 + 1000));
    t.flush();
    expect(t.store.get("sl-1")).toMatchObject({ state_online: 0, last_seen_at: iso(T0 + 1000) });
  });

  it("adds digests up in one batch, thousands of devices, and ignores the unregistered", () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `sl-${i}`);
    for (const id of ids) seed(id);
    const { t } = tracker();
    const digest = (at: number, accepted: number, extra: object = {}) => ({
      at,
      devices: [...ids, "ghost"].map((id) => ({
        id,
        kind: "streetlight" as const,
        received_at: at,
        accepted,
        rejected: 0,
        ...extra,
      })),
    });
    t.handlers.activity(digest(T0, 2, { last_ts: T0 - 100 }));
    t.handlers.activity(
      digest(T0 + 2000, 0, { rejected: 3, reasons: { "dim_pct.out_of_range": 2, not_json: 1 } }),
    );
    t.flush();
    expect(t.store.get("ghost")).toBeUndefined();
    expect(t.store.get("sl-2999")).toMatchObject({
      accepted_total: 2,
      rejected_total: 3,
      last_seen_at: iso(T0 + 2000),
      last_reading_at: iso(T0),
      last_reading_ts: iso(T0 - 100),
      last_reject_reason: "dim_pct.out_of_range",
      last_reject_at: iso(T0 + 2000),
    });
  });
});

describe("sweep", () => {
  it("counts devices by liveness into the gauge and logs those turning silent once", async () => {
    seed("sl-a");
    seed("sl-b");
    seed("sl-c");
    const metrics = new Registry();
    const clock = manualClock(T0);
    const lines: { msg: string; deviceId?: string }[] = [];
    const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const { t } = tracker(clock, metrics, log);
    t.start();
    t.handlers.presence(online("sl-a", T0));
    t.handlers.presence(online("sl-b", T0));
    const reading = (at: number) => ({
      at,
      devices: [{ id: "sl-b", kind: "streetlight" as const, received_at: at, accepted: 1, rejected: 0 }],
    });
    // sl-b reports every 10 s; sl-a, connected too, never does; sl-c never connects.
    for (let i = 0; i < 12; i++) {
      await clock.advance(10_000);
      t.handlers.activity(reading(clock.now()));
    }
    const gauge = async (state: string) =>
      (await metrics.getSingleMetric("devices_liveness")?.get())?.values.find((v) => v.labels.state === state)
        ?.value;
    expect(await gauge("silent")).toBe(1);
    expect(await gauge("online")).toBe(1);
    expect(await gauge("never_seen")).toBe(1);
    expect(t.store.silent(clock.now(), 3).map((s) => s.id)).toEqual(["sl-a"]);
    const silentLines = lines.filter((l) => l.msg.startsWith("device silent"));
    expect(silentLines.map((l) => l.deviceId)).toEqual(["sl-a"]); // logged when it turned silent, not every sweep
    t.stop();
    expect(clock.pending()).toBe(0);
  });
});
