// The command service's API with the energy report route (routes/energy.ts), for tests/integration/energy-*.test.ts:
// buildApp over a real SQLite registry in a temp dir, with real tokens (energy manager, operator, admin), listening
// on a free port and called over HTTP, its clock set by the test. Devices and groups are written through the
// registry's own stores; the daily rollups through the rollup service's store (services/registry/energy.ts), as
// the roller writes them.
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry as Metrics } from "prom-client";
import { buildApp } from "../../services/command/app.ts";
import { commandConfigSchema } from "../../services/command/config.ts";
import { energyReportRoutes } from "../../services/command/routes/energy.ts";
import { deviceRegistration } from "../../services/contract/devices.ts";
import { daysBetween } from "../../services/energy/days.ts";
import { type DayAccum, emptyDay } from "../../services/energy/rollup.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { createEnergyStore, type EnergyStore } from "../../services/registry/energy.ts";
import { openRegistry, type Registry } from "../../services/registry/registry.ts";
import { createGroupStore } from "../../services/registry/schedules/groups.ts";

export type Role = "energy_manager" | "operator" | "admin";
export type Answer = { status: number; headers: Headers; text: string; bytes: Buffer; body: unknown };

export type EnergyReportApp = {
  url: string;
  registry: Registry;
  store: EnergyStore;
  /** The rollup service's pending lamps, as status() answers them. */
  pendingLamps: number;
  get(path: string, as?: Role): Promise<Answer>;
  register(devices: unknown[]): void;
  group(id: string, name: string, members: string[]): void;
  /** Marks a lamp decommissioned at `atMs` (audit row and status, through the registry's lifecycle). */
  decommission(id: string, atMs: number): void;
  /** Writes daily rows and the cursor of a lamp through the rollup store. */
  rows(deviceId: string, legacyW: number, ledW: number, days: DayAccum[], cursorTs: number | null): void;
  close(): Promise<void>;
};

/** The same accumulation for each local day from..to (inclusive). */
export function sameDays(from: string, to: string, acc: Partial<Omit<DayAccum, "day">>): DayAccum[] {
  return daysBetween(from, to).map((day) => ({ ...emptyDay(day), ...acc }));
}

export async function startEnergyReportApp(opts: { nowMs: number }): Promise<EnergyReportApp> {
  const dir = mkdtempSync(join(tmpdir(), "energy-report-"));
  const registry = openRegistry(join(dir, "registry.sqlite"));
  const config = commandConfigSchema.parse({ mqtt: { url: "mqtt://127.0.0.1:1883" } });
  const state = { pendingLamps: 0 };
  const app = buildApp({
    registry,
    config,
    log: silentLogger(),
    metrics: new Metrics(),
    routes: [
      energyReportRoutes({
        db: registry.db,
        config,
        clock: { now: () => opts.nowMs },
        status: () => ({ pendingLamps: state.pendingLamps }),
      }),
    ],
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const tokens = {} as Record<Role, string>;
  for (const role of ["energy_manager", "operator", "admin"] as const) {
    const made = registry.tokens.create({ name: `t-${role}`, role }, "test");
    if (!made.ok) throw new Error(made.reason);
    tokens[role] = made.token;
  }
  const store = createEnergyStore(registry.db);
  const groups = createGroupStore(registry.db, () => new Date(opts.nowMs));
  return {
    url,
    registry,
    store,
    get pendingLamps() {
      return state.pendingLamps;
    },
    set pendingLamps(n: number) {
      state.pendingLamps = n;
    },
    async get(path, as = "energy_manager") {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${tokens[as]}` } });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString("utf8");
      let body: unknown = text;
      if ((res.headers.get("content-type") ?? "").includes("json")) body = JSON.parse(text);
      return { status: res.status, headers: res.headers, text, bytes, body };
    },
    register(devices) {
      // A credential hash is what makes `create` insert a device; these devices never connect.
      const rows = devices.map((d) => ({ device: deviceRegistration.parse(d), secretHash: "unused" }));
      const done = registry.lifecycle.register(rows, "create", "test");
      if (!done.ok) throw new Error(JSON.stringify(done));
    },
    group(id, name, members) {
      const made = groups.create(id, { name }, members, "test");
      if (!made.ok) throw new Error(JSON.stringify(made));
    },
    decommission(id, atMs) {
      // The lifecycle stamps the audit row with its clock: one set to the decommissioning instant.
      const lifecycle = openRegistry(join(dir, "registry.sqlite"), { now: () => new Date(atMs) });
      try {
        const done = lifecycle.lifecycle.decommission(id, "pole removed", "test");
        if (!done.ok) throw new Error(JSON.stringify(done));
      } finally {
        lifecycle.close();
      }
    },
    rows(deviceId, legacyW, ledW, days, cursorTs) {
      const cursor =
        cursorTs === null ? undefined : { ts: cursorTs, energyWh: 0, powerW: 0, dimPct: 0, reset: false };
      store.apply([{ deviceId, legacyW, ledW, days, cursor }], new Date(opts.nowMs));
    },
    async close() {
      await app.close();
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
