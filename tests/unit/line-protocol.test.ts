// The ingest's InfluxDB line protocol: escaping, field types from the contract's metadata, point time.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { fieldMeta, type InfluxType } from "../../services/contract/fields.ts";
import { READING_SCHEMAS } from "../../services/contract/readings.ts";
import { DEVICE_KINDS, type DeviceKind } from "../../services/contract/topics.ts";
import {
  escapeTag,
  pointTimeNs,
  quoteString,
  readingLine,
  storedFields,
  tagSet,
} from "../../services/ingest/line-protocol.ts";

const TS = Date.parse("2025-06-01T21:30:00Z"); // 1748813400000

describe("escapeTag", () => {
  it.each([
    ["Anfa", "Anfa"],
    ["Ben M'Sick", "Ben\\ M'Sick"], // the apostrophe needs no escape, the space does
    ["Sidi Belyout", "Sidi\\ Belyout"],
    ["a,b", "a\\,b"],
    ["a=b", "a\\=b"],
    ["a b,c=d", "a\\ b\\,c\\=d"],
    ["back\\slash", "back\\\\slash"],
    ["trailing\\", "trailing\\\\"],
    ["new\nline", "new\\nline"],
    ['quote"s', 'quote"s'],
  ])("%j → %j", (value, escaped) => {
    expect(escapeTag(value)).toBe(escaped);
  });
});

describe("tagSet", () => {
  it("sorts keys (InfluxDB's canonical order) and escapes values", () => {
    expect(tagSet({ district: "Ben M'Sick", device_id: "sl-bm-0001" })).toBe(
      ",device_id=sl-bm-0001,district=Ben\\ M'Sick",
    );
    expect(tagSet({ reason: "ts.invalid", kind: "traffic", device_id: "tc-1" })).toBe(
      ",device_id=tc-1,kind=traffic,reason=ts.invalid",
    );
    expect(tagSet({})).toBe("");
  });
});

