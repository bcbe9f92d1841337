// Who may call the command service's API: bearer tokens looked up by hash, roles and permissions, token
// management, the token file, rate limits. Real SQLite registry, real authentication, app.inject().
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROLE_PERMISSIONS } from "../../services/contract/access.ts";
import { generateToken, sha256Hash } from "../../services/lib/secrets.ts";
import { type Api, startApi, streetlight, tokenName } from "./command-harness.ts";

let api: Api;
beforeEach(async () => {
  api = await startApi();
});
afterEach(async () => {
  await api.close();
});

const authFailures = async (reason: string) =>
  (await api.metrics.getSingleMetric("command_auth_failures_total")?.get())?.values.find(
    (v) => v.labels.reason === reason,
  )?.value ?? 0;

describe("authentication (401)", () => {
  it("refuses a request without a token, with a Bearer challenge, and stores nothing", async () => {
    const r = await api.call("POST", "/v1/devices", { as: null, body: streetlight() });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: "unauthorized", issues: [] });
    expect(r.headers["www-authenticate"]).toBe('Bearer realm="command"');
    expect(api.registry.devices.count()).toBe(0);
    expect(await authFailures("missing")).toBe(1);
  });

  it("refuses a malformed header and an unknown token with error=invalid_token", async () => {
    const basic = await api.call("GET", "/v1/devices", {
      as: null,
      headers: { authorization: "Basic Zm9vOmJhcg==" },
    });
    expect(basic.status).toBe(401);
    expect(basic.body.message).toMatch(/Bearer/);
    const unknown = await api.call("GET", "/v1/devices", { token: generateToken() });
    expect(unknown.status).toBe(401);
    expect(unknown.headers["www-authenticate"]).toMatch(/error="invalid_token"/);
    expect(await authFailures("malformed")).toBe(1);
    expect(await authFailures("unknown")).toBe(1);
  });

  it("refuses a token at once after its revocation, and an expired one", async () => {
    const made = await api.call("POST", "/v1/tokens", {
      as: "admin",
      body: { name: "field-1", role: "engineer" },
    });
    expect(made.status).toBe(201);
    expect((await api.call("GET", "/v1/whoami", { token: made.body.token })).body).toMatchObject({
      name: "field-1",
      role: "engineer",
    });
    expect((await api.call("DELETE", `/v1/tokens/${made.body.id}`, { as: "admin" })).status).toBe(200);
    const revoked = await api.call("GET", "/v1/whoami", { token: made.body.token });
    expect(revoked.status).toBe(401);
    expect(revoked.body.message).toMatch(/revoked/);

    const later = await api.call("POST", "/v1/tokens", {
      as: "admin",
      body: { name: "field-2", role: "operator", expires_at: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect((await api.call("GET", "/v1/whoami", { token: later.body.token })).status).toBe(200);
    api.registry.db
      .prepare("UPDATE api_tokens SET expires_at = ? WHERE id = ?")
      .run("2000-01-01T00:00:00.000Z", later.body.id);
    const expired = await api.call("GET", "/v1/whoami", { token: later.body.token });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toMatch(/expired/);
  });

  it("asks for a token before saying a /v1 route does not exist", async () => {
    expect((await api.call("GET", "/v1/nothing", { as: null })).status).toBe(401);
    const r = await api.call("GET", "/v1/nothing", { as: "operator" });
    expect(r).toMatchObject({
      status: 404,
      body: { error: "not_found", message: "no route GET /v1/nothing" },
    });
  });

  it("leaves /health, /metrics and the API documentation open", async () => {
    for (const url of ["/health", "/metrics", "/openapi.json", "/docs"])
      expect((await api.call("GET", url, { as: null })).status, url).toBe(200);
  });

  it("records when a token was last used, at most once a minute", async () => {
    const id = () =>
      api.registry.db
        .prepare("SELECT last_used_at FROM api_tokens WHERE name = ?")
        .get(tokenName("operator")) as {
        last_used_at: string | null;
      };
    expect(id().last_used_at).toBeNull();
    await api.call("GET", "/v1/whoami", { as: "operator" });
    const first = id().last_used_at;
    expect(first).not.toBeNull();
    await api.call("GET", "/v1/whoami", { as: "operator" });
    expect(id().last_used_at).toBe(first);
  });
});

describe("roles (403)", () => {
  const cases = [
    ["operator", "POST", "/v1/devices", "devices:write"],
    ["energy_manager", "POST", "/v1/devices/bulk", "devices:write"],
    ["energy_manager", "POST", "/v1/devices/x-0001/decommission", "devices:write"],
    ["engineer", "POST", "/v1/tokens", "tokens:admin"],
    ["engineer", "GET", "/v1/tokens", "tokens:admin"],
    ["engineer", "GET", "/v1/access/changes", "access:feed"],
    ["service_ingest", "GET", "/v1/access/changes", "access:feed"],
    ["service_command", "GET", "/v1/devices", "devices:read"],
    ["operator", "GET", "/v1/registry/changes", "registry:feed"],
  ] as const;
  it.each(cases)(
    "%s may not %s %s (%s), even with a malformed body",
    async (role, method, url, permission) => {
      const r = await api.call(method, url, {
        as: role,
        ...(method === "POST" ? { body: { bogus: true } } : {}),
      });
      expect(r.status).toBe(403);
      expect(r.body.error).toBe("forbidden");
      expect(r.body.message).toContain(role);
      expect(r.body.message).toContain(permission);
      expect(api.registry.devices.count()).toBe(0);
    },
  );

  it("lets each role do what its permissions say", async () => {
    expect((await api.call("GET", "/v1/devices", { as: "operator" })).status).toBe(200);
    expect((await api.call("GET", "/v1/devices", { as: "energy_manager" })).status).toBe(200);
    expect((await api.call("GET", "/v1/registry/changes", { as: "service_ingest" })).status).toBe(200);
    expect((await api.call("GET", "/v1/access/changes", { as: "service_broker" })).status).toBe(200);
    expect((await api.call("GET", "/v1/tokens", { as: "admin" })).status).toBe(200);
    const me = await api.call("GET", "/v1/whoami", { as: "engineer" });
    expect(me.body).toEqual({
      name: "t-engineer",
      role: "engineer",
      permissions: [...ROLE_PERMISSIONS.engineer],
    });
  });
});

describe("tokens API", () => {
  it("creates a token shown once, lists it without it, and refuses a live name twice", async () => {
    const made = await api.call("POST", "/v1/tokens", {
      as: "admin",
      body: { name: "night-shift", role: "operator" },
    });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^cst_/);
    const listed = await api.call("GET", "/v1/tokens", { as: "admin" });
    const row = listed.body.tokens.find((t: { name: string }) => t.name === "night-shift");
    expect(row).toMatchObject({ role: "operator", source: "api", created_by: "t-admin", revoked_at: null });
    expect(JSON.stringify(listed.body)).not.toContain(made.body.token);
    expect(JSON.stringify(listed.body)).not.toContain(sha256Hash(made.body.token));
    const again = await api.call("POST", "/v1/tokens", {
      as: "admin",
      body: { name: "night-shift", role: "admin" },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("name_taken");
  });

  it("names the field of a bad token request", async () => {
    const bad = await api.call("POST", "/v1/tokens", { as: "admin", body: { name: "x y", role: "king" } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(["name", "role"]);
    const svc = await api.call("POST", "/v1/tokens", {
      as: "admin",
      body: { name: "ingest2", role: "service_ingest" },
    });
    expect(svc.status).toBe(400);
    expect(svc.body.issues[0]).toMatchObject({ field: "name" });
    const past = await api.call("POST", "/v1/tokens", {
      as: "admin",
      body: { name: "late", role: "operator", expires_at: "2001-01-01T00:00:00Z" },
    });
    expect(past.body.issues[0]).toMatchObject({ field: "expires_at" });
    expect((await api.call("DELETE", "/v1/tokens/nope", { as: "admin" })).status).toBe(404);
  });

  it("puts a service token's creation and revocation on the access feed", async () => {
    const before = api.registry.access.changesSince(0, 1000).latest;
    const made = await api.call("POST", "/v1/tokens", {
      as: "admin",
      body: { name: "svc-ingest-2", role: "service_ingest" },
    });
    let feed = (await api.call("GET", `/v1/access/changes?since=${before}`, { as: "service_broker" })).body;
    expect(feed.entries).toEqual([
      expect.objectContaining({
        type: "service",
        principal: "svc-ingest-2",
        allowed: true,
        secret_hash: sha256Hash(made.body.token),
      }),
    ]);
    await api.call("DELETE", `/v1/tokens/${made.body.id}`, { as: "admin" });
    feed = (await api.call("GET", `/v1/access/changes?since=${feed.next}`, { as: "service_broker" })).body;
    expect(feed.entries).toEqual([
      expect.objectContaining({ principal: "svc-ingest-2", allowed: false, secret_hash: null }),
    ]);
    expect(api.changes.map((c) => [c.action, c.access])).toEqual([
      ["token_created", true],
      ["token_revoked", true],
    ]);
  });
});

describe("rate limits (429)", () => {
  it("limits a token per minute and an address without a valid token, in the API's error format", async () => {
    const limited = await startApi({ rateLimit: { perToken: 3, anonymous: 2 } });
    try {
      for (let i = 0; i < 3; i++) expect((await limited.call("GET", "/v1/whoami")).status).toBe(200);
      const over = await limited.call("GET", "/v1/whoami");
      expect(over.status).toBe(429);
      expect(over.body).toMatchObject({ error: "rate_limited", issues: [] });
      expect(over.body.message).toContain("t-engineer");
      expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
      // Another token has its own budget; requests without a valid one share the address's.
      expect((await limited.call("GET", "/v1/whoami", { as: "operator" })).status).toBe(200);
      expect((await limited.call("GET", "/v1/whoami", { as: null })).status).toBe(401);
      expect((await limited.call("GET", "/v1/whoami", { token: "cst_nope" })).status).toBe(401);
      expect((await limited.call("GET", "/v1/whoami", { as: null })).status).toBe(429);
      // Health checks are never limited.
      expect((await limited.call("GET", "/health", { as: null })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
