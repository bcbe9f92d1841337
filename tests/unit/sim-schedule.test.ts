// Simulated lamps keeping their own calendar (issue 4): the pure calendar step a benchmark drives
// (decideCalendar), firmware refusals and lost messages drawn per lamp, and the device runtime on the in-memory
// broker following its calendar at the switch instants and acking it, also under an accelerated simulated
// clock (overrides: sim-overrides.test.ts). The real broker path is in the integration tests.
import { describe, expect, it } from "vitest";
import type { StreetlightReading } from "../../services/contract/readings.ts";
import { calendarAck, FACTORY_CALENDAR } from "../../services/contract/schedule.ts";
import { sunEvents } from "../../services/schedule/sun.ts";
import { createSimClock } from "../../simulators/clock.ts";
import { NO_FAULTS } from "../../simulators/faults.ts";
import { FIRMWARE, firmwareOf, lampProfile, perfectProfile } from "../../simulators/firmware.ts";
import { nominalPowerW } from "../../simulators/models/streetlight.ts";
import type { StreetlightDevice } from "../../simulators/plan.ts";
import { decideCalendar, initialLampState, type LampCalendarState } from "../../simulators/schedule.ts";
import { simDevice, simDeviceOn } from "./sim-harness.ts";
import {
  at,
  calendar,
  HOUR,
  json,
  lampOnMemoryBroker,
  MIN,
  NIGHT,
  NOON,
  window,
} from "./sim-schedule-harness.ts";

describe("decideCalendar (the pure step)", () => {
  const lamp = (): LampCalendarState => initialLampState(perfectProfile());

  it("applies a newer version, acks it, and acks the same version again without change", () => {
    const first = decideCalendar(json(calendar(7)), lamp(), 1000);
    expect(first.outcome).toBe("applied");
    expect(first.ack).toEqual({ id: "calendar-7", version: 7, status: "applied", ts: 1000 });
    expect(calendarAck.safeParse(first.ack).success).toBe(true);
    expect(first.state.held).toMatchObject({ appliedAtMs: 1000, doc: { version: 7 } });
    // A retained re-delivery (or a platform retry): the same version is acked again, nothing changes.
    const again = decideCalendar(json(calendar(7)), first.state, 5000);
    expect(again.outcome).toBe("repeated");
    expect(again.ack).toEqual({ id: "calendar-7", version: 7, status: "applied", ts: 5000 });
    expect(again.state.held?.appliedAtMs).toBe(1000);
  });

  it("treats the built-in factory calendar as holding no version: version 1 from the platform applies", () => {
    expect(decideCalendar(json({ ...FACTORY_CALENDAR, version: 1 }), lamp(), 0).outcome).toBe("applied");
  });

  it("refuses an older version as stale and keeps the newer one", () => {
    const held = decideCalendar(json(calendar(9)), lamp(), 0).state;
    const old = decideCalendar(json(calendar(8)), held, 10);
    expect(old.ack).toMatchObject({ id: "calendar-8", version: 8, status: "rejected", reason: "stale" });
    expect(old.ack?.detail).toContain("9");
    expect(old.state.held?.doc.version).toBe(9);
  });

  it("refuses a document failing the contract as invalid, naming the field; cannot answer one without a version", () => {
    const bad = decideCalendar(json({ ...calendar(3), time_zone: "Europe/Paris" }), lamp(), 0);
    expect(bad.ack).toMatchObject({ version: 3, status: "rejected", reason: "invalid" });
    expect(bad.ack?.detail).toContain("time_zone");
    expect(bad.state.held).toBeNull();
    expect(decideCalendar("{", lamp(), 0)).toMatchObject({ outcome: "ignored", ack: null });
    expect(decideCalendar(json({ version: "x" }), lamp(), 0)).toMatchObject({
      outcome: "ignored",
      ack: null,
    });
    // A cleared retained topic (empty payload) is not a message to answer.
    expect(decideCalendar("", lamp(), 0)).toMatchObject({ outcome: "ignored", ack: null });
  });

  it("limited firmware refuses with too_large or unsupported, naming what it cannot hold", () => {
    const ramped = calendar(4, [
      { at: "sunset", level_pct: 100 },
      { at: "00:00", level_pct: 50, ramp_s: 300 },
      { at: "sunrise", level_pct: 0 },
    ]);
    const withFw = (fw: keyof typeof FIRMWARE): LampCalendarState => ({
      profile: { firmware: FIRMWARE[fw], miss: () => false },
      held: null,
    });
    expect(decideCalendar(json(ramped), withFw("no-ramps"), 0).ack).toMatchObject({
      status: "rejected",
      reason: "unsupported",
      detail: expect.stringContaining("programs.night.switch_points.1.ramp_s"),
    });
    expect(decideCalendar(json(ramped), withFw("small-memory"), 0).ack).toMatchObject({
      status: "rejected",
      reason: "too_large",
      detail: expect.stringContaining("programs.night has 3"),
    });
    expect(decideCalendar(json(ramped), withFw("full"), 0).outcome).toBe("applied");
    // Dusk to dawn without ramps fits every firmware.
    const simple = calendar(5, [
      { at: "sunset", level_pct: 100 },
      { at: "sunrise", level_pct: 0 },
    ]);
    for (const fw of ["no-ramps", "small-memory"] as const)
      expect(decideCalendar(json(simple), withFw(fw), 0).outcome).toBe("applied");
  });

  it("a lost message changes nothing and is not answered", () => {
    const state: LampCalendarState = { profile: { firmware: FIRMWARE.full, miss: () => true }, held: null };
    expect(decideCalendar(json(calendar(2)), state, 0)).toMatchObject({
      outcome: "missed",
      ack: null,
      state,
    });
  });
});

