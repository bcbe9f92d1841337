// The ingest's per-message pipeline with an in-test registry map and a fixed clock: no broker, no InfluxDB.
import { describe, expect, it } from "vitest";
import { MAX_BATCH_READINGS, MAX_MESSAGE_BYTES } from "../../services/contract/readings.ts";
import {
  createPipeline,
  type DeviceInfo,
  EXCERPT_CHARS,
  type ProcessResult,
  RETRY_UNKNOWN,
} from "../../services/ingest/pipeline.ts";

const NOW = Date.parse("2025-06-01T21:30:05Z"); // 1748813405000
const TS = Date.parse("2025-06-01T21:30:00Z"); // 1748813400000
const MIN = 60_000;

const DEVICES: DeviceInfo[] = [
  { id: "sl-anfa-0001", kind: "streetlight", district: "Anfa" },
  { id: "sl-bm-0002", kind: "streetlight", district: "Ben M'Sick" },
  { id: "aq-maarif-01", kind: "airquality", district: "Maarif" },
  { id: "tc-fida-0007", kind: "traffic", district: "Al Fida" },
];

function setup(devices: DeviceInfo[] = DEVICES) {
  const registry = new Map(devices.map((d) => [d.id, d]));
  const pipeline = createPipeline({ lookup: (id) => registry.get(id), now: () => NOW });
  const run = (topic: string, payload: unknown, final = true): ProcessResult => {
    const text = typeof payload === "string" ? payload : JSON.stringify(payload);
    const r = pipeline.process(topic, Buffer.from(text), final);
    if (r === RETRY_UNKNOWN) throw new Error("unexpected RETRY_UNKNOWN");
    return r;
  };
  return { pipeline, registry, run };
}

const topic = (kind: string, id: string, channel = "telemetry") => `city/v1/${kind}/${id}/${channel}`;
const SL = topic("streetlight", "sl-anfa-0001");

const light = (patch: Record<string, unknown> = {}) => ({
  ts: TS,
  seq: 10,
  power_w: 61.5,
  energy_wh: 1300,
  dim_pct: 70,
  lamp_ok: true,
  ...patch,
});

type Line = {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string | number | boolean>;
  time: string;
};

