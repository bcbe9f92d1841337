// The device runtime on a fake clock with an in-memory link: schedule, availability, backlog and batching.
// The real MQTT path (mqtt.js against a broker) is covered by tests/integration/sim-fleet.test.ts.
import { describe, expect, it } from "vitest";
import { MAX_BATCH_READINGS } from "../../services/contract/readings.ts";
import { encodeChunk, type QueuedReading, takeChunk } from "../../simulators/batch.ts";
import { type FaultRates, NO_FAULTS } from "../../simulators/faults.ts";
import { simDevice } from "./sim-harness.ts";

const START = Date.UTC(2025, 0, 14, 12);

function setup(
  kind: "streetlight" | "airquality" | "traffic",
  faults: FaultRates = NO_FAULTS,
  intervalS = 10,
) {
  const {
    clock,
    broker: links,
    device,
    runtime,
  } = simDevice({ seed: "dev", kind, startMs: START, idPrefix: "u", intervalS, faults });
  const telemetry = () => links.sent.filter((s) => s.topic.endsWith("/telemetry"));
  const readings = () =>
    telemetry().flatMap((s) => [JSON.parse(s.payload)].flat() as { ts: number; seq: number }[]);
  return { clock, links, device, runtime, telemetry, readings };
}

describe("batching", () => {
  const item = (seq: number, size = 100): QueuedReading => ({
    ts: seq,
    seq,
    json: JSON.stringify({ seq, pad: "x".repeat(size) }),
    energyWh: 0,
    burnS: 0,
    overrideS: 0,
  });

  it("cuts a backlog into arrays of at most 500 readings, oldest first", () => {
    const queue = Array.from({ length: 1234 }, (_, i) => item(i));
    const sizes: number[] = [];
    while (queue.length > 0) sizes.push(takeChunk(queue).length);
    expect(sizes).toEqual([MAX_BATCH_READINGS, MAX_BATCH_READINGS, 234]);
  });

  it("keeps a message under the byte limit and sends one reading as an object", () => {
    const queue = Array.from({ length: 100 }, (_, i) => item(i, 1000));
    const chunk = takeChunk(queue, 500, 10_000);
    expect(encodeChunk(chunk).length).toBeLessThanOrEqual(10_000);
    expect(chunk.length).toBe(9);
    const one = takeChunk(queue, 1);
    expect(JSON.parse(encodeChunk(one))).toEqual({ seq: 9, pad: "x".repeat(1000) });
    expect(Array.isArray(JSON.parse(encodeChunk(takeChunk(queue, 2))))).toBe(true);
  });
});

describe("device runtime", () => {
  it("connects as itself with a retained last will and announces itself online", async () => {
    const { runtime, links, device, clock } = setup("streetlight");
    const connecting = runtime.connect(1000);
    await clock.advance(0);
    expect(await connecting).toBe(true);
    const opts = links.opened[0];
    expect(opts?.clientId).toBe(device.id);
    expect(opts?.username).toBe(device.id);
    expect(opts?.will).toEqual({
      topic: `city/v1/streetlight/${device.id}/state`,
      payload: '{"online":false}',
      qos: 1,
      retain: true,
    });
    expect(links.sent[0]).toMatchObject({
      topic: `city/v1/streetlight/${device.id}/state`,
      payload: '{"online":true}',
      retain: true,
    });
  });

  it("reports at its interval on its own phase, seq counting up and ts the simulated time", async () => {
    const { runtime, clock, device, readings, telemetry } = setup("traffic");
    runtime.startLive();
    await clock.advance(10 * 60_000);
    const rs = readings();
    expect(rs.length).toBeGreaterThanOrEqual(59);
    expect(telemetry().every((m) => m.topic === `city/v1/traffic/${device.id}/telemetry` && !m.retain)).toBe(
      true,
    );
    rs.forEach((r, i) => {
      expect(r.seq).toBe(i);
      expect((r.ts - device.phaseMs) % 10_000).toBe(0);
      expect(r.ts).toBeLessThanOrEqual(clock.now());
      if (i > 0) expect(r.ts - (rs[i - 1]?.ts ?? 0)).toBe(10_000);
    });
  });

  it("goes offline now and then, keeps measuring and sends the backlog in arrays of at most 500", async () => {
    const { runtime, clock, links, device, readings, telemetry } = setup(
      "airquality",
      { ...NO_FAULTS, offlinePerDay: 24 },
      1,
    );
    runtime.startLive();
    await clock.advance(6 * 3_600_000);
    const abrupt = links.closes.filter((c) => c.abrupt);
    expect(abrupt.length).toBeGreaterThan(0);
    const batches = telemetry()
      .map((m) => JSON.parse(m.payload))
      .filter(Array.isArray);
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(MAX_BATCH_READINGS);
    expect(batches.some((b) => b.length === MAX_BATCH_READINGS)).toBe(true);
    // Everything measured arrives exactly once (the in-memory link never loses an acknowledged message).
    const seqs = readings()
      .map((r) => r.seq)
      .sort((a, b) => a - b);
    const stats = runtime.stats();
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length + stats.backlog).toBe(stats.generated);
    expect(stats.generated).toBeGreaterThanOrEqual(6 * 3600 - 1);
    const onlines = links.sent.filter(
      (s) => s.topic === `city/v1/airquality/${device.id}/state` && s.payload === '{"online":true}',
    );
    expect(onlines.length).toBe(links.opened.length);
  });

  it("backfills a range on its grid as batches, then continues live without a gap in seq", async () => {
    const { runtime, clock, readings, telemetry } = setup("streetlight");
    const connected = runtime.connect(1000);
    await clock.advance(0);
    await connected;
    await runtime.backfill(START - 86_400_000, START);
    expect(readings()).toHaveLength(8640);
    expect(telemetry().every((m) => Array.isArray(JSON.parse(m.payload)))).toBe(true);
    runtime.startLive();
    await clock.advance(60_000);
    const seqs = readings().map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    const truth = runtime.truth();
    expect(truth.readings).toBe(seqs.length);
    expect(truth.energy_wh).toBeGreaterThan(0);
    expect(truth.burn_h).toBeGreaterThan(10);
    expect(truth.burn_h).toBeLessThan(15);
  });

  it("stops gracefully: flushes, publishes offline state retained, disconnects cleanly", async () => {
    const { runtime, clock, links, device } = setup("traffic");
    runtime.startLive();
    await clock.advance(60_000);
    await runtime.stop(1000);
    const last = links.sent[links.sent.length - 1];
    expect(last).toMatchObject({
      topic: `city/v1/traffic/${device.id}/state`,
      payload: '{"online":false}',
      retain: true,
    });
    expect(links.closes).toEqual([{ clientId: device.id, abrupt: false }]);
    expect(runtime.stats().backlog).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