describe("which lamps reject or miss (deterministic per lamp from the seed)", () => {
  const ids = Array.from({ length: 4000 }, (_, i) => `sl-anfa-${String(i).padStart(4, "0")}`);

  it("a reject share picks about that share of lamps, the same ones for the same seed, more for a larger share", () => {
    const limited = (seed: string, share: number) =>
      ids.filter((id) => firmwareOf(seed, id, share).name !== "full");
    const tenth = limited("s1", 0.1);
    expect(tenth.length / ids.length).toBeGreaterThan(0.08);
    expect(tenth.length / ids.length).toBeLessThan(0.12);
    expect(limited("s1", 0.1)).toEqual(tenth);
    expect(limited("s2", 0.1)).not.toEqual(tenth);
    // Raising the share keeps the lamps that already rejected.
    const fifth = new Set(limited("s1", 0.2));
    for (const id of tenth) expect(fifth.has(id)).toBe(true);
    expect(limited("s1", 0)).toEqual([]);
    // Both limited firmwares occur.
    const names = new Set(tenth.map((id) => firmwareOf("s1", id, 0.1).name));
    expect([...names].sort()).toEqual(["no-ramps", "small-memory"]);
  });

  it("a miss rate loses about that share of messages, replayed identically from the seed", () => {
    const draws = (seed: string) => {
      const p = lampProfile(seed, "sl-anfa-0001", { scheduleRejectShare: 0, scheduleMissRate: 0.25 });
      return Array.from({ length: 4000 }, () => p.miss());
    };
    const a = draws("s1");
    const share = a.filter(Boolean).length / a.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.28);
    expect(draws("s1")).toEqual(a);
    expect(draws("s2")).not.toEqual(a);
    const none = lampProfile("s1", "x", { scheduleRejectShare: 0, scheduleMissRate: 0 });
    expect(Array.from({ length: 100 }, () => none.miss()).some(Boolean)).toBe(false);
  });

  it("10,000 lamps take one rollout's payload through the pure step, each with its own ack", () => {
    const payload = json(calendar(42));
    const lamps = Array.from({ length: 10_000 }, (_, i) =>
      initialLampState(
        lampProfile("bench", `sl-x-${i}`, { scheduleRejectShare: 0.02, scheduleMissRate: 0.02 }),
      ),
    );
    const outcomes = { applied: 0, rejected: 0, missed: 0 } as Record<string, number>;
    for (const l of lamps) {
      const d = decideCalendar(payload, l, 1);
      outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
    }
    // 4 switch points without ramps: small-memory lamps (about 1 %) refuse it; about 2 % lose it.
    expect(outcomes.applied).toBeGreaterThan(9500);
    expect(outcomes.missed).toBeGreaterThan(100);
    expect(outcomes.rejected).toBeGreaterThan(30);
  });
});