/** Splits at `sep` outside quotes and not after a backslash. */
function splitLp(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      cur += c + (text[++i] ?? "");
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const unescapeTag = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

/** A small line-protocol reader, enough to check what the pipeline writes. */
function parseLine(line: string): Line {
  const [head, fieldText, time, ...rest] = splitLp(line, " ");
  expect(rest, `one measurement, one field set and one time in: ${line}`).toEqual([]);
  const [measurement, ...tagParts] = splitLp(head as string, ",");
  const tags = Object.fromEntries(
    tagParts.map((t) => {
      const [k, v] = splitLp(t, "=");
      return [k as string, unescapeTag(v as string)];
    }),
  );
  const fields: Line["fields"] = {};
  for (const kv of splitLp(fieldText as string, ",")) {
    const eq = kv.indexOf("=");
    const key = kv.slice(0, eq);
    const v = kv.slice(eq + 1);
    if (v.startsWith('"')) fields[key] = v.slice(1, -1).replace(/\\(["\\])/g, "$1");
    else if (v === "true" || v === "false") fields[key] = v === "true";
    else if (v.endsWith("i")) fields[key] = Number(v.slice(0, -1));
    else fields[key] = Number(v);
  }
  return { measurement: measurement as string, tags, fields, time: time as string };
}

const linesOf = (r: ProcessResult) => {
  expect(r.text.endsWith("\n")).toBe(true);
  const lines = r.text.slice(0, -1).split("\n");
  expect(lines).toHaveLength(r.lines);
  return lines.map(parseLine);
};

/** The single reject record of a message-level rejection. */
function onlyReject(r: ProcessResult): Line {
  expect(r.accepted).toBe(0);
  expect(r.rejections).toHaveLength(1);
  const [line, ...more] = linesOf(r);
  expect(more).toEqual([]);
  expect(line?.measurement).toBe("ingest_rejects");
  expect(line?.fields.index).toBeUndefined();
  return line as Line;
}

describe("message-level rejections: one ingest_rejects line with the right tags", () => {
  it("bad_topic: unknown kind", () => {
    const { run } = setup();
    const r = run(topic("lamp", "sl-anfa-0001"), light());
    expect(r.kind).toBe("unknown");
    expect(onlyReject(r)).toEqual({
      measurement: "ingest_rejects",
      tags: { device_id: "sl-anfa-0001", kind: "unknown", reason: "bad_topic" },
      fields: {
        detail: 'unknown kind "lamp" (one of streetlight, airquality, traffic)',
        excerpt: JSON.stringify(light()),
        topic: "city/v1/lamp/sl-anfa-0001/telemetry",
      },
      time: `${NOW}000000`,
    });
  });

  it("bad_topic: a known device on a channel other than telemetry", () => {
    const { run } = setup();
    const r = run(topic("streetlight", "sl-anfa-0001", "state"), { online: true });
    const line = onlyReject(r);
    expect(line.tags).toEqual({ device_id: "sl-anfa-0001", kind: "unknown", reason: "bad_topic" });
    expect(line.fields.detail).toBe("channel state is not telemetry");
    expect(r.rejections[0]).toMatchObject({ reason: "bad_topic", kind: "unknown", deviceId: "sl-anfa-0001" });
  });

  it("bad_topic: a malformed device id is kept in the tag as sent; a topic without one gets '-'", () => {
    const { run } = setup();
    expect(onlyReject(run(topic("streetlight", "SL Anfa,1"), light())).tags).toEqual({
      device_id: "SL Anfa,1",
      kind: "unknown",
      reason: "bad_topic",
    });
    expect(onlyReject(run("city/v1/streetlight", light())).tags.device_id).toBe("-");
    expect(onlyReject(run("city/v1/streetlight//telemetry", light())).tags.device_id).toBe("-");
    const long = `x${"a".repeat(99)}`;
    expect(onlyReject(run(topic("streetlight", long), light())).tags.device_id).toBe(long.slice(0, 64));
  });

  it("unknown_device: RETRY_UNKNOWN first, then a rejection without district once final", () => {
    const { pipeline, run } = setup();
    const t = topic("streetlight", "sl-new-0099");
    expect(pipeline.process(t, Buffer.from(JSON.stringify(light())), false)).toBe(RETRY_UNKNOWN);
    const r = run(t, light(), true);
    expect(r.kind).toBe("streetlight");
    const line = onlyReject(r);
    expect(line.tags).toEqual({ device_id: "sl-new-0099", kind: "streetlight", reason: "unknown_device" });
    expect(line.fields.detail).toBe("sl-new-0099 is not registered");
  });

  it("unknown_device: found on the retry once the registry knows it", () => {
    const { pipeline, registry, run } = setup();
    const t = topic("streetlight", "sl-new-0099");
    expect(pipeline.process(t, Buffer.from(JSON.stringify(light())), false)).toBe(RETRY_UNKNOWN);
    registry.set("sl-new-0099", { id: "sl-new-0099", kind: "streetlight", district: "Anfa" });
    const r = run(t, light(), true);
    expect(r).toMatchObject({ accepted: 1, rejections: [] });
  });

  it("kind_mismatch: tagged with the topic's kind and the registered district", () => {
    const { run } = setup();
    const line = onlyReject(run(topic("streetlight", "aq-maarif-01"), light()));
    expect(line.tags).toEqual({
      device_id: "aq-maarif-01",
      kind: "streetlight",
      reason: "kind_mismatch",
      district: "Maarif",
    });
    expect(line.fields.detail).toBe("registered as airquality, topic says streetlight");
  });

  it.each([
    ["too_large", "x".repeat(MAX_MESSAGE_BYTES + 1)],
    ["not_json", '{"ts": 1748813400000, "seq": '],
    ["bad_shape", "42"],
    ["bad_shape", '"hello"'],
    ["bad_shape", "null"],
    ["empty_batch", "[]"],
    ["batch_too_large", JSON.stringify(Array(MAX_BATCH_READINGS + 1).fill(light()))],
  ])("%s", (reason, payload) => {
    const { run } = setup();
    const r = run(topic("streetlight", "sl-bm-0002"), payload);
    expect(r.kind).toBe("streetlight");
    expect(r.rejections[0]?.reason).toBe(reason);
    const line = onlyReject(r);
    expect(line.tags).toEqual({
      device_id: "sl-bm-0002",
      kind: "streetlight",
      reason,
      district: "Ben M'Sick",
    });
    expect(line.fields.excerpt).toBe(payload.slice(0, EXCERPT_CHARS));
    expect(line.fields.topic).toBe("city/v1/streetlight/sl-bm-0002/telemetry");
  });

  it("internal_error: the payload kept as a reject record, tagged from the topic when it parses", () => {
    const { pipeline } = setup();
    const payload = Buffer.from(JSON.stringify(light({ note: "n".repeat(2000) })));
    const r = pipeline.internalError(SL, payload, `boom ${"x".repeat(1000)}`);
    expect(r.kind).toBe("streetlight");
    const line = onlyReject(r);
    expect(line.tags).toEqual({ device_id: "sl-anfa-0001", kind: "streetlight", reason: "internal_error" });
    expect(line.fields.detail).toBe(`boom ${"x".repeat(295)}`);
    expect(line.fields.excerpt).toBe(payload.toString().slice(0, EXCERPT_CHARS));
    const bad = onlyReject(pipeline.internalError("elsewhere/x", Buffer.from("{}"), "boom"));
    expect(bad.tags).toEqual({ device_id: "-", kind: "unknown", reason: "internal_error" });
  });

  it("the exact line of a reject record", () => {
    const { run } = setup();
    expect(run(SL, "[]").text).toBe(
      'ingest_rejects,device_id=sl-anfa-0001,district=Anfa,kind=streetlight,reason=empty_batch detail="empty array",excerpt="[]",topic="city/v1/streetlight/sl-anfa-0001/telemetry" 1748813405000000000\n',
    );
  });

  it("reject records received in the same millisecond get distinct times", () => {
    const { run } = setup();
    const times = [run(SL, "[]"), run(SL, "null"), run(SL, "{")].map((r) => onlyReject(r).time);
    expect(times).toEqual([`${NOW}000000`, `${NOW}000001`, `${NOW}000002`]);
  });
});

describe("readings", () => {
  it("an accepted reading becomes one point: measurement = kind, tags device_id and district, time = ts + seq", () => {
    const { run } = setup();
    const r = run(topic("streetlight", "sl-bm-0002"), light({ ts: "2025-06-01T22:30:00+01:00", seq: 48213 }));
    expect(r).toMatchObject({
      kind: "streetlight",
      accepted: 1,
      lines: 1,
      rejections: [],
      unknownFields: [],
    });
    expect(r.text).toBe(
      "streetlight,device_id=sl-bm-0002,district=Ben\\ M'Sick seq=48213i,power_w=61.5,energy_wh=1300,dim_pct=70,lamp_ok=true 1748813400000048213\n",
    );
  });

  it("a backlog array with one bad reading: the good lines plus one reject with its index", () => {
    const { run } = setup();
    const t = topic("traffic", "tc-fida-0007");
    const counts = (seq: number, patch: Record<string, unknown> = {}) => ({
      ts: TS - (3 - seq) * 5 * MIN,
      seq,
      period_s: 300,
      vehicles: 400,
      avg_speed_kmh: 40,
      occupancy_pct: 20,
      ...patch,
    });
    const bad = counts(1, { cars: 300, trucks: 200 });
    const r = run(t, [counts(0), bad, counts(2), counts(3)]);
    expect(r).toMatchObject({ kind: "traffic", accepted: 3, lines: 4 });
    expect(r.rejections).toEqual([
      {
        reason: "vehicles.inconsistent",
        kind: "traffic",
        deviceId: "tc-fida-0007",
        detail: "500 vehicles by class > 400 in total",
        excerpt: JSON.stringify(bad),
        index: 1,
      },
    ]);
    const lines = linesOf(r);
    expect(lines.map((l) => l.measurement)).toEqual(["traffic", "ingest_rejects", "traffic", "traffic"]);
    expect(lines.filter((l) => l.measurement === "traffic").map((l) => l.fields.seq)).toEqual([0, 2, 3]);
    expect(lines[0]?.tags).toEqual({ device_id: "tc-fida-0007", district: "Al Fida" });
    expect(lines[1]).toEqual({
      measurement: "ingest_rejects",
      tags: {
        device_id: "tc-fida-0007",
        kind: "traffic",
        reason: "vehicles.inconsistent",
        district: "Al Fida",
      },
      fields: {
        detail: "500 vehicles by class > 400 in total",
        excerpt: JSON.stringify(bad),
        topic: t,
        index: 1,
      },
      time: `${NOW}000000`,
    });
  });

  it("lastTs and firstTs: the newest and oldest accepted readings of a message, in any order, rejects left out", () => {
    const { run } = setup();
    const r = run(SL, [
      light({ ts: TS - 10 * MIN, seq: 1, energy_wh: 1290 }),
      light({ ts: TS - 30 * MIN, seq: 2, energy_wh: 1280, dim_pct: 101 }),
      light({ ts: TS - 20 * MIN, seq: 3, energy_wh: 1285 }),
      light({ ts: TS, seq: 4 }),
    ]);
    expect(r).toMatchObject({ accepted: 3, lastTs: TS, firstTs: TS - 20 * MIN });
    const none = run(SL, light({ dim_pct: 101 }));
    expect([none.firstTs, none.lastTs]).toEqual([undefined, undefined]);
  });

  it("a single reading that is rejected has no index", () => {
    const { run } = setup();
    const r = run(SL, light({ dim_pct: 101 }));
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0]).not.toHaveProperty("index");
    const line = onlyReject(r);
    expect(line.tags.reason).toBe("dim_pct.out_of_range");
    expect(line.tags.district).toBe("Anfa");
  });

  it("non-object readings in an array are rejected one by one as reading.not_object", () => {
    const { run } = setup();
    const r = run(SL, [light(), 42, null]);
    expect(r.accepted).toBe(1);
    expect(r.rejections.map((x) => [x.reason, x.index, x.excerpt])).toEqual([
      ["reading.not_object", 1, "42"],
      ["reading.not_object", 2, "null"],
    ]);
  });

  it("a reading in the future is judged against the pipeline's clock", () => {
    const { run } = setup();
    expect(run(SL, light({ ts: NOW + 5 * MIN })).accepted).toBe(1);
    expect(run(SL, light({ ts: NOW + 5 * MIN + 1 })).rejections[0]?.reason).toBe("ts.in_future");
  });

  it("unknown fields are listed (per reading, in order) and not written", () => {
    const { run } = setup();
    const r = run(SL, [
      light({ seq: 1, fw_rev: "1.4.2" }),
      light({ seq: 2, fw_rev: "1.4.2", rssi_dbm: -71 }),
    ]);
    expect(r.accepted).toBe(2);
    expect(r.unknownFields).toEqual(["fw_rev", "fw_rev", "rssi_dbm"]);
    expect(r.text).not.toContain("fw_rev");
    expect(r.text).not.toContain("rssi");
  });

  it("unknown fields of a rejected reading are not listed", () => {
    const { run } = setup();
    expect(run(SL, light({ dim_pct: -1, fw_rev: "x" })).unknownFields).toEqual([]);
  });

  it("a device's district tag follows the registry", () => {
    const { registry, run } = setup();
    expect(linesOf(run(SL, light({ seq: 1 })))[0]?.tags.district).toBe("Anfa");
    registry.set("sl-anfa-0001", { id: "sl-anfa-0001", kind: "streetlight", district: "Sidi Belyout" });
    expect(linesOf(run(SL, light({ seq: 2 })))[0]?.tags.district).toBe("Sidi Belyout");
  });
});

describe("the meter rule across messages", () => {
  const reasons = (r: ProcessResult) => r.rejections.map((x) => x.reason);

  it("backwards is rejected, meter_reset accepted, a late reading not compared, a rejected one not remembered", () => {
    const { run } = setup();
    expect(reasons(run(SL, light({ ts: TS - 10 * MIN, seq: 1, energy_wh: 1300 })))).toEqual([]);
    // Later and lower: rejected.
    expect(reasons(run(SL, light({ ts: TS - 9 * MIN, seq: 2, energy_wh: 1299 })))).toEqual([
      "energy_wh.backwards",
    ]);
    // Equal is fine.
    expect(reasons(run(SL, light({ ts: TS - 8 * MIN, seq: 3, energy_wh: 1300 })))).toEqual([]);
    // Late (older than the last accepted) and lower: not compared.
    expect(reasons(run(SL, light({ ts: TS - 20 * MIN, seq: 0, energy_wh: 1200 })))).toEqual([]);
    // …and it did not move the remembered position back: lower than 1300 later on is still backwards.
    expect(reasons(run(SL, light({ ts: TS - 7 * MIN, seq: 4, energy_wh: 1250 })))).toEqual([
      "energy_wh.backwards",
    ]);
    // A reset restarts the meter; readings after it compare with the new position.
    expect(reasons(run(SL, light({ ts: TS - 6 * MIN, seq: 0, energy_wh: 0.4, meter_reset: true })))).toEqual(
      [],
    );
    expect(reasons(run(SL, light({ ts: TS - 5 * MIN, seq: 1, energy_wh: 0.9 })))).toEqual([]);
    expect(reasons(run(SL, light({ ts: TS - 4 * MIN, seq: 2, energy_wh: 0.5 })))).toEqual([
      "energy_wh.backwards",
    ]);
  });

  it("a rejected backwards reading does not become the new reference", () => {
    const { run } = setup();
    run(SL, light({ ts: TS - 3 * MIN, seq: 1, energy_wh: 1300 }));
    expect(reasons(run(SL, light({ ts: TS - 2 * MIN, seq: 2, energy_wh: 100 })))).toEqual([
      "energy_wh.backwards",
    ]);
    // Were 100 remembered, 200 would pass; against 1300 it is still backwards.
    expect(reasons(run(SL, light({ ts: TS - MIN, seq: 3, energy_wh: 200 })))).toEqual([
      "energy_wh.backwards",
    ]);
  });

  it("applies within a backlog array, in array order, with the reject's index", () => {
    const { run } = setup();
    const r = run(SL, [
      light({ ts: TS - 3 * MIN, seq: 1, energy_wh: 1300 }),
      light({ ts: TS - 2 * MIN, seq: 2, energy_wh: 1290 }),
      light({ ts: TS - MIN, seq: 3, energy_wh: 1310 }),
    ]);
    expect(r.accepted).toBe(2);
    expect(r.rejections.map((x) => [x.reason, x.index])).toEqual([["energy_wh.backwards", 1]]);
  });

  it("is kept per device", () => {
    const { run } = setup();
    run(SL, light({ ts: TS - 2 * MIN, seq: 1, energy_wh: 1300 }));
    const other = run(topic("streetlight", "sl-bm-0002"), light({ ts: TS - MIN, seq: 1, energy_wh: 5 }));
    expect(reasons(other)).toEqual([]);
  });

  it("replaying an accepted reading is accepted again with the identical line (idempotent)", () => {
    const { run } = setup();
    const reading = light({ ts: TS - MIN, seq: 9, energy_wh: 1300 });
    const first = run(SL, reading);
    run(SL, light({ ts: TS, seq: 10, energy_wh: 1310 }));
    const replay = run(SL, reading);
    expect(replay.rejections).toEqual([]);
    expect(replay.text).toBe(first.text);
  });
});

describe("excerpts are bounded to 512 characters", () => {
  it("of a rejected reading (as JSON)", () => {
    const { run } = setup();
    const bad = light({ dim_pct: 101, note: "n".repeat(5000) });
    const r = run(SL, [light(), bad]);
    const rej = r.rejections[0];
    expect(rej?.excerpt).toHaveLength(EXCERPT_CHARS);
    expect(rej?.excerpt).toBe(JSON.stringify(bad).slice(0, EXCERPT_CHARS));
    const line = linesOf(r).find((l) => l.measurement === "ingest_rejects");
    expect(line?.fields.excerpt).toBe(rej?.excerpt);
  });

  it("of a message-level reject, in characters even for multi-byte text", () => {
    const { run } = setup();
    const payload = `{"note":"${"é".repeat(3000)}`;
    const r = run(SL, payload);
    expect(r.rejections[0]?.reason).toBe("not_json");
    expect(r.rejections[0]?.excerpt).toBe(payload.slice(0, EXCERPT_CHARS));
    expect(onlyReject(r).fields.excerpt).toBe(payload.slice(0, EXCERPT_CHARS));
  });

  it("quotes and backslashes in an excerpt are escaped so the line stays parseable", () => {
    const { run } = setup();
    const payload = '{"a":"\\"quoted\\" and \\\\ backslash", "ts":';
    const r = run(SL, payload);
    expect(onlyReject(r).fields.excerpt).toBe(payload);
  });
});
