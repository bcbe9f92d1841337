// Overrides end to end (real broker, command service and ingest; scripted lamps, schedule-lamp-harness.ts): an
// override is applied by connected lamps and never sent after its expiry (a lamp offline until then never gets
// it and its row is expired); a cancel goes to the lamps that hold it; a newer override supersedes an older one
// still on its way; bad requests name the field.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, type Stack, startStack } from "./harness/stack.ts";
import {
  closeLamps,
  deliveriesOf,
  lampRegistration,
  presenceKnown,
  rolloutOf,
  type ScriptedLamp,
  scriptedLamp,
  sleep,
} from "./schedule-lamp-harness.ts";

const server = inject("influx");
const run = randomUUID().slice(0, 6);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ ...server, bucket: `t_ovr_${run}` });
}, 120_000);

afterAll(async () => {
  await closeLamps();
  await stack?.stop();
});

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${run}-${i + 1}`);

const rollout = (id: number) => rolloutOf(stack, id);
const deliveryOf = async (rolloutId: number, deviceId: string) =>
  (await deliveriesOf(stack, rolloutId)).find((d) => d.device_id === deviceId);
const online = (lamp: ScriptedLamp) => presenceKnown(stack, lamp);

async function override(body: object) {
  const r = await stack.api("POST", "/v1/overrides", { level_pct: 100, reason: "football match", ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body as { override: { id: string; status: string }; rollout: { id: number; total: number } };
}

describe("overrides", () => {
  it("is applied by connected lamps, and never sent after its expiry to a lamp that was offline", async () => {
    const [on, off] = ids("sl-ovr-exp", 2) as [string, string];
    await stack.register([lampRegistration(on, "Hay Hassani"), lampRegistration(off, "Hay Hassani")]);
    const present = scriptedLamp(stack, on);
    const absent = scriptedLamp(stack, off);
    await present.connect();
    await online(present);
    const expiresAt = new Date(Date.now() + 3000).toISOString();
    const made = await override({ target: { type: "district", id: "Hay Hassani" }, expires_at: expiresAt });
    expect(made.rollout.total).toBe(2);
    expect(made.override.status).toBe("active");

    await eventually(
      async () => (await deliveryOf(made.rollout.id, on))?.state === "applied",
      10_000,
      "applied",
    );
    expect(present.commands).toMatchObject([
      { cmd: "override", id: `ovr-${made.override.id}`, override_id: made.override.id, level_pct: 100 },
    ]);
    expect((await deliveryOf(made.rollout.id, off))?.state).toBe("pending");

    await eventually(
      async () => (await deliveryOf(made.rollout.id, off))?.state === "expired",
      10_000,
      "expired",
    );
    await absent.connect();
    await online(absent);
    await sleep(1500);
    expect(absent.commands).toEqual([]);
    expect(await rollout(made.rollout.id)).toMatchObject({
      done: true,
      counts: { applied: 1, expired: 1, pending: 0, delivered: 0 },
    });
    const page = await stack.api("GET", `/v1/overrides/${made.override.id}`);
    expect(page.body).toMatchObject({ status: "expired", progress: { id: made.rollout.id } });
  });

  it("a cancel goes to the lamps holding the override; a second cancel is refused", async () => {
    const [id] = ids("sl-ovr-cxl", 1) as [string];
    await stack.register([lampRegistration(id, "Ain Chock")]);
    const lamp = scriptedLamp(stack, id);
    await lamp.connect();
    await online(lamp);
    const made = await override({ target: { type: "devices", ids: [id] }, level_pct: 30, duration_min: 60 });
    await eventually(async () => (await rollout(made.rollout.id)).counts.applied === 1, 10_000, "applied");
    const active = await stack.api("GET", `/v1/overrides?active=true&device=${id}`);
    expect(active.body.overrides.map((o: { id: string }) => o.id)).toEqual([made.override.id]);
    const page = await stack.api("GET", `/v1/devices/${id}/schedule`);
    expect(page.body).toMatchObject({ override: { id: made.override.id }, level_now: 30 });

    const cancelled = await stack.api("DELETE", `/v1/overrides/${made.override.id}`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({
      override: { id: made.override.id, status: "cancelled", cancelled_by: "local-engineer" },
      rollout: { kind: "cancel_override", override_id: made.override.id, total: 1 },
    });
    await eventually(
      async () => (await rollout(cancelled.body.rollout.id)).counts.applied === 1,
      10_000,
      "cancel applied",
    );
    expect(lamp.commands.map((c) => c.cmd)).toEqual(["override", "cancel_override"]);
    expect((await stack.api("GET", `/v1/overrides?active=true&device=${id}`)).body.overrides).toEqual([]);
    const again = await stack.api("DELETE", `/v1/overrides/${made.override.id}`);
    expect(again).toMatchObject({ status: 409, body: { error: "override_ended" } });
  });

  it("a newer override supersedes an older one still on its way: the lamp only gets the newer", async () => {
    const [id] = ids("sl-ovr-new", 1) as [string];
    await stack.register([lampRegistration(id, "Sidi Maarouf")]);
    const lamp = scriptedLamp(stack, id);
    const older = await override({
      target: { type: "devices", ids: [id] },
      level_pct: 20,
      duration_min: 120,
    });
    const newer = await override({
      target: { type: "devices", ids: [id] },
      level_pct: 80,
      duration_min: 120,
    });
    expect(await deliveryOf(older.rollout.id, id)).toMatchObject({ state: "superseded" });
    await lamp.connect();
    await eventually(
      async () => (await deliveryOf(newer.rollout.id, id))?.state === "applied",
      10_000,
      "newer applied",
    );
    await sleep(500);
    expect(lamp.commands.map((c) => (c.cmd === "override" ? c.level_pct : c.cmd))).toEqual([80]);
    expect(await rollout(older.rollout.id)).toMatchObject({ done: true, counts: { superseded: 1 } });
  });

  it("refuses bad requests naming the field", async () => {
    const [id] = ids("sl-ovr-bad", 1) as [string];
    await stack.register([lampRegistration(id, "Ben M'Sick")]);
    const post = (body: object) =>
      stack.api("POST", "/v1/overrides", {
        level_pct: 50,
        reason: "works",
        target: { type: "devices", ids: [id] },
        ...body,
      });
    expect((await post({})).body.issues).toEqual([expect.objectContaining({ field: "expires_at" })]);
    const past = await post({ expires_at: new Date(Date.now() - 60_000).toISOString() });
    expect(past.body).toMatchObject({ error: "validation_failed", issues: [{ field: "expires_at" }] });
    const long = await post({
      duration_min: 60,
      starts_at: new Date().toISOString(),
      expires_at: "2099-01-01T00:00:00Z",
    });
    expect(long.body.issues).toEqual([expect.objectContaining({ field: "duration_min" })]);
    const unknown = await post({ duration_min: 10, target: { type: "devices", ids: [id, "sl-nope-404"] } });
    expect(unknown.body.issues).toEqual([
      expect.objectContaining({
        field: "target.ids.1",
        index: 1,
        id: "sl-nope-404",
        message: "no such device",
      }),
    ]);
    const district = await post({ duration_min: 10, target: { type: "district", id: "Atlantis" } });
    expect(district.body.issues).toEqual([expect.objectContaining({ field: "target.id" })]);
    const group = await post({ duration_min: 10, target: { type: "group", id: "no-such-group" } });
    expect(group.status).toBe(404);
    expect((await stack.api("DELETE", "/v1/overrides/no-such-override")).status).toBe(404);
  });
});
