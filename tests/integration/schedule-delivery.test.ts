// Calendar delivery end to end: the real broker, command service and ingest (harness/stack.ts) and scripted lamps
// (schedule-lamp-harness.ts) that are registered streetlights with their own credentials. A calendar assigned to a
// district reaches every lamp of it (pending → delivered → applied), an offline lamp gets it when it connects, a
// lamp's refusal shows in the rollout with its reason, an unacknowledged delivery is sent again (at most
// SCHEDULE_MAX_ATTEMPTS times per connection), and a decommissioned lamp's open rows are superseded.
// Each test uses its own district, so assignments do not reach another test's lamps.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, type Stack, startStack } from "./harness/stack.ts";
import {
  closeLamps,
  deliveriesOf,
  lampRegistration,
  makeCalendar,
  presenceKnown,
  rolloutOf,
  type ScriptedLamp,
  scriptedLamp,
  sleep,
} from "./schedule-lamp-harness.ts";

const server = inject("influx");
const run = randomUUID().slice(0, 6);
let stack: Stack;
const RETRY_S = 2;

beforeAll(async () => {
  stack = await startStack(
    { ...server, bucket: `t_sched_${run}` },
    { commandEnv: { SCHEDULE_RETRY_AFTER_S: String(RETRY_S), SCHEDULE_MAX_ATTEMPTS: "3" } },
  );
}, 120_000);

