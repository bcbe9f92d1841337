// A bounded publishing load for integration tests: registered streetlights publishing valid QoS 1 readings,
// each through its own MQTT connection with its own credentials, counting the readings whose PUBLISH the broker
// acknowledged.
import type { MqttClient } from "mqtt";
import type { DeviceRegistration } from "../../../services/contract/devices.ts";
import { deviceTopic } from "../../../services/contract/topics.ts";

export function streetlights(prefix: string, n: number, district = "Anfa"): DeviceRegistration[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(4, "0")}`,
    kind: "streetlight" as const,
    district,
    lat: 33.59 + i * 1e-4,
    lon: -7.65,
    installed_at: "2025-06-01",
    led_watts: 90,
    legacy_watts: 295,
    report_interval_s: 60,
  }));
}

export function streetlightReading(seq: number, baseTs: number) {
  return {
    ts: baseTs + seq * 1000,
    seq,
    power_w: 85.5,
    energy_wh: seq * 25,
    dim_pct: 100,
    lamp_ok: true,
    voltage_v: 231,
  };
}

export type Load = { acked(): number; stop(): Promise<number> };

/**
 * Publishes round-robin over the devices at about `ratePerSec` readings/s (each message `batch` readings), each
 * device from its own connection (`connect`, e.g. Stack.device), with at most `window` unacknowledged publishes
 * per device. stop() waits for the in-flight PUBACKs and returns the number of readings the broker acknowledged.
 */
export async function startLoad(opts: {
  connect: (deviceId: string) => Promise<MqttClient>;
  devices: DeviceRegistration[];
  ratePerSec: number;
  batch?: number;
  window?: number;
  baseTs?: number;
}): Promise<Load> {
  const batch = opts.batch ?? 1;
  const window = opts.window ?? 50;
  const baseTs = opts.baseTs ?? Date.now() - 30 * 86_400_000;
  const clients = await Promise.all(opts.devices.map((d) => opts.connect(d.id)));
  const seqs = new Map<string, number>();
  const inflight = clients.map(() => new Set<Promise<unknown>>());
  let acked = 0;
  let running = true;
  let tick = 0;
  const perTick = Math.max(1, Math.round((opts.ratePerSec / batch) * 0.02));
  const loop = (async () => {
    const t0 = Date.now();
    while (running) {
      for (let k = 0; k < perTick && running; k++) {
        const device = opts.devices[(tick * perTick + k) % opts.devices.length] as DeviceRegistration;
        const c = (tick * perTick + k) % opts.devices.length;
        const client = clients[c] as MqttClient;
        const set = inflight[c] as Set<Promise<unknown>>;
        while (set.size >= window) await Promise.race(set);
        const start = seqs.get(device.id) ?? 0;
        seqs.set(device.id, start + batch);
        const readings = Array.from({ length: batch }, (_, j) => streetlightReading(start + j, baseTs));
        const payload = JSON.stringify(batch === 1 ? readings[0] : readings);
        const p = client
          .publishAsync(deviceTopic("streetlight", device.id, "telemetry"), payload, { qos: 1 })
          .then(
            () => {
              acked += batch;
            },
            () => undefined,
          ); // not acknowledged: not counted

        set.add(p);
        void p.finally(() => set.delete(p));
      }
      tick++;
      const due = t0 + tick * 20;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    acked: () => acked,
    async stop() {
      running = false;
      await loop;
      await Promise.all(inflight.flatMap((s) => [...s]));
      return acked;
    },
  };
}
