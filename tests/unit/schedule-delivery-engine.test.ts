// The delivery engine's rules with a manual clock, a recording store and an MQTT side that PUBACKs when told:
// retained calendars to offline lamps stay pending, presence re-sends, retries stop at maxAttempts, overrides are
// never sent after expiry, acks close only the delivery they name, and state changes are written in batches.
import { describe, expect, it } from "vitest";
import { manualClock } from "../../services/command/liveness/clock.ts";
import { createDeliveryEngine } from "../../services/command/schedules/delivery.ts";
import { calendarPayload, overridePayload } from "../../services/command/schedules/payloads.ts";
import type { PresenceEvent } from "../../services/contract/platform.ts";
import { FACTORY_CALENDAR } from "../../services/contract/schedule.ts";
import { silentLogger } from "../../services/lib/log.ts";
import type { DeliveryChange } from "../../services/registry/schedules/rollouts.ts";

type Sent = { topic: string; payload: string; retain: boolean; puback(): void; fail(): void };

function setup(opts: { maxInFlight?: number } = {}) {
  const clock = manualClock(Date.UTC(2026, 5, 1, 20));
  const sent: Sent[] = [];
  const batches: DeliveryChange[][] = [];
  const engine = createDeliveryEngine({
    store: { apply: (c) => void batches.push([...c]), openRows: () => [] },
    loadPayload: () => undefined,
    mqtt: {
      deliver: (topic, payload, o) =>
        new Promise<void>((resolve, reject) =>
          sent.push({
            topic,
            payload,
            retain: o.retain,
            puback: resolve,
            fail: () => reject(new Error("x")),
          }),
        ),
    },
    clock,
    log: silentLogger(),
    retryAfterMs: 10_000,
    maxAttempts: 3,
    reconnectDelayMs: 500,
    ...opts,
  });
  const presence = (id: string, online: boolean): PresenceEvent => ({
    id,
    kind: "streetlight",
    online,
    at: new Date(clock.now()).toISOString(),
  });
  const settle = () => new Promise((r) => setImmediate(r));
  const changes = () => batches.flat();
  engine.start();
  return { clock, sent, batches, changes, engine, presence, settle };
}

const doc = (version: number) => ({ ...FACTORY_CALENDAR, version });
const override = (expiresAt: string) => ({
  id: "o1",
  target_type: "devices" as const,
  target_id: '["sl-1"]',
  level_pct: 100,
  ramp_s: 0,
  starts_at: "2026-06-01T20:00:00.000Z",
  expires_at: expiresAt,
  reason: "match",
  created_at: "2026-06-01T20:00:00.000Z",
  created_by: "op",
  cancelled_at: null,
  cancelled_by: null,
});

describe("delivery engine", () => {
  it("publishes a calendar retained to an offline lamp (pending), and again when it connects (delivered)", async () => {
    const t = setup();
    t.engine.add(calendarPayload(7, doc(3)), ["sl-1"], []);
    await t.settle();
    expect(t.sent).toMatchObject([{ topic: "city/v1/streetlight/sl-1/calendar", retain: true }]);
    t.sent[0]?.puback();
    await t.clock.advance(100);
    expect(t.changes()).toMatchObject([{ type: "sent", rolloutId: 7, deviceId: "sl-1", delivered: false }]);

    t.engine.presence(t.presence("sl-1", true));
    await t.clock.advance(400);
    expect(t.sent).toHaveLength(1); // the re-send waits for the lamp's SUBSCRIBE
    await t.clock.advance(200);
    expect(t.sent).toHaveLength(2);
    t.sent[1]?.puback();
    await t.clock.advance(100);
    expect(t.changes().at(-1)).toMatchObject({ type: "sent", delivered: true });
    expect(t.engine.stats()).toMatchObject({ open: 1, inFlight: 0 });
  });

  it("re-sends an unacked delivery every retryAfterMs while connected, at most maxAttempts times", async () => {
    const t = setup();
    t.engine.presence(t.presence("sl-1", true));
    t.engine.add(calendarPayload(7, doc(3)), ["sl-1"], []);
    for (let i = 0; i < 6; i++) {
      await t.settle();
      for (const s of t.sent) s.puback();
      await t.clock.advance(10_000);
    }
    expect(t.sent).toHaveLength(3);
  });

  it("closes a delivery on the ack naming its version, and ignores acks of other versions", async () => {
    const t = setup();
    t.engine.presence(t.presence("sl-1", true));
    t.engine.add(calendarPayload(7, doc(3)), ["sl-1"], []);
    await t.settle();
    t.engine.ack("sl-1", { id: "calendar-2", version: 2, status: "applied", ts: 1 });
    t.engine.ack("sl-1", { id: "calendar-3", version: 3, status: "rejected", reason: "too_large", ts: 1 });
    await t.clock.advance(100);
    expect(t.changes()).toMatchObject([
      { type: "final", rolloutId: 7, deviceId: "sl-1", state: "rejected", reason: "too_large" },
    ]);
    expect(t.engine.stats().open).toBe(0);
  });

  it("sends overrides only to connected lamps and expires them, unsent, at their expiry", async () => {
    const t = setup();
    t.engine.add(overridePayload(9, override("2026-06-01T20:00:05.000Z")), ["sl-1"], []);
    await t.settle();
    expect(t.sent).toEqual([]);
    await t.clock.advance(6000);
    expect(t.changes()).toMatchObject([{ type: "final", rolloutId: 9, state: "expired" }]);
    t.engine.presence(t.presence("sl-1", true));
    await t.clock.advance(1000);
    expect(t.sent).toEqual([]);
  });

  it("a newer rollout of the family replaces the lamp's open row; a superseded row's ack is ignored", async () => {
    const t = setup();
    t.engine.add(calendarPayload(7, doc(3)), ["sl-1"], []);
    t.engine.add(calendarPayload(8, doc(4)), ["sl-1"], [{ rollout_id: 7, device_id: "sl-1" }]);
    await t.settle();
    // Queued once per lamp and family: only the newer document goes out.
    expect(t.sent.map((s) => JSON.parse(s.payload).version)).toEqual([4]);
    t.engine.ack("sl-1", { id: "calendar-3", version: 3, status: "applied", ts: 1 });
    t.engine.ack("sl-1", { id: "calendar-4", version: 4, status: "applied", ts: 1 });
    await t.clock.advance(100);
    expect(t.changes().filter((c) => c.type === "final")).toMatchObject([{ rolloutId: 8, state: "applied" }]);
  });

  it("keeps at most maxInFlight publishes waiting for their PUBACK and writes changes in one batch per tick", async () => {
    const t = setup({ maxInFlight: 2 });
    const lamps = ["sl-1", "sl-2", "sl-3", "sl-4", "sl-5"];
    for (const id of lamps) t.engine.presence(t.presence(id, true));
    t.engine.add(calendarPayload(7, doc(3)), lamps, []);
    await t.settle();
    expect(t.sent).toHaveLength(2);
    for (let i = 0; i < 5; i++) {
      for (const s of t.sent.slice(-2)) s.puback();
      await t.settle();
      await t.settle();
    }
    expect(t.sent).toHaveLength(5);
    await t.clock.advance(100);
    expect(t.batches).toHaveLength(1);
    expect(t.batches[0]?.filter((c) => c.type === "sent" && c.delivered)).toHaveLength(5);
  });
});