describe("a simulated lamp on the wire (memory broker, fake clock)", () => {
  it("subscribes to its calendar, acks on its ack topic and follows the calendar at the switch instants", async () => {
    const { broker, base, device, clock, sendCalendar, acks, readingAt, readingBefore, runtime } =
      await lampOnMemoryBroker();
    const led = (device as StreetlightDevice).ledWatts;
    expect(broker.subscriptions.map((s) => s.topic)).toContain(`${base}/calendar`);
    expect(sendCalendar(calendar(3))).toBe(1);
    const ack = broker.sent.find((s) => s.topic === `${base}/ack`);
    expect(ack).toMatchObject({ qos: 1, retain: false });
    expect(acks()).toEqual([{ id: "calendar-3", version: 3, status: "applied", ts: NOON }]);
    expect(runtime.calendarVersion()).toBe(3);
    await clock.advance(26 * HOUR);
    const { sunset, sunrise } = sunEvents(NIGHT, device);
    for (const [instant, before, after] of [
      [sunset, 0, 100],
      [at("21:00"), 100, 30],
      [at("05:00"), 30, 80],
      [sunrise, 80, 0],
    ] as const) {
      expect(readingBefore(instant).dim_pct, new Date(instant).toISOString()).toBe(before);
      expect(readingAt(instant).dim_pct, new Date(instant).toISOString()).toBe(after);
      expect(Number(readingAt(instant).ts) - instant).toBeLessThan(10_000);
    }
    // Power follows the level (driver floor and standby included).
    const dimmed = readingAt(at("23:00"));
    expect(dimmed.power_w).toBeCloseTo(nominalPowerW(led, 30), -0.5);
    expect(runtime.truth().calendar).toEqual({
      version: 3,
      applied: 1,
      repeated: 0,
      rejected: 0,
      missed: 0,
      ignored: 0,
    });
  });

  it("re-acks a retained re-delivery after a reconnection, refuses a stale version and keeps following the newer", async () => {
    const faults = { ...NO_FAULTS, offlinePerDay: 200 };
    const { broker, base, device, clock, sendCalendar, acks, readings, runtime } =
      await lampOnMemoryBroker(faults);
    sendCalendar(calendar(5));
    const calendarSubs = () => broker.subscriptions.filter((s) => s.topic === `${base}/calendar`).length;
    const subsBefore = calendarSubs();
    // Offline episodes of 2–90 min at 200 a day: the lamp reconnects and subscribes again (clean session).
    await clock.advance(6 * HOUR);
    expect(calendarSubs()).toBeGreaterThan(subsBefore);
    expect(broker.closes.some((c) => c.clientId === device.id && c.abrupt)).toBe(true);
    // The broker hands the retained calendar to the new subscription: the same version is acked again.
    while (broker.deliver(`${base}/calendar`, json(calendar(5))) === 0) await clock.advance(MIN);
    sendCalendar(calendar(4));
    expect(acks().map((a) => [a.id, a.status, a.reason])).toEqual([
      ["calendar-5", "applied", undefined],
      ["calendar-5", "applied", undefined],
      ["calendar-4", "rejected", "stale"],
    ]);
    expect(runtime.calendarVersion()).toBe(5);
    // Readings taken while offline arrive later from the backlog; those of 21:00–00:00 show version 5's 30 %.
    await clock.advance(at("11:00") - clock.now());
    const evening = readings().filter((r) => Number(r.ts) >= at("21:00") && Number(r.ts) < at("00:00"));
    expect(evening.length).toBeGreaterThan(100);
    for (const r of evening) expect(r.dim_pct).toBe(30);
  });

  it("a lamp with limited firmware rejects with its reason and keeps its factory calendar", async () => {
    const faults = { ...NO_FAULTS, scheduleRejectShare: 1 };
    const { device, clock, sendCalendar, acks, readingAt } = await lampOnMemoryBroker(faults);
    const fw = firmwareOf("sched", device.id, 1);
    const ramped = calendar(6, [
      { at: "sunset", level_pct: 100 },
      { at: "21:00", level_pct: 30, ramp_s: 600 },
      { at: "sunrise", level_pct: 0 },
    ]);
    sendCalendar(ramped);
    expect(acks()).toMatchObject([
      { id: "calendar-6", status: "rejected", reason: fw.name === "no-ramps" ? "unsupported" : "too_large" },
    ]);
    await clock.advance(at("22:00") - clock.now());
    expect(readingAt(at("21:30")).dim_pct).toBe(100); // factory: 100 % until 00:00
  });

  it("loses calendar and override messages at the miss rate (no ack), but still answers a dim", async () => {
    const faults = { ...NO_FAULTS, scheduleMissRate: 1 };
    const { sendCalendar, sendCmd, acks, runtime } = await lampOnMemoryBroker(faults);
    sendCalendar(calendar(2));
    sendCmd({ id: "ovr-a", cmd: "override", override_id: "a", level_pct: 40, ...window(0, HOUR) });
    sendCmd({ id: "cxl-a", cmd: "cancel_override", override_id: "a" });
    sendCmd({ id: "d", cmd: "dim", level_pct: 20, duration_s: 60 });
    expect(acks().map((a) => a.id)).toEqual(["d"]);
    expect(runtime.calendarVersion()).toBeNull();
    expect(runtime.truth()).toMatchObject({ calendar: { missed: 1 }, overrides: { missed: 2 } });
  });

  it("a calendar arriving during a backfill applies from its arrival: the history keeps the factory calendar", async () => {
    const start = at("23:00");
    const { runtime, clock, broker, device } = simDevice({
      seed: "sched",
      kind: "streetlight",
      startMs: start,
      idPrefix: "b",
    });
    void runtime.connect(1000);
    await clock.advance(0);
    const backfill = runtime.backfill(start - 3 * HOUR, start);
    broker.deliver(`city/v1/streetlight/${device.id}/calendar`, json(calendar(2)));
    await backfill;
    runtime.startLive();
    await clock.advance(10 * MIN);
    const rs = broker.sent
      .filter((m) => m.topic.endsWith("/telemetry"))
      .flatMap((m) => [JSON.parse(m.payload)].flat() as StreetlightReading[]);
    const past = rs.filter((r) => Number(r.ts) < start && Number(r.ts) >= at("21:00"));
    expect(past.length).toBeGreaterThan(100);
    for (const r of past) expect(r.dim_pct).toBe(100); // factory: 100 % until midnight
    const live = rs.filter((r) => Number(r.ts) >= start);
    expect(live.length).toBeGreaterThan(0);
    for (const r of live) expect(r.dim_pct).toBe(30);
  });
});

