// The OpenAPI document covers every route with the schemas that validate it, and route plugins added through
// buildApp's `routes` are authenticated, rate limited and documented like the service's own.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { principalOf, requirePermission } from "../../services/command/auth/guard.ts";
import { type Api, startApi } from "./command-harness.ts";

const extra: FastifyPluginAsync = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    "/v1/devices/:id/commissioning",
    {
      preHandler: requirePermission("commissioning:run"),
      schema: {
        tags: ["commissioning"],
        summary: "Start commissioning (a stand-in)",
        params: z.object({ id: z.string() }),
      },
    },
    async (req, reply) => reply.status(202).send({ id: req.params.id, started_by: principalOf(req).name }),
  );
};

let api: Api;
let doc: {
  // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, read field by field
  paths: Record<string, Record<string, Record<string, any>>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  security: unknown[];
};
beforeAll(async () => {
  api = await startApi({ routes: [extra] });
  doc = (await api.call("GET", "/openapi.json", { as: null })).body;
});
afterAll(async () => {
  await api.close();
});

/** Every route the service declares, from fastify's own route tree ("│   ├── /history (GET, HEAD)"). */
function declaredRoutes(): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of api.app.printRoutes({ commonPrefix: false }).split("\n")) {
    const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    stack.length = depth;
    const path = `${stack.join("")}${m[2]}`;
    stack.push(m[2] as string);
    for (const method of (m[3] as string).split(", ")) out.push(`${method} ${path}`);
  }
  return out;
}

describe("the OpenAPI document", () => {
  it("lists every route of the API, each tagged, described and with its request schema", () => {
    const routes = declaredRoutes().filter(
      (r) => /^(GET|POST|PATCH|DELETE) \/(v1|health|metrics)/.test(r) && !r.startsWith("HEAD"),
    );
    expect(routes.length).toBeGreaterThanOrEqual(17);
    for (const route of routes) {
      const [method, path] = route.split(" ") as [string, string];
      const op = doc.paths[path.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
      expect(op, route).toBeDefined();
      expect(op?.tags?.length, route).toBeGreaterThan(0);
      expect(op?.summary, route).toBeTruthy();
      if (
        ["POST", "PATCH"].includes(method) &&
        !route.endsWith("/credentials") &&
        !route.endsWith("commissioning")
      )
        expect(op?.requestBody, route).toBeDefined();
      if (path.includes(":"))
        expect(
          op?.parameters?.some((p: { in: string }) => p.in === "path"),
          route,
        ).toBe(true);
    }
  });

  it("documents the register body as the device registration itself, and the CSV import as text/csv", () => {
    const register = doc.paths["/v1/devices"]?.post;
    const ref = register?.requestBody.content["application/json"].schema.$ref as string;
    const schema = doc.components.schemas[ref.split("/").at(-1) as string] as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["id", "kind", "district", "lat", "lon", "installed_at", "led_watts", "serial"]),
    );
    expect(schema.required).toEqual(
      expect.arrayContaining(["id", "kind", "district", "lat", "lon", "installed_at"]),
    );
    expect(Object.keys(register?.responses ?? {})).toEqual(
      expect.arrayContaining(["201", "400", "401", "403", "409", "429"]),
    );
    const csv = doc.paths["/v1/devices/import"]?.post;
    expect(Object.keys(csv?.requestBody.content)).toEqual(["text/csv"]);
    expect(csv?.parameters.map((p: { name: string }) => p.name)).toEqual(["mode"]);
    const list = doc.paths["/v1/devices"]?.get;
    expect(list?.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining([
        "kind",
        "district",
        "status",
        "liveness",
        "seen_after",
        "seen_before",
        "limit",
        "after",
      ]),
    );
  });

  it("declares bearer authentication, except for health and metrics", () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/health"]?.get?.security).toEqual([]);
    expect(doc.paths["/v1/devices"]?.get?.security).toBeUndefined();
  });
});

describe("route plugins added through buildApp", () => {
  it("are authenticated and guarded like the service's own, and documented", async () => {
    expect((await api.call("POST", "/v1/devices/sl-x-0001/commissioning", { as: null })).status).toBe(401);
    const op = await api.call("POST", "/v1/devices/sl-x-0001/commissioning", { as: "operator" });
    expect(op.status).toBe(403);
    expect(op.body.message).toContain("commissioning:run");
    const ok = await api.call("POST", "/v1/devices/sl-x-0001/commissioning", { as: "engineer" });
    expect(ok).toMatchObject({ status: 202, body: { id: "sl-x-0001", started_by: "t-engineer" } });
    expect(doc.paths["/v1/devices/{id}/commissioning"]?.post?.tags).toEqual(["commissioning"]);
  });

  it("counts requests by route and status", async () => {
    const metrics = await (await api.call("GET", "/metrics", { as: null })).body;
    expect(metrics).toMatch(
      /command_http_requests_total\{method="POST",route="\/v1\/devices\/:id\/commissioning",status="202"\} 1/,
    );
    expect(metrics).toMatch(/command_auth_failures_total\{reason="forbidden"\} 1/);
  });
});
