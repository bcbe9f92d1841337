// The wire contract's validation, table-driven from the schemas' own metadata so that every field of every kind
// is covered by every rule that applies to it. Pure: no I/O, a fixed clock.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { deviceRegistration } from "../../services/contract/devices.ts";
import { fieldMeta } from "../../services/contract/fields.ts";
import {
  EARLIEST_TS_MS,
  MAX_BATCH_READINGS,
  MAX_FUTURE_SKEW_MS,
  MAX_MESSAGE_BYTES,
  READING_SCHEMAS,
} from "../../services/contract/readings.ts";
import {
  DEVICE_ID_PATTERN,
  DEVICE_KINDS,
  type DeviceKind,
  parseDeviceTopic,
} from "../../services/contract/topics.ts";
import { checkMeter, decodePayload, validateReading } from "../../services/contract/validate.ts";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const MIN = 60_000;

/** A valid reading per kind with every optional field set, so that each field can be broken on its own. */
const FULL: Record<DeviceKind, Record<string, unknown>> = {
  streetlight: {
    ts: "2025-06-01T11:59:00Z",
    seq: 41,
    power_w: 61.5,
    energy_wh: 1284730.2,
    dim_pct: 70,
    lamp_ok: true,
    voltage_v: 229.8,
    current_a: 0.27,
    temp_c: 41.5,
    meter_reset: false,
  },
  airquality: {
    ts: "2025-06-01T11:59:00Z",
    seq: 9120,
    pm25_ugm3: 12.4,
    pm10_ugm3: 31,
    no2_ugm3: 38.2,
    o3_ugm3: 54.9,
    co_mgm3: 0.4,
    temp_c: 24.1,
    rh_pct: 71,
  },
  traffic: {
    ts: "2025-06-01T11:59:00Z",
    seq: 700,
    period_s: 300,
    vehicles: 412,
    avg_speed_kmh: 38.5,
    occupancy_pct: 22.1,
    cars: 351,
    trucks: 12,
    buses: 9,
    motorcycles: 36,
    bicycles: 4,
  },
};

const with_ = (kind: DeviceKind, patch: Record<string, unknown>) => ({ ...FULL[kind], ...patch });
const without = (kind: DeviceKind, field: string) => {
  const { [field]: _, ...rest } = FULL[kind];
  return rest;
};

function reasonOf(kind: DeviceKind, raw: unknown, now = NOW): string {
  const r = validateReading(kind, raw, now);
  return r.ok ? "ok" : r.reason;
}

type Case = { kind: DeviceKind; field: string; value: unknown; reason: string };

/** Every field × rule case, generated from the schemas and their field metadata. */
function fieldCases(): { invalid: Case[]; boundaries: Case[] } {
  const invalid: Case[] = [];
  const boundaries: Case[] = [];
  for (const kind of DEVICE_KINDS) {
    for (const [field, schema] of Object.entries(READING_SCHEMAS[kind].shape as Record<string, z.ZodType>)) {
      const optional = schema.safeParse(undefined).success;
      if (!optional) invalid.push({ kind, field, value: undefined, reason: `${field}.missing` });
      const meta = fieldMeta(schema);
      if (!meta) continue; // ts: no metadata, covered by its own tests below
      if (meta.influx === "boolean") {
        for (const value of [1, "true", null])
          invalid.push({ kind, field, value, reason: `${field}.wrong_type` });
        continue;
      }
      for (const value of ["1", true, null, [1], { v: 1 }])
        invalid.push({ kind, field, value, reason: `${field}.wrong_type` });
      const min = meta.min as number;
      const max = meta.max as number;
      invalid.push({
        kind,
        field,
        value: min - 1,
        reason: `${field}.${min === 0 ? "negative" : "out_of_range"}`,
      });
      invalid.push({ kind, field, value: max + 1, reason: `${field}.out_of_range` });
      if (meta.influx === "integer") {
        invalid.push({ kind, field, value: min + 0.5, reason: `${field}.not_integer` });
      }
      boundaries.push({ kind, field, value: min, reason: "ok" }, { kind, field, value: max, reason: "ok" });
    }
  }
  return { invalid, boundaries };
}

const { invalid: INVALID, boundaries: BOUNDARIES } = fieldCases();

