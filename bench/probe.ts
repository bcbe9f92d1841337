// Section D's latency probe: one more streetlight publishing a reading every 50 ms (QoS 1) with a known seq
// while the fleet's background load runs, and a poller asking InfluxDB every ~20 ms for the probe's latest seq.
// A seq's latency is from just before its PUBLISH to the first poll that saw it (or a later seq) stored, so
// the figures include up to one poll interval plus a query's time.
import { setTimeout as sleep } from "node:timers/promises";
import mqtt from "mqtt";
import type { InfluxClient } from "../services/lib/influx/index.ts";
import type { BenchContext } from "./context.ts";
import { deviceState, nextReading, PROBE_ID } from "./readings.ts";

export type LatencyStats = { p50: number; p99: number; max: number; samples: number; lost: number };

const PUBLISH_EVERY_MS = 50;
const POLL_EVERY_MS = 20;
const WARMUP_MS = 3000;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export async function startProbe(ctx: BenchContext, port: number, influx: InfluxClient) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: PROBE_ID,
    username: PROBE_ID,
    password: ctx.access.secrets[PROBE_ID] ?? "",
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 1000,
  });
  const device = deviceState(PROBE_ID);
  const publishedAt = new Map<number, number>();
  const visibleAt = new Map<number, number>();
  let seen = 0;
  let publishing = true;
  let polling = true;
  let queryErrors = 0;

  const publisher = (async () => {
    await sleep(WARMUP_MS); // let the background load reach its rate first
    while (publishing) {
      const reading = nextReading(device, Date.now());
      publishedAt.set(reading.seq, Date.now());
      client.publish(device.topic, JSON.stringify(reading), { qos: 1 });
      await sleep(PUBLISH_EVERY_MS);
    }
  })();

  const poller = (async () => {
    await sleep(WARMUP_MS);
    while (polling) {
      try {
        const series = await influx.query(
          "SELECT last(seq) FROM streetlight WHERE device_id = $id AND time > now() - 10m",
          { id: PROBE_ID },
        );
        const latest = Number(series[0]?.values[0]?.[1] ?? 0);
        const now = Date.now();
        for (let s = seen + 1; s <= latest; s++) visibleAt.set(s, now);
        seen = Math.max(seen, latest);
      } catch {
        queryErrors++;
      }
      await sleep(POLL_EVERY_MS);
    }
  })();

  return {
    stopPublishing(): void {
      publishing = false;
    },
    /** Readings the probe published so far. */
    published: () => publishedAt.size,
    /** Stops everything at once (a section that failed). */
    abort(): void {
      publishing = false;
      polling = false;
      client.end(true);
    },
    async finish(): Promise<LatencyStats> {
      publishing = false;
      await publisher;
      const deadline = Date.now() + 15_000;
      while (seen < device.seq && Date.now() < deadline) await sleep(50);
      polling = false;
      await poller;
      await client.endAsync().catch(() => undefined);
      const latencies: number[] = [];
      for (const [seq, t] of publishedAt) {
        const v = visibleAt.get(seq);
        if (v !== undefined) latencies.push(v - t);
      }
      latencies.sort((a, b) => a - b);
      if (queryErrors > 0) ctx.progress(`D: ${queryErrors} probe queries failed`);
      return {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? 0,
        samples: latencies.length,
        lost: publishedAt.size - latencies.length,
      };
    },
  };
}
