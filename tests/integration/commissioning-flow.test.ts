// Commissioning end to end, through the API, of a streetlight and of each other kind, start to sign-off, and of a
// lamp whose power does not follow the dim (tests/integration/commissioning-harness.ts: the real broker, ingest,
// InfluxDB, command service and mqtt.js devices).
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { CommissioningRun } from "../../services/command/commissioning/schema.ts";
import { type CommissioningStack, startCommissioningStack } from "./commissioning-harness.ts";

let s: CommissioningStack;
beforeAll(async () => {
  s = await startCommissioningStack(inject("influx"));
});
afterAll(async () => {
  await s?.close();
});

const statusOf = (r: CommissioningRun) => Object.fromEntries(r.checks.map((c) => [c.name, c.status]));
const detailOf = (r: CommissioningRun, name: string) => r.checks.find((c) => c.name === name)?.detail;
const summary = (r: CommissioningRun) =>
  r.checks.map((c) => `${c.name}: ${c.status}: ${c.detail}`).join("\n");

describe("commissioning through the API", () => {
  it("a streetlight, start to sign-off", async () => {
    const creds = await s.register("streetlight", "sl-ok");
    const started = await s.api("POST", `/v1/devices/${creds.id}/commissioning`);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: "running", started_by: `eng-${s.run}` });
    expect((await s.api("POST", `/v1/devices/${creds.id}/commissioning`)).body).toMatchObject({
      error: "run_in_progress",
    });
    s.startDevice("streetlight", creds);
    const result = await s.finished(creds.id);
    expect(result.status, summary(result)).toBe("passed");
    expect(result.checks.map((c) => c.name)).toEqual([
      "connection",
      "state",
      "readings",
      "plausibility",
      "location",
      "identify",
      "test_dim",
    ]);
    expect(detailOf(result, "test_dim")).toMatch(/30 % → 29\.\d W|30 % → 30 W/);
    expect((await s.page(creds.id)).device.status).toBe("connected");

    const signed = await s.api("POST", `/v1/devices/${creds.id}/commissioning/sign-off`, {
      note: "pole 14, Bd d'Anfa",
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body).toMatchObject({
      device: { status: "commissioned" },
      run: { signed_off_by: `eng-${s.run}`, note: "pole 14, Bd d'Anfa" },
    });
    const facts = await s.page(creds.id);
    expect(facts).toMatchObject({
      device: { status: "commissioned" },
      liveness: { state: "online", online: true, state_online: true },
      commissioning: { status: "passed", signed_off_by: `eng-${s.run}` },
      credential: { generation: 1 },
      rejects: { total: 0 },
    });
    expect(facts.last_reading?.fields).toMatchObject({ lamp_ok: true });
    expect(facts.unavailable).toBeUndefined();
    expect((await s.api("POST", `/v1/devices/${creds.id}/identify`)).body).toMatchObject({
      ack: { status: "ok" },
    });
  });

  it("an air-quality station and a traffic counter, as a fleet, to sign-off", async () => {
    const aq = await s.register("airquality", "aq-ok", "Maarif");
    const tr = await s.register("traffic", "tr-ok");
    s.startDevice("airquality", aq);
    s.startDevice("traffic", tr);
    const ids = [aq.id, tr.id];
    expect((await s.api("POST", "/v1/commissioning", { ids: [...ids, `nope-${s.run}`] })).body).toEqual({
      started: ids,
      issues: [{ id: `nope-${s.run}`, message: `device nope-${s.run} not found` }],
    });
    for (const id of ids) {
      const r = await s.finished(id);
      expect(r.status, summary(r)).toBe("passed");
      expect(r.checks.map((c) => c.name)).toEqual([
        "connection",
        "state",
        "readings",
        "plausibility",
        "location",
      ]);
    }
    expect((await s.api("POST", "/v1/commissioning/sign-off", { ids, note: "batch 7" })).body).toEqual({
      signed_off: ids,
      not_ready: [],
    });
    for (const id of ids) expect((await s.page(id)).device.status).toBe("commissioned");
  });

  it("a lamp whose power does not follow the dim: the run fails, the device stays connected", async () => {
    const creds = await s.register("streetlight", "sl-bad");
    s.startDevice("streetlight", creds, { followsDim: false });
    expect((await s.api("POST", `/v1/devices/${creds.id}/commissioning`)).status).toBe(202);
    const r = await s.finished(creds.id);
    expect(r.status).toBe("failed");
    expect(statusOf(r), summary(r)).toEqual({
      connection: "passed",
      state: "passed",
      readings: "passed",
      plausibility: "passed",
      location: "passed",
      identify: "passed",
      test_dim: "failed",
    });
    expect(detailOf(r, "test_dim")).toContain("30 % → 90.2 W");
    const refused = await s.api("POST", `/v1/devices/${creds.id}/commissioning/sign-off`, {});
    expect(refused).toMatchObject({ status: 409, body: { error: "not_passed" } });
    expect((await s.page(creds.id)).device.status).toBe("connected");
  });
});