describe("validateReading: valid readings", () => {
  const TS = {
    "ISO with Z": { ts: "2025-06-01T11:59:30Z", ms: NOW - 30_000 },
    "ISO with fraction and Z": { ts: "2025-06-01T11:59:30.250Z", ms: NOW - 29_750 },
    "ISO with +01:00": { ts: "2025-06-01T12:59:30+01:00", ms: NOW - 30_000 },
    "ISO with -0230": { ts: "2025-06-01T09:29:30-0230", ms: NOW - 30_000 },
    "ISO without seconds": { ts: "2025-06-01T11:59Z", ms: NOW - MIN },
    "epoch ms": { ts: NOW - 30_000, ms: NOW - 30_000 },
    "epoch ms with a fraction (dropped)": { ts: NOW - 30_000 + 0.75, ms: NOW - 30_000 },
  } as const;
  const cases = DEVICE_KINDS.flatMap((kind) =>
    Object.entries(TS).map(([label, t]) => ({ kind, label, ...t })),
  );

  it.each(cases)("$kind, ts as $label", ({ kind, ts, ms }) => {
    const r = validateReading(kind, with_(kind, { ts }), NOW);
    expect(r).toEqual({ ok: true, reading: with_(kind, { ts }), tsMs: ms, unknownFields: [] });
  });

  it.each(DEVICE_KINDS)("%s with only the required fields", (kind) => {
    const shape = READING_SCHEMAS[kind].shape as Record<string, z.ZodType>;
    const required = Object.fromEntries(
      Object.entries(FULL[kind]).filter(([k]) => !(shape[k] as z.ZodType).safeParse(undefined).success),
    );
    expect(Object.keys(required).length).toBeLessThan(Object.keys(FULL[kind]).length);
    expect(validateReading(kind, required, NOW)).toMatchObject({ ok: true, reading: required });
  });

  it.each(DEVICE_KINDS)("%s: unknown fields are reported and not kept", (kind) => {
    const r = validateReading(kind, with_(kind, { fw_rev: "1.4.2", rssi_dbm: -71 }), NOW);
    expect(r.ok && r.unknownFields).toEqual(["fw_rev", "rssi_dbm"]);
    expect(r.ok && r.reading).toEqual(FULL[kind]);
  });
});

describe("validateReading: field rules, generated from the schemas", () => {
  it("covers every field of every kind", () => {
    for (const kind of DEVICE_KINDS)
      for (const field of Object.keys(READING_SCHEMAS[kind].shape))
        expect(
          INVALID.some((c) => c.kind === kind && c.field === field),
          `${kind}.${field}`,
        ).toBe(true);
  });

  for (const c of INVALID) {
    const title = `${c.kind}: ${c.field} = ${JSON.stringify(c.value) ?? "absent"} → ${c.reason}`;
    const raw = c.value === undefined ? without(c.kind, c.field) : with_(c.kind, { [c.field]: c.value });
    it(title, () => {
      const r = validateReading(c.kind, raw, NOW);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.reason).toBe(c.reason);
      expect(`${r.field}.${r.rule}`).toBe(c.reason);
    });
  }

  it.each(BOUNDARIES)("$kind: field schema of $field accepts $value", ({ kind, field, value }) => {
    const schema = (READING_SCHEMAS[kind].shape as Record<string, z.ZodType>)[field] as z.ZodType;
    expect(schema.safeParse(value).success).toBe(true);
  });

  it.each(DEVICE_KINDS)("%s: optional fields may be absent, but not null", (kind) => {
    const shape = READING_SCHEMAS[kind].shape as Record<string, z.ZodType>;
    for (const [field, schema] of Object.entries(shape)) {
      if (!schema.safeParse(undefined).success) continue;
      expect(reasonOf(kind, without(kind, field)), field).toBe("ok");
      expect(reasonOf(kind, with_(kind, { [field]: null })), field).toBe(`${field}.wrong_type`);
    }
  });

  it("a non-finite number (JSON 1e999 parses to Infinity) is refused", () => {
    const { power_w } = JSON.parse(`{"power_w":1e999}`) as { power_w: number };
    expect(power_w).toBe(Number.POSITIVE_INFINITY);
    expect(reasonOf("streetlight", with_("streetlight", { power_w }))).toBe("power_w.wrong_type");
    expect(reasonOf("streetlight", with_("streetlight", { ts: -power_w }))).toBe("ts.wrong_type");
  });

  it("reports the first broken field in schema order", () => {
    expect(reasonOf("streetlight", with_("streetlight", { dim_pct: 101, power_w: -1 }))).toBe(
      "power_w.negative",
    );
    expect(reasonOf("streetlight", with_("streetlight", { dim_pct: 101, ts: "garbage" }))).toBe(
      "dim_pct.out_of_range",
    );
  });

  it.each([42, "reading", null, true, [FULL.streetlight]])(
    "a reading that is %j → reading.not_object",
    (raw) => {
      expect(validateReading("streetlight", raw, NOW)).toMatchObject({
        ok: false,
        reason: "reading.not_object",
        field: "reading",
        rule: "not_object",
      });
    },
  );
});