describe("quoteString", () => {
  it.each([
    ["plain", '"plain"'],
    ["with space, comma=equals", '"with space, comma=equals"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["back\\slash", '"back\\\\slash"'],
    ["ends with \\", '"ends with \\\\"'],
    ["new\nline\ttab\r", '"new line tab "'],
    ["Ben M'Sick", `"Ben M'Sick"`],
    ['{"ts":1}', '"{\\"ts\\":1}"'],
  ])("%j → %s", (value, quoted) => {
    expect(quoteString(value)).toBe(quoted);
  });
});

describe("pointTimeNs", () => {
  it.each([
    [0, "1748813400000000000"],
    [5, "1748813400000000005"],
    [48213, "1748813400000048213"],
    [999_999, "1748813400000999999"],
    [1_000_000, "1748813400000000000"],
    [1_234_567, "1748813400000234567"],
    [Number.MAX_SAFE_INTEGER, "1748813400000740991"],
  ])("seq %d → %s", (seq, ns) => {
    expect(pointTimeNs(TS, seq)).toBe(ns);
  });

  it("is the ms time × 1e6 plus seq mod 1e6, as an exact integer string", () => {
    for (const seq of [0, 7, 123456, 987654321]) {
      expect(BigInt(pointTimeNs(TS, seq))).toBe(BigInt(TS) * 1_000_000n + BigInt(seq % 1_000_000));
    }
  });

  it("two readings in one millisecond with different seq get different times; a replay gets the same", () => {
    expect(pointTimeNs(TS, 41)).not.toBe(pointTimeNs(TS, 42));
    expect(pointTimeNs(TS, 41)).toBe(pointTimeNs(TS, 41));
  });
});

describe("readingLine", () => {
  const tags = tagSet({ device_id: "sl-bm-0001", district: "Ben M'Sick" });

  it("a full streetlight reading", () => {
    const line = readingLine(
      "streetlight",
      tags,
      {
        ts: "2025-06-01T22:30:00+01:00",
        seq: 48213,
        power_w: 61.5,
        energy_wh: 1284730.2,
        dim_pct: 70,
        lamp_ok: true,
        voltage_v: 229.8,
        current_a: 0.27,
        temp_c: -3.5,
        meter_reset: false,
      },
      TS,
    );
    expect(line).toBe(
      "streetlight,device_id=sl-bm-0001,district=Ben\\ M'Sick " +
        "seq=48213i,power_w=61.5,energy_wh=1284730.2,dim_pct=70,lamp_ok=true,voltage_v=229.8,current_a=0.27," +
        "temp_c=-3.5,meter_reset=false 1748813400000048213\n",
    );
  });

  it("optional fields that are absent are omitted; booleans are true/false", () => {
    const line = readingLine(
      "streetlight",
      tags,
      { ts: TS, seq: 1, power_w: 0, energy_wh: 0, dim_pct: 0, lamp_ok: false },
      TS,
    );
    expect(line).toBe(
      "streetlight,device_id=sl-bm-0001,district=Ben\\ M'Sick seq=1i,power_w=0,energy_wh=0,dim_pct=0,lamp_ok=false 1748813400000000001\n",
    );
  });

  it("integer fields carry the i suffix, floats never do (even a whole number)", () => {
    const line = readingLine(
      "traffic",
      ",device_id=tc-fida-0007,district=Al\\ Fida",
      {
        ts: TS,
        seq: 700,
        period_s: 300,
        vehicles: 412,
        avg_speed_kmh: 38,
        occupancy_pct: 22.1,
        cars: 351,
        bicycles: 0,
      },
      TS,
    );
    expect(line).toBe(
      "traffic,device_id=tc-fida-0007,district=Al\\ Fida " +
        "seq=700i,period_s=300i,vehicles=412i,avg_speed_kmh=38,occupancy_pct=22.1,cars=351i,bicycles=0i " +
        "1748813400000000700\n",
    );
  });

  it("ts is the point's time, never a field; unknown keys are not written", () => {
    const line = readingLine(
      "airquality",
      ",device_id=aq-1,district=Anfa",
      { ts: TS, seq: 3, pm25_ugm3: 1, pm10_ugm3: 2, no2_ugm3: 3, o3_ugm3: 4, fw_rev: "1.2" },
      TS,
    );
    expect(line).toBe(
      "airquality,device_id=aq-1,district=Anfa seq=3i,pm25_ugm3=1,pm10_ugm3=2,no2_ugm3=3,o3_ugm3=4 1748813400000000003\n",
    );
  });
});

describe.each(DEVICE_KINDS)("stored fields of %s follow the schema metadata", (kind: DeviceKind) => {
  const shape = READING_SCHEMAS[kind].shape as Record<string, z.ZodType>;

  it("every field but ts, in schema order, with the metadata's InfluxDB type", () => {
    const expected = Object.entries(shape)
      .filter(([name]) => name !== "ts")
      .map(([name, schema]) => [name, fieldMeta(schema)?.influx]);
    expect(storedFields(kind)).toEqual(expected);
  });

  it("a reading with every field set is written with each value in its type's syntax", () => {
    const sample: Record<InfluxType, unknown> = { float: 12.5, integer: 7, boolean: true };
    const reading: Record<string, unknown> = { ts: TS };
    for (const [name, type] of storedFields(kind)) reading[name] = sample[type];
    const line = readingLine(kind, ",device_id=x-1,district=Anfa", reading, TS);
    const [, fieldText, time] = line.trimEnd().split(" ");
    expect(time).toBe(pointTimeNs(TS, 7));
    const written = Object.fromEntries((fieldText ?? "").split(",").map((kv) => kv.split("=")));
    expect(Object.keys(written)).toEqual(storedFields(kind).map(([name]) => name));
    for (const [name, type] of storedFields(kind)) {
      expect(written[name], `${kind}.${name}`).toBe({ float: "12.5", integer: "7i", boolean: "true" }[type]);
    }
  });
});
