// Each class of bad input is rejected with its reason code — counted, kept in ingest_rejects, never crashing or
// stalling the ingest — while the good readings in the same stream still land.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deviceTopic } from "../../services/contract/topics.ts";
import { rowsOf } from "../../services/lib/influx/index.ts";
import { streetlights } from "./harness/load.ts";
import { countOf, eventually, type Stack, startStack } from "./harness/stack.ts";

const server = inject("influx");
const id = randomUUID().slice(0, 6);
let stack: Stack;
const sl = `sl-${id}-0000`;
const aq = `aq-${id}-0001`;

beforeAll(async () => {
  stack = await startStack({ ...server, bucket: `t_rejects_${id}` });
  await stack.influx.ensureDatabase();
  await stack.register([
    ...streetlights(`sl-${id}`, 1),
    { id: aq, kind: "airquality", district: "Anfa", lat: 33.59, lon: -7.65, installed_at: "2025-01-01" },
  ]);
});
afterAll(async () => {
  await stack?.stop();
});

const now = Date.now();
let seq = 0;
const good = (over: Record<string, unknown> = {}) => ({
  ts: now - 600_000 + seq * 1000,
  seq: seq++,
  power_w: 80,
  energy_wh: 1000 + seq,
  dim_pct: 100,
  lamp_ok: true,
  ...over,
});

describe("bad input", () => {
  it("is rejected with a reason naming the field and rule; good readings around it land", async () => {
    const topic = deviceTopic("streetlight", sl, "telemetry");
    // Each device publishes through its own connection; the topic names the device.
    const send = async (t: string, payload: string | Buffer) => {
      const client = await stack.device(t.split("/")[3] as string);
      await client.publishAsync(t, payload, { qos: 1 });
    };
    let goodCount = 0;
    const sendGood = async () => {
      await send(topic, JSON.stringify(good()));
      goodCount++;
    };
    const expected: string[] = [];
    const bad = async (reason: string, t: string, payload: string | Buffer) => {
      await send(t, payload);
      expected.push(reason);
      await sendGood();
    };
    await sendGood();
    await bad("not_json", topic, "{not json");
    await bad("not_json", topic, Buffer.from([0xff, 0xfe, 0x00]));
    await bad("bad_shape", topic, "42");
    await bad("empty_batch", topic, "[]");
    await bad("batch_too_large", topic, JSON.stringify(Array.from({ length: 501 }, () => good())));
    // too_large, unknown_device, kind_mismatch and bad_topic no longer reach the ingest: the broker refuses payloads
    // over 256 KiB and lets a device publish only on its own topics (tests/integration/security.test.ts); the
    // pipeline's own checks are unit-tested.
    await bad("dim_pct.out_of_range", topic, JSON.stringify(good({ dim_pct: 140 })));
    await bad("power_w.negative", topic, JSON.stringify(good({ power_w: -3 })));
    await bad("lamp_ok.missing", topic, JSON.stringify(good({ lamp_ok: undefined })));
    await bad("power_w.wrong_type", topic, JSON.stringify(good({ power_w: "80" })));
    await bad("seq.not_integer", topic, JSON.stringify(good({ seq: 1.5 })));
    await bad("ts.in_future", topic, JSON.stringify(good({ ts: Date.now() + 3_600_000 })));
    await bad("ts.too_old", topic, JSON.stringify(good({ ts: 1000 })));
    await bad("ts.invalid", topic, JSON.stringify(good({ ts: "yesterday" })));
    await bad("energy_wh.backwards", topic, JSON.stringify(good({ energy_wh: 5 })));
    await bad(
      "pm25_ugm3.negative",
      deviceTopic("airquality", aq, "telemetry"),
      JSON.stringify({ ts: now, seq: 1, pm25_ugm3: -1, pm10_ugm3: 1, no2_ugm3: 1, o3_ugm3: 1 }),
    );
    // A backlog with one bad reading among good ones: the good ones land, the bad one is rejected with its index.
    const mixed = [good(), good({ dim_pct: -1 }), good()];
    await send(topic, JSON.stringify(mixed));
    goodCount += 2;
    expected.push("dim_pct.negative");
    // A meter reset with its flag is accepted.
    await send(topic, JSON.stringify(good({ energy_wh: 0, meter_reset: true })));
    goodCount++;
    // Unknown fields are not stored but counted.
    await send(topic, JSON.stringify(good({ firmware_build: 42 })));
    goodCount++;

    await eventually(
      async () => (await countOf(stack.influx, "streetlight")) === goodCount,
      30_000,
      `${goodCount} good readings`,
    );
    await eventually(
      async () =>
        (await stack.influx.query("SELECT count(detail) FROM ingest_rejects"))[0]?.values[0]?.[1] ===
        expected.length,
      30_000,
      `${expected.length} reject records`,
    );

    const rejects = rowsOf(await stack.influx.query("SELECT * FROM ingest_rejects ORDER BY time"));
    expect(rejects.map((r) => r.reason).sort()).toEqual([...expected].sort());
    const indexed = rejects.find((r) => r.reason === "dim_pct.negative");
    expect(indexed).toMatchObject({ device_id: sl, district: "Anfa", kind: "streetlight", index: 1 });
    expect(rejects.every((r) => String(r.excerpt).length <= 512)).toBe(true);
    expect(rejects.find((r) => r.reason === "dim_pct.out_of_range")?.detail).toContain("140");

    expect(
      await stack.metric("ingest", "ingest_readings_rejected_total", { reason: "dim_pct.out_of_range" }),
    ).toBe(1);
    expect(await stack.metric("ingest", "ingest_readings_rejected_total", { reason: "not_json" })).toBe(2);
    expect(
      await stack.metric("ingest", "ingest_unknown_fields_total", {
        kind: "streetlight",
        field: "firmware_build",
      }),
    ).toBe(1);
    const fields = rowsOf(await stack.influx.query("SHOW FIELD KEYS FROM streetlight")).map(
      (r) => r.fieldKey,
    );
    expect(fields).not.toContain("firmware_build");
    expect(fields).toContain("meter_reset");

    // Still alive and not stalled: a reading sent after all the garbage lands.
    await send(topic, JSON.stringify(good()));
    await eventually(
      async () => (await countOf(stack.influx, "streetlight")) === goodCount + 1,
      30_000,
      "a reading after the garbage",
    );
    const health = await (await fetch(`${stack.ingestOps}/health`)).json();
    expect(health).toMatchObject({ status: "ok" });
  });
});