afterAll(async () => {
  await closeLamps();
  await stack?.stop();
});

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${run}-${i + 1}`);

const rollout = (id: number) => rolloutOf(stack, id);
const deliveries = (id: number) => deliveriesOf(stack, id);

async function assign(district: string, calendar: string) {
  const r = await stack.api("PUT", "/v1/assignments", {
    target: { type: "district", id: district },
    calendar,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.rollouts as { id: number; version: number; total: number; calendar_id: string }[];
}

/** Assigns and answers the one rollout it made. */
async function assignOne(district: string, calendar: string) {
  const made = await assign(district, calendar);
  expect(made).toHaveLength(1);
  return made[0] as (typeof made)[number];
}

const online = (lamp: ScriptedLamp, want = true) => presenceKnown(stack, lamp, want);

describe("calendar delivery", () => {
  it("a calendar assigned to a district reaches every lamp of it: pending → delivered → applied", async () => {
    const anfa = ids("sl-anfa", 5);
    const other = `sl-maarif-${run}`;
    await stack.register([
      ...anfa.map((id) => lampRegistration(id, "Anfa")),
      lampRegistration(other, "Maarif"),
    ]);
    const lamps = anfa.map((id) => scriptedLamp(stack, id));
    const outsider = scriptedLamp(stack, other);
    for (const l of [...lamps, outsider]) await l.connect();
    for (const l of lamps) await online(l);
    const calendar = await makeCalendar(stack, `anfa-${run}`);

    const planned = await assignOne("Anfa", calendar);
    expect(planned).toMatchObject({ kind: "calendar", calendar_id: calendar, total: 5 });
    await eventually(async () => (await rollout(planned.id)).counts.applied === 5, 15_000, "5 lamps applied");

    const progress = await rollout(planned.id);
    expect(progress).toMatchObject({
      kind: "calendar",
      cause: "assign",
      target: { type: "district", id: "Anfa" },
      version: planned.version,
      total: 5,
      done: true,
      counts: { pending: 0, delivered: 0, applied: 5, rejected: 0, expired: 0, superseded: 0 },
    });
    for (const d of await deliveries(planned.id)) {
      expect(anfa).toContain(d.device_id);
      // Sent, then PUBACKed while connected (delivered), then acked: each step has its time, in order.
      expect(d.attempts).toBeGreaterThanOrEqual(1);
      const sent = Date.parse(d.sent_at as string);
      const delivered = Date.parse(d.delivered_at as string);
      const acked = Date.parse(d.acked_at as string);
      expect(Date.parse(d.created_at as string)).toBeLessThanOrEqual(delivered);
      expect(delivered).toBeLessThanOrEqual(acked);
      expect(Number.isNaN(sent)).toBe(false);
    }
    for (const l of lamps) {
      expect(l.calendars.at(-1)).toMatchObject({ version: planned.version, calendar: { id: calendar } });
    }
    expect(outsider.calendars).toEqual([]);

    // The same calendar again: every lamp holds that content already, so nothing is sent.
    expect(await assign("Anfa", calendar)).toEqual([]);
    const page = await stack.api("GET", `/v1/devices/${anfa[0]}/schedule`);
    expect(page.body).toMatchObject({
      resolution: { calendar_id: calendar, level: "district", target_id: "Anfa" },
      delivery: { version: planned.version, state: "applied" },
      override: null,
    });
    expect(page.body.tonight.switches.map((s: { label: string }) => s.label)).toEqual([
      "sunset+10",
      "00:00",
      "sunrise-15",
    ]);
  });

  it("an offline lamp gets its calendar when it connects (pending until then)", async () => {
    const [id] = ids("sl-fida", 1) as [string];
    await stack.register([lampRegistration(id, "Al Fida")]);
    const lamp = scriptedLamp(stack, id);
    const calendar = await makeCalendar(stack, `fida-${run}`);
    const planned = await assignOne("Al Fida", calendar);
    // Published retained (the broker keeps it), but the lamp is not connected: the row stays pending.
    await eventually(
      async () => (await deliveries(planned.id))[0]?.attempts === 1,
      10_000,
      "the retained publish",
    );
    await sleep(500);
    expect((await deliveries(planned.id))[0]).toMatchObject({
      device_id: id,
      state: "pending",
      delivered_at: null,
    });

    await lamp.connect();
    await eventually(
      async () => (await rollout(planned.id)).counts.applied === 1,
      10_000,
      "applied after connecting",
    );
    expect(lamp.calendars[0]?.version).toBe(planned.version);
  });

  it("a calendar the lamp refuses shows as rejected with the lamp's reason in the rollout", async () => {
    const [id, ok] = ids("sl-belyout", 2) as [string, string];
    await stack.register([lampRegistration(id, "Sidi Belyout"), lampRegistration(ok, "Sidi Belyout")]);
    const refusing = scriptedLamp(stack, id, {
      type: "reject",
      reason: "unsupported",
      detail: "firmware 1.2 has no ramps",
    });
    const taking = scriptedLamp(stack, ok);
    await refusing.connect();
    await taking.connect();
    await online(refusing);
    const planned = await assignOne("Sidi Belyout", await makeCalendar(stack, `belyout-${run}`));
    await eventually(async () => (await rollout(planned.id)).done === true, 15_000, "rollout done");
    expect(await rollout(planned.id)).toMatchObject({
      counts: { applied: 1, rejected: 1, pending: 0, delivered: 0 },
      rejected_sample: [{ device_id: id, reason: "unsupported", detail: "firmware 1.2 has no ramps" }],
    });
    const rejected = await stack.api("GET", `/v1/rollouts/${planned.id}/deliveries?state=rejected`);
    expect(rejected.body.deliveries.map((d: { device_id: string }) => d.device_id)).toEqual([id]);
  });

  it("an unacknowledged delivery is sent again after the retry period, at most 3 times, then on reconnect", async () => {
    const [id] = ids("sl-sebaa", 1) as [string];
    await stack.register([lampRegistration(id, "Ain Sebaa")]);
    const lamp = scriptedLamp(stack, id, { type: "silent" });
    await lamp.connect();
    await online(lamp);
    const planned = await assignOne("Ain Sebaa", await makeCalendar(stack, `sebaa-${run}`));
    await eventually(
      async () => (await deliveries(planned.id))[0]?.state === "delivered",
      10_000,
      "delivered",
    );
    // Sends at about 0, RETRY_S and 2×RETRY_S; none after the third while the lamp stays connected.
    await eventually(() => lamp.calendars.length >= 3, (RETRY_S * 3 + 5) * 1000, "three sends");
    await sleep((RETRY_S + 1.5) * 1000);
    expect(lamp.calendars.length).toBe(3);
    expect((await deliveries(planned.id))[0]).toMatchObject({ state: "delivered", attempts: 3 });

    // The next connection sends it again; this time the lamp applies it.
    await lamp.disconnect();
    await online(lamp, false);
    lamp.mode = { type: "apply" };
    await lamp.connect();
    await eventually(async () => (await deliveries(planned.id))[0]?.state === "applied", 10_000, "applied");
    expect(lamp.calendars.length).toBeGreaterThan(3);
  });

  it("a decommissioned lamp's open deliveries are superseded", async () => {
    const [id] = ids("sl-moumen", 1) as [string];
    await stack.register([lampRegistration(id, "Sidi Moumen")]);
    const planned = await assignOne("Sidi Moumen", await makeCalendar(stack, `moumen-${run}`));
    expect((await deliveries(planned.id))[0]?.state).toBe("pending");
    const gone = await stack.api("POST", `/v1/devices/${id}/decommission`, { reason: "pole knocked down" });
    expect(gone.status).toBe(200);
    await eventually(
      async () => (await deliveries(planned.id))[0]?.state === "superseded",
      5_000,
      "superseded after decommissioning",
    );
    expect((await deliveries(planned.id))[0]).toMatchObject({ reason: "decommissioned" });
    expect(await rollout(planned.id)).toMatchObject({ done: true, counts: { superseded: 1 } });
  });
});
