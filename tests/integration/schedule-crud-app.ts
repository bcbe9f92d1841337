// The command service with the schedule CRUD routes, for tests/integration/schedule-crud*.test.ts: buildApp over a
// real SQLite registry with real tokens, listening on a free port, called over HTTP, with a small fleet registered
// through the API. The planner is engineer C's; here `replan` records each call (cause, actor, target, the exact
// lamps) and answers one rollout summary, so a test sees what each change asks for and that the answer reaches
// the client.
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry as Metrics } from "prom-client";
import { expect } from "vitest";
import { buildApp } from "../../services/command/app.ts";
import { commandConfigSchema } from "../../services/command/config.ts";
import { scheduleCrudRoutes } from "../../services/command/routes/schedule-crud.ts";
import type { ReplanInput, RolloutSummary } from "../../services/command/schedules/types.ts";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { openRegistry } from "../../services/registry/registry.ts";
import { bearerJson, type JsonCall } from "./harness/http.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field by the tests
export type Call = JsonCall<any>;

export type CrudApp = {
  engineer: Call;
  operator: Call;
  energyManager: Call;
  /** Every replan call since the test emptied it. */
  replans: ReplanInput[];
  /** The routes' clock, epoch ms: set it, the next change is stamped with it. */
  clock: number;
  close(): Promise<void>;
};

/**
 * The fleet: sl-a1..sl-a3 in Anfa, sl-a-gone (decommissioned) in Anfa, sl-m1 in Maarif, aq-a1 (an air-quality
 * station) in Anfa.
 */
export async function startCrudApp(): Promise<CrudApp> {
  const dir = mkdtempSync(join(tmpdir(), "schedule-crud-"));
  const registry = openRegistry(join(dir, "registry.sqlite"));
  const replans: ReplanInput[] = [];
  const replan = (input: ReplanInput): RolloutSummary[] => {
    replans.push(input);
    const n = replans.length;
    return [
      {
        id: n,
        kind: "calendar",
        version: 100 + n,
        calendar_id: null,
        override_id: null,
        total: input.deviceIds.length,
      },
    ];
  };
  const crud = { replans, clock: Date.parse("2026-03-01T09:00:00Z") } as CrudApp;
  const app = buildApp({
    registry,
    config: commandConfigSchema.parse({ mqtt: { url: "mqtt://127.0.0.1:1883" } }),
    log: silentLogger(),
    metrics: new Metrics(),
    routes: scheduleCrudRoutes({ db: registry.db, now: () => new Date(crud.clock), replan }),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const token = (role: "engineer" | "operator" | "energy_manager") => {
    const made = registry.tokens.create({ name: `t-${role}`, role }, "test");
    if (!made.ok) throw new Error(made.reason);
    return bearerJson(base, made.token, { lenient: true });
  };
  crud.engineer = token("engineer");
  crud.operator = token("operator");
  crud.energyManager = token("energy_manager");
  crud.close = async () => {
    await app.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  };

  const devices = [
    lamp("sl-a1"),
    lamp("sl-a2"),
    lamp("sl-a3"),
    lamp("sl-a-gone"),
    lamp("sl-m1", "Maarif"),
    { ...lamp("aq-a1"), kind: "airquality", led_watts: undefined, legacy_watts: undefined },
  ];
  const registered = await crud.engineer("POST", "/v1/devices/bulk", { devices, mode: "create" });
  expect(registered.status, JSON.stringify(registered.body)).toBe(200);
  const gone = await crud.engineer("POST", "/v1/devices/sl-a-gone/decommission", {
    reason: "pole knocked down",
  });
  expect(gone.status).toBe(200);
  return crud;
}

function lamp(id: string, district = "Anfa"): DeviceRegistration {
  return {
    id,
    kind: "streetlight",
    district,
    lat: 33.59,
    lon: -7.65,
    installed_at: "2025-03-01",
    report_interval_s: 60,
    led_watts: 90,
    legacy_watts: 295,
  };
}

const evening = { at: "sunset", offset_min: 10, level_pct: 100 };

/** A program body: full at sunset + 10, 50 % from midnight (5 min ramp), off at sunrise − 15. */
export const program = (id: string, over: object = {}) => ({
  id,
  name: `Program ${id}`,
  switch_points: [
    evening,
    { at: "00:00", level_pct: 50, ramp_s: 300 },
    { at: "sunrise", offset_min: -15, level_pct: 0 },
  ],
  ...over,
});
/** One point: full from sunset + 10 (and on through the night). */
export const fullNight = (id: string) => program(id, { switch_points: [evening] });

/** A calendar body whose default program is "midnight". */
export const calendar = (id: string, over: object = {}) => ({
  id,
  name: `Calendar ${id}`,
  default_program: "midnight",
  ...over,
});