describe.each(DEVICE_KINDS)("validateReading: ts rules (%s)", (kind) => {
  const ts = (value: unknown) =>
    reasonOf(kind, value === undefined ? without(kind, "ts") : with_(kind, { ts: value }));
  const iso = (ms: number) => new Date(ms).toISOString();

  it.each([
    ["no zone", "2025-06-01T11:59:00"],
    ["a space for T", "2025-06-01 11:59:00Z"],
    ["a date only", "2025-06-01"],
    ["garbage", "yesterday"],
    ["an empty string", ""],
    ["epoch ms as a string", String(NOW)],
    ["an hour 25", "2025-06-01T25:00:00Z"],
    ["a month 13", "2025-13-01T11:00:00Z"],
    ["an offset +99:99", "2025-06-01T11:00:00+99:99"],
  ])("%s → ts.invalid", (_, value) => {
    expect(ts(value)).toBe("ts.invalid");
  });

  // V8's Date.parse rolls 2025-02-30 over to 2025-03-02; the contract refuses impossible dates.
  it.each(["2025-02-30T11:00:00Z", "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z", "2025-00-10T00:00:00Z"])(
    "an impossible calendar date %s → ts.invalid",
    (value) => {
      expect(ts(value)).toBe("ts.invalid");
    },
  );

  it("a leap day is a real date", () => {
    expect(ts("2024-02-29T11:00:00Z")).not.toBe("ts.invalid");
  });

  it.each([
    [true, "ts.wrong_type"],
    [null, "ts.wrong_type"],
    [{ ms: NOW }, "ts.wrong_type"],
    [undefined, "ts.missing"],
  ])("%j → %s", (value, reason) => {
    expect(ts(value)).toBe(reason);
  });

  it("in the future: 4 min and exactly 5 min ahead are allowed, 5 min 1 s is not", () => {
    expect(ts(NOW + 4 * MIN)).toBe("ok");
    expect(ts(iso(NOW + 4 * MIN))).toBe("ok");
    expect(ts(NOW + MAX_FUTURE_SKEW_MS)).toBe("ok");
    expect(ts(NOW + 5 * MIN + 1000)).toBe("ts.in_future");
    expect(ts(iso(NOW + 5 * MIN + 1000))).toBe("ts.in_future");
    expect(ts("2025-06-01T13:05:01+01:00")).toBe("ts.in_future");
  });

  it("too old: before 2000-01-01, including epoch seconds; 2000-01-01T00:00:00Z itself is allowed", () => {
    expect(ts("2000-01-01T00:00:00Z")).toBe("ok");
    expect(ts(EARLIEST_TS_MS)).toBe("ok");
    expect(ts("1999-12-31T23:59:59.999Z")).toBe("ts.too_old");
    expect(ts(EARLIEST_TS_MS - 1)).toBe("ts.too_old");
    expect(ts(Math.floor(NOW / 1000))).toBe("ts.too_old");
    expect(ts(0)).toBe("ts.too_old");
    expect(ts(-1)).toBe("ts.too_old");
  });

  it("a backlog of any age after 2000 is accepted", () => {
    expect(ts("2003-05-16T04:00:00Z")).toBe("ok");
  });
});

