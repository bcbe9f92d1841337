// The ingest's activity digest: per registered device, accepted and rejected readings (by reason) and the newest
// and oldest readings' times since the last digest, from the pipeline's results; split at the size limit; kept while the
// connection is down.
import { describe, expect, it } from "vitest";
import {
  type ActivityDigest,
  activityDigest,
  INGEST_ACTIVITY_TOPIC,
} from "../../services/contract/platform.ts";
import { createActivityTracker } from "../../services/ingest/activity.ts";
import { createPipeline, type ProcessResult, RETRY_UNKNOWN } from "../../services/ingest/pipeline.ts";
import { silentLogger } from "../../services/lib/log.ts";

const NOW = Date.UTC(2026, 2, 1, 21, 0, 0);
const devices = new Map([
  ["sl-1", { id: "sl-1", kind: "streetlight" as const, district: "Anfa" }],
  ["aq-1", { id: "aq-1", kind: "airquality" as const, district: "Maarif" }],
]);
const pipeline = createPipeline({ lookup: (id) => devices.get(id), now: () => NOW });
const light = (ts: number, seq: number, extra: object = {}) => ({
  ts,
  seq,
  power_w: 90,
  energy_wh: 100 + seq,
  dim_pct: 100,
  lamp_ok: true,
  ...extra,
});

function process(topic: string, payload: unknown): ProcessResult {
  const r = pipeline.process(
    topic,
    Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)),
    true,
  );
  if (r === RETRY_UNKNOWN) throw new Error("unexpected retry");
  return r;
}

function tracker(opts: { max?: number; connected?: () => boolean } = {}) {
  const sent: ActivityDigest[] = [];
  const t = createActivityTracker({
    publish: (topic, payload) => {
      expect(topic).toBe(INGEST_ACTIVITY_TOPIC);
      sent.push(activityDigest.parse(JSON.parse(payload)));
      return true;
    },
    canPublish: opts.connected ?? (() => true),
    intervalMs: 0,
    now: () => NOW,
    log: silentLogger(),
    ...(opts.max ? { maxDevices: opts.max } : {}),
  });
  return { t, sent };
}

describe("activity digest", () => {
  it("sums a device's messages: accepted, rejected by reason, newest and oldest ts and arrival", () => {
    const { t, sent } = tracker();
    const sl = "city/v1/streetlight/sl-1/telemetry";
    t.record(process(sl, [light(NOW - 3000, 1), light(NOW - 2000, 2)]), NOW - 1500);
    t.record(process(sl, [light(NOW - 9000, 3), light(NOW - 1000, 4, { dim_pct: 170 })]), NOW - 900);
    t.record(process(sl, "{not json"), NOW - 800);
    t.record(process("city/v1/airquality/aq-1/telemetry", { ts: NOW, seq: 1 }), NOW - 700);
    expect(t.flush()).toBe(2);
    expect(sent).toHaveLength(1);
    const byId = new Map(sent[0]?.devices.map((d) => [d.id, d]));
    expect(byId.get("sl-1")).toEqual({
      id: "sl-1",
      kind: "streetlight",
      last_ts: NOW - 2000,
      // The late reading of the second message (accepted: a reading older than the meter's last is not compared).
      first_ts: NOW - 9000,
      received_at: NOW - 800,
      accepted: 3,
      rejected: 2,
      reasons: { "dim_pct.out_of_range": 1, not_json: 1 },
    });
    expect(byId.get("aq-1")).toMatchObject({ accepted: 0, rejected: 1, received_at: NOW - 700 });
    expect(byId.get("aq-1")?.last_ts).toBeUndefined();
    expect(byId.get("aq-1")?.first_ts).toBeUndefined();
    expect(t.flush()).toBe(0); // counts start over after a digest
  });

  it("first_ts: the oldest accepted reading since the last digest, not a rejected one, not an earlier digest's", () => {
    // A pipeline of its own: its meter memory does not reach into the other tests.
    const own = createPipeline({ lookup: (id) => devices.get(id), now: () => NOW });
    const process = (topic: string, payload: unknown): ProcessResult => {
      const r = own.process(topic, Buffer.from(JSON.stringify(payload)), true);
      if (r === RETRY_UNKNOWN) throw new Error("unexpected retry");
      return r;
    };
    const { t, sent } = tracker();
    const sl = "city/v1/streetlight/sl-1/telemetry";
    t.record(process(sl, light(NOW - 60_000, 20)), NOW - 59_000);
    expect(t.flush()).toBe(1);
    // A backlog from an hour ago arrives after the live reading; its oldest reading is out of range (rejected).
    const backlog = [
      light(NOW - 3_700_000, 1, { dim_pct: -1 }),
      light(NOW - 3_600_000, 2),
      light(NOW - 3_000_000, 3),
    ];
    t.record(process(sl, backlog), NOW - 1000);
    t.record(process(sl, light(NOW - 500, 21)), NOW - 400);
    expect(t.flush()).toBe(1);
    expect(sent.map((d) => [d.devices[0]?.first_ts, d.devices[0]?.last_ts])).toEqual([
      [NOW - 60_000, NOW - 60_000],
      [NOW - 3_600_000, NOW - 500],
    ]);
  });

  it("leaves out unknown devices and bad topics (the digest is about registered devices)", () => {
    const { t } = tracker();
    t.record(process("city/v1/streetlight/nobody-1/telemetry", light(NOW, 1)), NOW);
    t.record(process("city/v1/bogus/x/telemetry", light(NOW, 1)), NOW);
    expect(t.flush()).toBe(0);
  });

  it("splits a large digest into messages of at most maxDevices", () => {
    const many = createPipeline({
      lookup: (id) => ({ id, kind: "airquality", district: "Anfa" }),
      now: () => NOW,
    });
    const { t, sent } = tracker({ max: 4 });
    for (let i = 0; i < 10; i++) {
      const r = many.process(`city/v1/airquality/aq-${i}00/telemetry`, Buffer.from("[]"), true);
      if (r !== RETRY_UNKNOWN) t.record(r, NOW);
    }
    expect(t.flush()).toBe(10);
    expect(sent.map((d) => d.devices.length)).toEqual([4, 4, 2]);
  });

  it("keeps counting while it cannot publish", () => {
    let up = false;
    const { t, sent } = tracker({ connected: () => up });
    const sl = "city/v1/streetlight/sl-1/telemetry";
    t.record(process(sl, light(NOW - 1000, 10)), NOW - 1000);
    expect(t.flush()).toBe(0);
    t.record(process(sl, light(NOW, 11)), NOW);
    up = true;
    expect(t.flush()).toBe(1);
    expect(sent[0]?.devices[0]).toMatchObject({ accepted: 2, last_ts: NOW });
  });
});
