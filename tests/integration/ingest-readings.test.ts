// Readings of each kind travel device → broker → ingest → InfluxDB with the right tags, fields and timestamps;
// a backlog array arrives whole. Real broker, command service and ingest processes; the suite's InfluxDB.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { deviceTopic } from "../../services/contract/topics.ts";
import { rowsOf } from "../../services/lib/influx/index.ts";
import { countOf, eventually, type Stack, startStack } from "./harness/stack.ts";

const server = inject("influx");
const id = randomUUID().slice(0, 6);
const devices: DeviceRegistration[] = [
  {
    id: `sl-${id}-1`,
    kind: "streetlight",
    district: "Ben M'Sick",
    lat: 33.56,
    lon: -7.57,
    installed_at: "2025-03-01",
    led_watts: 90,
    legacy_watts: 295,
  },
  {
    id: `aq-${id}-1`,
    kind: "airquality",
    district: "Maarif",
    lat: 33.58,
    lon: -7.63,
    installed_at: "2025-03-01",
  },
  {
    id: `tr-${id}-1`,
    kind: "traffic",
    district: "Sidi Belyout",
    lat: 33.6,
    lon: -7.61,
    installed_at: "2025-03-01",
  },
  {
    id: `sl-${id}-2`,
    kind: "streetlight",
    district: "Anfa",
    lat: 33.59,
    lon: -7.65,
    installed_at: "2025-03-01",
    led_watts: 120,
    legacy_watts: 460,
  },
];
let stack: Stack;
const accepted = () => stack.metric("ingest", "ingest_readings_accepted_total", { kind: "streetlight" });
/** Publishes through the connection of the device the topic names (each device has its own credentials). */
const client = {
  publishAsync: async (topic: string, payload: string, opts: { qos: 0 | 1 }) =>
    (await stack.device(topic.split("/")[3] as string)).publishAsync(topic, payload, opts),
};

beforeAll(async () => {
  stack = await startStack({ ...server, bucket: `t_readings_${id}` });
  await stack.influx.ensureDatabase();
  await stack.register(devices);
});
afterAll(async () => {
  await stack?.stop();
});