describe("validateReading: traffic rules across fields", () => {
  it("class counts may add up to the total or less, not more", () => {
    const base = { vehicles: 100, cars: 60, trucks: 10, buses: 5, motorcycles: 20, bicycles: 5 };
    expect(reasonOf("traffic", with_("traffic", base))).toBe("ok");
    expect(reasonOf("traffic", with_("traffic", { ...base, bicycles: 4 }))).toBe("ok");
    const r = validateReading("traffic", with_("traffic", { ...base, bicycles: 6 }), NOW);
    expect(r).toMatchObject({
      ok: false,
      reason: "vehicles.inconsistent",
      field: "vehicles",
      rule: "inconsistent",
    });
    expect(reasonOf("traffic", with_("traffic", { vehicles: 10, cars: 8, trucks: 4 }))).toBe(
      "vehicles.inconsistent",
    );
  });

  it("no more than 5 vehicles per second of period", () => {
    const none = {
      cars: undefined,
      trucks: undefined,
      buses: undefined,
      motorcycles: undefined,
      bicycles: undefined,
    };
    expect(reasonOf("traffic", with_("traffic", { ...none, period_s: 300, vehicles: 1500 }))).toBe("ok");
    expect(reasonOf("traffic", with_("traffic", { ...none, period_s: 300, vehicles: 1501 }))).toBe(
      "vehicles.out_of_range",
    );
    expect(reasonOf("traffic", with_("traffic", { ...none, period_s: 1, vehicles: 6 }))).toBe(
      "vehicles.out_of_range",
    );
  });

  it("the rate rule is checked before the class rule", () => {
    expect(reasonOf("traffic", with_("traffic", { period_s: 1, vehicles: 6, cars: 7 }))).toBe(
      "vehicles.out_of_range",
    );
  });
});

describe("decodePayload", () => {
  const reading = JSON.stringify(FULL.streetlight);

  it("invalid UTF-8 → not_json (not a U+FFFD field name)", () => {
    const bytes = Buffer.concat([Buffer.from('{"'), Buffer.from([0xff]), Buffer.from('":1}')]);
    expect(decodePayload(bytes)).toMatchObject({ ok: false, reason: "not_json" });
  });

  it("one object → one reading, not a batch", () => {
    expect(decodePayload(reading)).toEqual({ ok: true, readings: [FULL.streetlight], batch: false });
    expect(decodePayload(Buffer.from(reading))).toEqual({
      ok: true,
      readings: [FULL.streetlight],
      batch: false,
    });
  });

  it(`an array of ${MAX_BATCH_READINGS} → a batch of ${MAX_BATCH_READINGS}`, () => {
    const r = decodePayload(`[${Array(MAX_BATCH_READINGS).fill(reading).join(",")}]`);
    expect(r.ok && r.batch).toBe(true);
    expect(r.ok && r.readings.length).toBe(MAX_BATCH_READINGS);
  });

  it("an array's elements are passed on whatever they are (each reading is validated on its own)", () => {
    expect(decodePayload(`[1, null, ${reading}]`)).toEqual({
      ok: true,
      readings: [1, null, FULL.streetlight],
      batch: true,
    });
  });

  it.each([
    ["truncated JSON", `{"ts":`],
    ["an empty payload", ""],
    ["a byte-order mark", `\uFEFF${reading}`],
    ["NaN", `{"power_w": NaN}`],
    ["single quotes", `{'ts': 1}`],
  ])("%s → not_json", (_, payload) => {
    expect(decodePayload(payload)).toMatchObject({ ok: false, reason: "not_json" });
  });

  it.each([
    ["a number", "42", "payload is a JSON number"],
    ["a string", `"hello"`, "payload is a JSON string"],
    ["null", "null", "payload is a JSON null"],
    ["a boolean", "true", "payload is a JSON boolean"],
  ])("%s → bad_shape", (_, payload, detail) => {
    expect(decodePayload(payload)).toEqual({ ok: false, reason: "bad_shape", detail });
  });

  it("[] → empty_batch", () => {
    expect(decodePayload("[]")).toMatchObject({ ok: false, reason: "empty_batch" });
  });

  it(`${MAX_BATCH_READINGS + 1} readings → batch_too_large`, () => {
    expect(
      decodePayload(
        `[${Array(MAX_BATCH_READINGS + 1)
          .fill("{}")
          .join(",")}]`,
      ),
    ).toEqual({
      ok: false,
      reason: "batch_too_large",
      detail: `${MAX_BATCH_READINGS + 1} readings > ${MAX_BATCH_READINGS}`,
    });
  });

  it("exactly 256 KiB is accepted, one byte more is too_large (counted in bytes, not characters)", () => {
    const pad = (bytes: number) => `{"pad":"${"x".repeat(bytes - 10)}"}`;
    expect(Buffer.byteLength(pad(MAX_MESSAGE_BYTES))).toBe(MAX_MESSAGE_BYTES);
    expect(decodePayload(pad(MAX_MESSAGE_BYTES)).ok).toBe(true);
    expect(decodePayload(Buffer.from(pad(MAX_MESSAGE_BYTES))).ok).toBe(true);
    expect(decodePayload(pad(MAX_MESSAGE_BYTES + 1))).toMatchObject({ ok: false, reason: "too_large" });
    expect(decodePayload(Buffer.from(pad(MAX_MESSAGE_BYTES + 1)))).toMatchObject({
      ok: false,
      reason: "too_large",
    });
    // 2 bytes per "é": under the limit in characters, over it in bytes.
    const wide = `"${"é".repeat(MAX_MESSAGE_BYTES / 2)}"`;
    expect(wide.length).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(decodePayload(wide)).toMatchObject({ ok: false, reason: "too_large" });
  });

  it("size is checked before parsing: a huge non-JSON payload is too_large, not not_json", () => {
    expect(decodePayload("x".repeat(MAX_MESSAGE_BYTES + 1))).toMatchObject({ reason: "too_large" });
  });
});

