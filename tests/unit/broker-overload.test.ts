// The admission controller, driven by hand: a fake clock (the `now` it is given), measured queues set by the
// test, real read gates on in-memory streams and real prom-client metrics.
import { PassThrough } from "node:stream";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { brokerConfigSchema } from "../../services/broker/config.ts";
import { createBrokerMetrics } from "../../services/broker/metrics.ts";
import {
  createOverloadController,
  type Measurement,
  newPublisher,
  type Publisher,
  rateOf,
} from "../../services/broker/overload.ts";
import { gateReads } from "../../services/broker/read-gate.ts";
import { silentLogger } from "../../services/lib/log.ts";

const zero = { messages: 0, bytes: 0 };

function setup(overload: Record<string, unknown> = {}) {
  const settings = brokerConfigSchema.parse({
    overload: {
      watermarks: { highMessages: 100, lowMessages: 20, criticalMessages: 1000 },
      resumePerCheck: 2,
      maxPauseMs: 5000,
      ...overload,
    },
  }).overload;
  const registry = new Registry();
  const metrics = createBrokerMetrics(registry, {
    clients: () => 0,
    subscriptions: () => 0,
    router: () => zero,
    sessions: () => ({ connected: zero, disconnected: zero }),
    socketBufferedBytes: () => 0,
    flushBytes: () => {},
    access: () => ({
      ready: true,
      source: "feed",
      version: 0,
      devices: 0,
      services: 0,
      lastSyncAt: undefined,
      lastError: undefined,
    }),
    authPending: () => 0,
    verifiedCached: () => 0,
  });
  let m: Measurement = { ...zero, stages: [] };
  const exempt = new Set<Publisher>();
  const c = createOverloadController({
    settings,
    log: silentLogger(),
    metrics,
    measure: () => m,
    queuedNow: () => ({ messages: m.messages, bytes: m.bytes }),
    exempt: (p) => exempt.has(p),
  });
  /** A publisher that has been publishing at `perSec` for two seconds up to `now`. */
  const publisher = (id: string, perSec: number, now: number): Publisher => {
    const p = newPublisher(id, gateReads(new PassThrough()), now - 2000);
    c.track(p);
    for (let t = now - 2000; perSec > 0 && t <= now; t += 1000 / perSec) c.notePublish(p, t);
    return p;
  };
  const queued = (messages: number, stages: Measurement["stages"] = []) => {
    m = { messages, bytes: 0, stages };
  };
  const metric = async (name: string) =>
    Number(/ ([\d.e+-]+)$/m.exec(await registry.getSingleMetricAsString(name))?.[1]);
  return { c, publisher, queued, exempt, metric };
}