describe("readings of each kind", () => {
  const t = Date.UTC(2026, 10, 1, 21, 30, 0, 250);
  it("arrive with device_id and district tags, contract fields and the device's time", async () => {
    await client.publishAsync(
      deviceTopic("streetlight", `sl-${id}-1`, "telemetry"),
      JSON.stringify({
        ts: t,
        seq: 7,
        power_w: 88.4,
        energy_wh: 12345.5,
        dim_pct: 100,
        lamp_ok: true,
        voltage_v: 229.8,
        current_a: 0.39,
        temp_c: 31.5,
      }),
      { qos: 1 },
    );
    await client.publishAsync(
      deviceTopic("airquality", `aq-${id}-1`, "telemetry"),
      JSON.stringify({
        ts: new Date(t).toISOString(),
        seq: 3,
        pm25_ugm3: 21.4,
        pm10_ugm3: 40.2,
        no2_ugm3: 38.1,
        o3_ugm3: 52,
        rh_pct: 71,
      }),
      { qos: 1 },
    );
    await client.publishAsync(
      deviceTopic("traffic", `tr-${id}-1`, "telemetry"),
      JSON.stringify({
        ts: "2026-11-01T22:30:00.250+01:00",
        seq: 9,
        period_s: 60,
        vehicles: 42,
        avg_speed_kmh: 38.5,
        occupancy_pct: 12.5,
        cars: 35,
        buses: 2,
        motorcycles: 5,
      }),
      { qos: 1 },
    );

    await eventually(
      async () =>
        (await countOf(stack.influx, "streetlight")) === 1 &&
        (await countOf(stack.influx, "airquality")) === 1 &&
        (await countOf(stack.influx, "traffic")) === 1,
      30_000,
      "one point of each kind",
    );

    const [sl] = rowsOf(await stack.influx.query("SELECT * FROM streetlight"));
    expect(sl).toMatchObject({
      time: t,
      device_id: `sl-${id}-1`,
      district: "Ben M'Sick",
      seq: 7,
      power_w: 88.4,
      energy_wh: 12345.5,
      dim_pct: 100,
      lamp_ok: true,
      voltage_v: 229.8,
      current_a: 0.39,
      temp_c: 31.5,
    });
    const [aq] = rowsOf(await stack.influx.query("SELECT * FROM airquality"));
    expect(aq).toMatchObject({
      time: t,
      device_id: `aq-${id}-1`,
      district: "Maarif",
      seq: 3,
      pm25_ugm3: 21.4,
      pm10_ugm3: 40.2,
      no2_ugm3: 38.1,
      o3_ugm3: 52,
      rh_pct: 71,
    });
    expect(aq?.co_mgm3 ?? null).toBeNull(); // optional and absent: not stored
    const [tr] = rowsOf(await stack.influx.query("SELECT * FROM traffic"));
    expect(tr).toMatchObject({
      time: t,
      device_id: `tr-${id}-1`,
      district: "Sidi Belyout",
      seq: 9,
      period_s: 60,
      vehicles: 42,
      avg_speed_kmh: 38.5,
      occupancy_pct: 12.5,
      cars: 35,
      buses: 2,
      motorcycles: 5,
    });

    // Field types: counters are integers, measurements floats, flags booleans.
    const types = rowsOf(await stack.influx.query("SHOW FIELD KEYS FROM streetlight"));
    const typeOf = Object.fromEntries(types.map((r) => [r.fieldKey, r.fieldType]));
    expect(typeOf).toMatchObject({
      seq: "integer",
      power_w: "float",
      energy_wh: "float",
      dim_pct: "float",
      lamp_ok: "boolean",
    });
  });

  it("a backlog array of 500 readings arrives whole, each at its own time", async () => {
    // The counters are the ingest's, shared by the tests of this file: what this test adds is counted from here.
    const acceptedBefore = await accepted();
    const batchesBefore = await stack.metric("ingest", "ingest_write_batches_total", { result: "ok" });
    const base = Date.UTC(2026, 9, 1);
    const backlog = Array.from({ length: 500 }, (_, i) => ({
      ts: base + i * 60_000,
      seq: 1000 + i,
      power_w: 60,
      energy_wh: 50_000 + i * 1.5,
      dim_pct: 50,
      lamp_ok: true,
    }));
    await client.publishAsync(
      deviceTopic("streetlight", `sl-${id}-2`, "telemetry"),
      JSON.stringify(backlog),
      { qos: 1 },
    );
    const where = `device_id = '${`sl-${id}-2`}'`;
    await eventually(
      async () => (await countOf(stack.influx, "streetlight", where)) === 500,
      30_000,
      "500 backlog points",
    );
    const rows = rowsOf(
      await stack.influx.query(`SELECT seq, energy_wh FROM streetlight WHERE ${where} ORDER BY time`),
    );
    expect(rows.map((r) => r.seq)).toEqual(backlog.map((b) => b.seq));
    expect(rows.map((r) => r.time)).toEqual(backlog.map((b) => b.ts));
    expect(rows.at(-1)?.energy_wh).toBe(backlog.at(-1)?.energy_wh);
    expect(await accepted()).toBe(acceptedBefore + 500);
    // Written in whole batches (the bytes as spooled), not line by line as when InfluxDB refuses a batch.
    expect(
      (await stack.metric("ingest", "ingest_write_batches_total", { result: "ok" })) - batchesBefore,
    ).toBeLessThan(20);
    expect(await stack.metric("ingest", "ingest_dead_letter_lines_total")).toBe(0);
  });

  it("a replayed reading does not duplicate, two readings in one millisecond do not overwrite each other", async () => {
    const topic = deviceTopic("streetlight", `sl-${id}-1`, "telemetry");
    const ts = Date.UTC(2026, 10, 2, 3, 0, 0);
    const a = { ts, seq: 100, power_w: 45, energy_wh: 20_000, dim_pct: 50, lamp_ok: true };
    const b = { ...a, seq: 101, energy_wh: 20_001 };
    const acceptedBefore = await accepted();
    await client.publishAsync(topic, JSON.stringify(a), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(a), { qos: 1 }); // replay
    await client.publishAsync(topic, JSON.stringify(b), { qos: 1 }); // same ms, next seq
    const where = `device_id = 'sl-${id}-1' AND time >= ${ts}ms AND time < ${ts + 1}ms`;
    await eventually(
      async () => (await accepted()) === acceptedBefore + 3,
      30_000,
      "three more readings accepted",
    );
    // The ingest writes in the order readings arrive: once seq 101, sent last, is stored, so are the two sent
    // before it, and exactly seq 100 and 101 are there.
    const seqs = async () =>
      rowsOf(await stack.influx.query(`SELECT seq FROM streetlight WHERE ${where} ORDER BY time`)).map(
        (r) => r.seq,
      );
    await eventually(async () => (await seqs()).includes(101), 30_000, "seq 101 stored");
    expect(await seqs()).toEqual([100, 101]);
  });
});