describe("checkMeter (energy_wh never runs backwards)", () => {
  const prev = { tsMs: NOW - 2 * MIN, energyWh: 1300 };

  it("a later reading with a lower value is rejected as energy_wh.backwards", () => {
    expect(checkMeter(prev, NOW - MIN, 1299.9, undefined)).toMatchObject({
      ok: false,
      reason: "energy_wh.backwards",
      field: "energy_wh",
      rule: "backwards",
    });
    expect(checkMeter(prev, NOW - MIN, 0, false)?.reason).toBe("energy_wh.backwards");
  });

  it("…unless it carries meter_reset: true", () => {
    expect(checkMeter(prev, NOW - MIN, 0.4, true)).toBeUndefined();
  });

  it("an equal or higher value is fine", () => {
    expect(checkMeter(prev, NOW - MIN, 1300, undefined)).toBeUndefined();
    expect(checkMeter(prev, NOW - MIN, 1300.1, undefined)).toBeUndefined();
  });

  it("an older (late backlog) or same-time reading is not compared", () => {
    expect(checkMeter(prev, NOW - 3 * MIN, 1000, undefined)).toBeUndefined();
    expect(checkMeter(prev, prev.tsMs, 1000, undefined)).toBeUndefined();
  });

  it("the first reading of a device is not compared", () => {
    expect(checkMeter(undefined, NOW, 0, undefined)).toBeUndefined();
  });
});

describe("parseDeviceTopic", () => {
  it.each([
    ["city/v1/streetlight/sl-anfa-0001/telemetry", "streetlight", "sl-anfa-0001", "telemetry"],
    ["city/v1/airquality/aq-maarif-01/state", "airquality", "aq-maarif-01", "state"],
    ["city/v1/traffic/tc-fida-0007/cmd", "traffic", "tc-fida-0007", "cmd"],
    ["city/v1/traffic/007/ack", "traffic", "007", "ack"],
    [`city/v1/streetlight/${"a".repeat(64)}/telemetry`, "streetlight", "a".repeat(64), "telemetry"],
    ["city/v1/streetlight/sl-/telemetry", "streetlight", "sl-", "telemetry"],
  ])("%s", (topic, kind, deviceId, channel) => {
    expect(parseDeviceTopic(topic)).toEqual({ ok: true, kind, deviceId, channel });
  });

  it.each([
    ["wrong root", "town/v1/streetlight/sl-anfa-0001/telemetry", "expected city/v1/"],
    ["wrong version", "city/v2/streetlight/sl-anfa-0001/telemetry", "expected city/v1/"],
    ["extra level", "city/v1/streetlight/sl-anfa-0001/telemetry/extra", "expected city/v1/"],
    ["missing level", "city/v1/streetlight/telemetry", "expected city/v1/"],
    ["leading slash", "/city/v1/streetlight/sl-anfa-0001", "expected city/v1/"],
    ["unknown kind", "city/v1/lamp/sl-anfa-0001/telemetry", 'unknown kind "lamp"'],
    ["kind in upper case", "city/v1/Streetlight/sl-anfa-0001/telemetry", 'unknown kind "Streetlight"'],
    ["upper-case id", "city/v1/streetlight/SL-ANFA-0001/telemetry", 'device id "SL-ANFA-0001"'],
    ["too short id", "city/v1/streetlight/sl/telemetry", 'device id "sl"'],
    ["too long id (65)", `city/v1/streetlight/${"a".repeat(65)}/telemetry`, "does not match"],
    ["leading dash", "city/v1/streetlight/-sl-0001/telemetry", 'device id "-sl-0001"'],
    ["underscore", "city/v1/streetlight/sl_0001/telemetry", 'device id "sl_0001"'],
    ["empty id", "city/v1/streetlight//telemetry", 'device id ""'],
    ["wildcard id", "city/v1/streetlight/+/telemetry", 'device id "+"'],
    ["unknown channel", "city/v1/streetlight/sl-anfa-0001/status", 'unknown channel "status"'],
    ["channel in upper case", "city/v1/streetlight/sl-anfa-0001/Telemetry", 'unknown channel "Telemetry"'],
  ])("%s → bad_topic", (_, topic, detail) => {
    const r = parseDeviceTopic(topic);
    expect(r).toMatchObject({ ok: false, reason: "bad_topic" });
    expect(!r.ok && r.detail).toContain(detail);
  });

  it("the id pattern is the documented one: 3–64 of [a-z0-9-], not starting with a dash", () => {
    expect(DEVICE_ID_PATTERN.source).toBe("^[a-z0-9][a-z0-9-]{2,63}$");
  });
});

