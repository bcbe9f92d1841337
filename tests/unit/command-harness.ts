// The command service's API over a real SQLite registry in a temp dir, with real authentication: one token per
// role. Requests go through app.inject() (no port). Shared by tests/unit/command-*.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, FastifyPluginAsync, InjectOptions } from "fastify";
import { Registry as MetricsRegistry } from "prom-client";
import { buildApp, type RegistryChange } from "../../services/command/app.ts";
import { commandConfigSchema } from "../../services/command/config.ts";
import { ROLES, type Role } from "../../services/contract/access.ts";
import type { DeviceRegistration } from "../../services/contract/devices.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { openRegistry, type Registry } from "../../services/registry/registry.ts";

export type Api = {
  app: FastifyInstance;
  registry: Registry;
  metrics: MetricsRegistry;
  dir: string;
  /** The token of each role (names: `t-<role>`, services `svc-<role>`). */
  tokens: Record<Role, string>;
  changes: RegistryChange[];
  /** A request with the token of `as` (default engineer; null: none). */
  call(
    method: InjectOptions["method"],
    url: string,
    opts?: { as?: Role | null; body?: unknown; token?: string; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field by the tests
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
};

export const tokenName = (role: Role) => (role.startsWith("service_") ? `svc-${role.slice(8)}` : `t-${role}`);

export async function startApi(
  opts: { rateLimit?: { perToken?: number; anonymous?: number }; routes?: FastifyPluginAsync[] } = {},
): Promise<Api> {
  const dir = mkdtempSync(join(tmpdir(), "command-api-"));
  const registry = openRegistry(join(dir, "registry.sqlite"));
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) {
    const made = registry.tokens.create({ name: tokenName(role), role }, "test");
    if (!made.ok) throw new Error(made.reason);
    tokens[role] = made.token;
  }
  const changes: RegistryChange[] = [];
  const metrics = new MetricsRegistry();
  const config = commandConfigSchema.parse({
    rateLimit: opts.rateLimit ?? {},
    mqtt: { url: "mqtt://broker.test:1883" },
  });
  const app = buildApp({
    registry,
    config,
    log: silentLogger(),
    metrics,
    onRegistryChange: (c) => changes.push(c),
    ...(opts.routes ? { routes: opts.routes } : {}),
  });
  await app.ready();
  return {
    app,
    registry,
    metrics,
    dir,
    tokens,
    changes,
    async call(method, url, o = {}) {
      const as = o.as === undefined ? "engineer" : o.as;
      const token = o.token ?? (as ? tokens[as] : undefined);
      const headers: Record<string, string> = {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...o.headers,
      };
      const res = await app.inject({
        method,
        url,
        headers,
        ...(o.body === undefined
          ? {}
          : typeof o.body === "string"
            ? { payload: o.body }
            : { payload: o.body as object }),
      });
      let body: unknown = res.body;
      try {
        body = res.json();
      } catch {}
      return { status: res.statusCode, body, headers: res.headers };
    },
    async close() {
      await app.close();
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let n = 0;
/** A valid registration with a fresh id (tests are isolated by their own ids). */
export function streetlight(over: Partial<DeviceRegistration> = {}): DeviceRegistration {
  n++;
  return {
    id: `sl-test-${String(n).padStart(4, "0")}`,
    kind: "streetlight",
    district: "Anfa",
    lat: 33.5899,
    lon: -7.6588,
    installed_at: "2025-03-01",
    report_interval_s: 60,
    led_watts: 90,
    legacy_watts: 295,
    ...over,
  };
}

export function airquality(over: Partial<DeviceRegistration> = {}): DeviceRegistration {
  n++;
  return {
    id: `aq-test-${String(n).padStart(4, "0")}`,
    kind: "airquality",
    district: "Maarif",
    lat: 33.5731,
    lon: -7.6298,
    installed_at: "2025-03-01",
    report_interval_s: 30,
    ...over,
  };
}