describe("overload controller", () => {
  it("smooths publish rates to about messages per second", () => {
    const { publisher } = setup();
    expect(rateOf(publisher("a", 50, 10_000), 10_000)).toBeGreaterThan(40);
    expect(rateOf(publisher("b", 1, 10_000), 10_000)).toBeLessThan(2);
  });

  it("does nothing below the high watermark", async () => {
    const { c, publisher, queued, metric } = setup();
    const heavy = publisher("heavy", 200, 10_000);
    queued(99);
    c.tick(10_000);
    expect(heavy.gate.paused).toBe(false);
    expect(c.snapshot().active).toBe(false);
    expect(await metric("broker_overload_active")).toBe(0);
  });

  it("pauses heavy publishers above the high watermark, not light or exempt ones", async () => {
    const { c, publisher, queued, exempt, metric } = setup();
    const heavy = publisher("heavy", 200, 10_000);
    const light = publisher("light", 1, 10_000);
    const ingest = publisher("ingest", 200, 10_000);
    exempt.add(ingest);
    queued(150);
    c.tick(10_000);
    expect([heavy.gate.paused, light.gate.paused, ingest.gate.paused]).toEqual([true, false, false]);
    expect(c.snapshot()).toMatchObject({ active: true, paused: 1, pausesTotal: 1, episodes: 1 });
    expect(await metric("broker_overload_active")).toBe(1);
    expect(await metric("broker_publishers_paused_total")).toBe(1);
    expect(await metric("broker_queued_messages")).toBe(150);
  });

  it("pauses a heavy publisher at its next PUBLISH once above high, without waiting for a check", () => {
    const { c, publisher, queued } = setup();
    const heavy = publisher("heavy", 200, 10_000);
    const light = publisher("light", 1, 10_000);
    queued(150);
    c.notePublish(light, 10_001);
    c.notePublish(heavy, 10_001);
    expect([heavy.gate.paused, light.gate.paused]).toEqual([true, false]);
    expect(c.snapshot().active).toBe(true);
  });

  it("pauses every recently active publisher above the critical watermark, not idle ones", () => {
    const { c, publisher, queued } = setup();
    const light = publisher("light", 1, 10_000);
    const idle = publisher("subscriber-only", 0, 10_000);
    queued(1500);
    c.tick(10_000);
    expect(light.gate.paused).toBe(true);
    expect(idle.gate.paused).toBe(false);
  });

  it("resumes a few at a time below the low watermark, longest paused first, then leaves overload", () => {
    const { c, publisher, queued } = setup();
    const pubs = ["a", "b", "c"].map((id) => publisher(id, 200, 10_000));
    queued(150);
    c.tick(10_000);
    expect(pubs.every((p) => p.gate.paused)).toBe(true);
    queued(10);
    c.tick(10_020);
    expect(pubs.map((p) => p.gate.paused)).toEqual([false, false, true]);
    expect(c.snapshot().active).toBe(true);
    c.tick(10_040);
    expect(pubs.map((p) => p.gate.paused)).toEqual([false, false, false]);
    expect(c.snapshot()).toMatchObject({ active: true, paused: 0 });
    c.tick(11_000);
    expect(c.snapshot().active).toBe(true); // calm for 960 ms only
    c.tick(11_040);
    expect(c.snapshot()).toMatchObject({ active: false, paused: 0, overloadMs: 1040 });
  });

  it("takes turns between the low and high watermarks", () => {
    const { c, publisher, queued } = setup({ resumePerCheck: 1 });
    const [a, b] = ["a", "b"].map((id) => publisher(id, 200, 10_000)) as [Publisher, Publisher];
    queued(150);
    c.tick(10_000);
    queued(10);
    c.tick(10_020); // a resumes
    expect([a.gate.paused, b.gate.paused]).toEqual([false, true]);
    queued(50);
    c.tick(10_040); // hold: a steps aside for b
    expect([a.gate.paused, b.gate.paused]).toEqual([true, false]);
  });

  it("never keeps a publisher paused longer than maxPauseMs at a stretch", () => {
    const { c, publisher, queued } = setup();
    const p = publisher("p", 200, 10_000);
    queued(150);
    c.tick(10_000);
    c.tick(14_000);
    expect(p.gate.paused).toBe(true);
    c.tick(15_001);
    expect(p.gate.paused).toBe(false); // its keepalive gets read
    c.tick(15_021);
    expect(p.gate.paused).toBe(true); // still flooding, still overloaded: paused again
  });

  it("sheds QoS 0 from heavy publishers only while overloaded", async () => {
    const { c, publisher, queued, metric } = setup();
    const heavy = publisher("heavy", 200, 10_000);
    const light = publisher("light", 1, 10_000);
    expect(c.shed(heavy, 0, 10_000)).toBe(false);
    queued(150);
    c.tick(10_000);
    expect(c.shed(heavy, 0, 10_000)).toBe(true);
    expect(c.shed(heavy, 1, 10_000)).toBe(false);
    expect(c.shed(light, 0, 10_000)).toBe(false);
    expect(await metric("broker_messages_shed_total")).toBe(1);
  });

  it("counts a slow drain as overload: the delay watermark", () => {
    const { c, publisher, queued } = setup({ watermarks: { highMessages: 10_000, lowMessages: 100 } });
    const p = publisher("p", 200, 10_000);
    // 1000 messages in front of a subscriber that acknowledges 100/s: 10 s of work.
    for (let t = 10_000; t <= 13_000; t += 20) {
      for (let i = 0; i < 4; i++) c.notePublish(p, t); // still 200/s
      queued(1000, [{ queued: 1000, completed: ((t - 10_000) / 1000) * 100 }]);
      c.tick(t);
    }
    expect(c.snapshot().delayMs).toBeGreaterThan(5000);
    expect(p.gate.paused).toBe(true);
  });

  it("does not read a burst after a quiet spell as delay: the drain rate is learnt only while there is work", () => {
    const { c, publisher, queued } = setup({ watermarks: { highMessages: 10_000, lowMessages: 100 } });
    const p = publisher("p", 200, 10_000);
    // A subscriber that drained 1000/s while busy, then a minute with nothing queued.
    let completed = 0;
    for (let t = 10_000; t <= 11_000; t += 20) {
      completed += 20;
      queued(200, [{ queued: 200, completed }]);
      c.tick(t);
    }
    for (let t = 11_020; t <= 71_000; t += 20) {
      queued(0, [{ queued: 0, completed }]);
      c.tick(t);
    }
    // A burst of 300 arrives: before it has drained at all, the delay estimate uses the busy-time rate.
    queued(300, [{ queued: 300, completed }]);
    c.tick(71_020);
    expect(c.snapshot().delayMs).toBeLessThan(1000);
    expect(c.snapshot().active).toBe(false);
    expect(p.gate.paused).toBe(false);
  });

  it("has no delay estimate for a stage never seen draining (the count watermarks still hold it)", () => {
    const { c, queued } = setup({ watermarks: { highMessages: 10_000, lowMessages: 100 } });
    queued(0, [{ queued: 0, completed: 0 }]);
    c.tick(10_000);
    queued(500, [{ queued: 500, completed: 0 }]);
    c.tick(10_020);
    expect(c.snapshot().active).toBe(false);
  });
});