describe("under an accelerated clock", () => {
  it("switches at the simulated instants of its calendar, whatever the pace of real time", async () => {
    const from = at("20:50");
    const clock = createSimClock({ speed: 7200, startMs: from, minRealDelayMs: 5 });
    const { runtime, broker, device } = simDeviceOn(clock, {
      seed: "sched",
      kind: "streetlight",
      idPrefix: "a",
    });
    try {
      runtime.startLive();
      while (!broker.subscriptions.some((s) => s.topic.endsWith("/calendar")))
        await new Promise((r) => setTimeout(r, 1));
      const doc = calendar(8, [
        { at: "sunset", level_pct: 70 },
        { at: "21:00", level_pct: 30 },
        { at: "sunrise", level_pct: 0 },
      ]);
      broker.deliver(`city/v1/streetlight/${device.id}/calendar`, json(doc));
      expect(clock.rate()).toBe(7200);
      while (clock.now() < at("21:15")) await new Promise((r) => setTimeout(r, 10));
      const rs = broker.sent
        .filter((m) => m.topic.endsWith("/telemetry"))
        .flatMap((m) => [JSON.parse(m.payload)].flat() as StreetlightReading[])
        .map((r) => ({ ts: Number(r.ts), dim: r.dim_pct }));
      const applied = JSON.parse(broker.sent.find((m) => m.topic.endsWith("/ack"))?.payload ?? "{}")
        .ts as number;
      const before = rs.filter((r) => r.ts > applied && r.ts < at("21:00"));
      const after = rs.filter((r) => r.ts >= at("21:00") && r.ts < at("21:10"));
      expect(before.length).toBeGreaterThan(10);
      expect(after.length).toBeGreaterThan(50);
      for (const r of before) expect(r.dim).toBe(70);
      for (const r of after) expect(r.dim).toBe(30);
    } finally {
      await runtime.kill();
    }
  });
});