describe("deviceRegistration", () => {
  const streetlight = {
    id: "sl-anfa-0001",
    kind: "streetlight",
    district: "Anfa",
    lat: 33.5903,
    lon: -7.6498,
    installed_at: "2024-11-05",
    led_watts: 90,
    legacy_watts: 295,
  };
  const airquality = {
    id: "aq-maarif-01",
    kind: "airquality",
    district: "Ben M'Sick",
    lat: 33.56,
    lon: -7.57,
    installed_at: "2024-11-05",
  };
  const issues = (input: unknown) =>
    (deviceRegistration.safeParse(input).error?.issues ?? []).map((i) => ({
      path: i.path.join("."),
      message: i.message,
    }));

  it("accepts a streetlight with its wattages and an air-quality sensor without, defaulting the interval", () => {
    expect(deviceRegistration.parse(streetlight)).toEqual({ ...streetlight, report_interval_s: 60 });
    expect(deviceRegistration.parse(airquality)).toEqual({ ...airquality, report_interval_s: 60 });
  });

  it("a streetlight without wattages is rejected, naming each missing field", () => {
    const { led_watts: _, legacy_watts: __, ...bare } = streetlight;
    expect(issues(bare)).toEqual([
      { path: "led_watts", message: "required for a streetlight" },
      { path: "legacy_watts", message: "required for a streetlight" },
    ]);
    const { legacy_watts: ___, ...noLegacy } = streetlight;
    expect(issues(noLegacy)).toEqual([{ path: "legacy_watts", message: "required for a streetlight" }]);
  });

  it("an unknown district is rejected, listing the city's districts", () => {
    const found = issues({ ...airquality, district: "Gotham" });
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe("district");
    expect(found[0]?.message).toContain("Sidi Maarouf");
    expect(issues({ ...airquality, district: "ben m'sick" }).map((i) => i.path)).toEqual(["district"]);
  });

  it.each(["2024-13-01", "05/11/2024", "2024-11-5", "2024-02-30", "2024-11-05T10:00:00Z", ""])(
    "installed_at %j is rejected",
    (installed_at) => {
      expect(issues({ ...airquality, installed_at })).toEqual([
        { path: "installed_at", message: "must be a date YYYY-MM-DD" },
      ]);
    },
  );

  it.each([
    ["id", "SL-0001"],
    ["kind", "lamp"],
    ["lat", 91],
    ["lon", -181],
    ["report_interval_s", 0],
    ["report_interval_s", 1.5],
    ["report_interval_s", 86_401],
  ])("%s = %j is rejected", (field, value) => {
    expect(issues({ ...airquality, [field]: value }).map((i) => i.path)).toEqual([field]);
  });

  it.each([
    ["led_watts", 0],
    ["led_watts", 1001],
    ["legacy_watts", -5],
    ["legacy_watts", 2001],
  ])("streetlight %s = %j is rejected", (field, value) => {
    expect(issues({ ...streetlight, [field]: value }).map((i) => i.path)).toEqual([field]);
  });
});
