// The static token file (COMMAND_TOKEN_FILE): parsing with errors that name the line, and provisioning into the
// registry (file rows upserted, rows no longer listed revoked, service tokens announced on the access feed).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseTokenFile, provisionTokens, TokenFileError } from "../../services/command/auth/token-file.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { generateToken, sha256Hash } from "../../services/lib/secrets.ts";
import { type Api, startApi } from "./command-harness.ts";

const HEADER = "name,role,token_sha256";

describe("parseTokenFile", () => {
  it("reads name, role and hash (hex, or sha256$hex)", () => {
    const a = generateToken();
    const b = generateToken();
    const hex = sha256Hash(b).slice("sha256$".length);
    expect(
      parseTokenFile(`${HEADER}\nlocal-admin,admin,${sha256Hash(a)}\n\nsvc-broker,service_broker,${hex}\n`),
    ).toEqual([
      { name: "local-admin", role: "admin", hash: sha256Hash(a) },
      { name: "svc-broker", role: "service_broker", hash: sha256Hash(b) },
    ]);
  });

  it("names every bad line", () => {
    const h = sha256Hash(generateToken());
    const text = [
      HEADER,
      `ok,operator,${h}`,
      `bad,king,${sha256Hash(generateToken())}`,
      "short,operator,abc",
      `ingest,service_ingest,${sha256Hash(generateToken())}`,
      `ok,engineer,${sha256Hash(generateToken())}`,
      `again,admin,${h}`,
      "too,many,fields,here",
    ].join("\n");
    let err: unknown;
    try {
      parseTokenFile(text, "tokens.csv");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TokenFileError);
    const msg = (err as Error).message;
    expect(msg).toContain("tokens.csv");
    expect(msg).toMatch(/line 3: role/);
    expect(msg).toMatch(/line 4: token_sha256/);
    expect(msg).toMatch(/line 5: name: a service token's name starts with "svc-"/);
    expect(msg).toMatch(/line 6: name ok is already on line 2/);
    expect(msg).toMatch(/line 7: the same token is already on line 2/);
    expect(msg).toMatch(/line 8: expected 3 fields/);
    expect(msg).not.toMatch(/- line 2:/);
  });

  it("refuses a file without the header", () => {
    expect(() => parseTokenFile(`a,admin,${sha256Hash("x")}\n`)).toThrow(
      /line 1: the header must be name,role,token_sha256/,
    );
  });
});

describe("provisionTokens", () => {
  let api: Api;
  beforeEach(async () => {
    api = await startApi();
  });
  afterEach(async () => {
    await api.close();
  });
  const file = (rows: string[]) => {
    const path = join(api.dir, "tokens.csv");
    writeFileSync(path, `${HEADER}\n${rows.join("\n")}\n`);
    return path;
  };
  const accessEntries = (since: number) => api.registry.access.changesSince(since, 100).entries;

  it("provisions file tokens, revokes those no longer listed, and announces service tokens", async () => {
    const admin = generateToken();
    const broker = generateToken();
    const since = api.registry.access.changesSince(0, 1000).latest;
    provisionTokens(
      api.registry.tokens,
      file([`boot-admin,admin,${sha256Hash(admin)}`, `svc-broker-2,service_broker,${sha256Hash(broker)}`]),
      silentLogger(),
    );
    expect((await api.call("GET", "/v1/whoami", { token: admin })).body.name).toBe("boot-admin");
    expect(accessEntries(since)).toEqual([
      expect.objectContaining({
        principal: "svc-broker-2",
        allowed: true,
        generation: 1,
        secret_hash: sha256Hash(broker),
      }),
    ]);
    // A file token cannot be revoked through the API: it would come back at the next start.
    const listed = (await api.call("GET", "/v1/tokens", { as: "admin" })).body.tokens;
    const row = listed.find((t: { name: string }) => t.name === "boot-admin");
    expect(row.source).toBe("file");
    expect((await api.call("DELETE", `/v1/tokens/${row.id}`, { as: "admin" })).body.error).toBe(
      "provisioned_by_file",
    );

    // Same file again: nothing changes, nothing announced.
    const mid = api.registry.access.changesSince(0, 1000).latest;
    provisionTokens(
      api.registry.tokens,
      file([`boot-admin,admin,${sha256Hash(admin)}`, `svc-broker-2,service_broker,${sha256Hash(broker)}`]),
      silentLogger(),
    );
    expect(accessEntries(mid)).toEqual([]);

    // The broker's token renewed and the admin dropped from the file.
    const broker2 = generateToken();
    provisionTokens(
      api.registry.tokens,
      file([`svc-broker-2,service_broker,${sha256Hash(broker2)}`]),
      silentLogger(),
    );
    expect((await api.call("GET", "/v1/whoami", { token: admin })).status).toBe(401);
    expect((await api.call("GET", "/v1/access/changes", { token: broker })).status).toBe(401);
    expect((await api.call("GET", "/v1/access/changes", { token: broker2 })).status).toBe(200);
    expect(accessEntries(mid)).toEqual([
      expect.objectContaining({
        principal: "svc-broker-2",
        allowed: true,
        generation: 2,
        secret_hash: sha256Hash(broker2),
      }),
    ]);
  });

  it("refuses a file token that is already another token", () => {
    const t = generateToken();
    api.registry.tokens.syncFile([{ name: "a-one", role: "operator", hash: sha256Hash(t) }]);
    expect(() =>
      api.registry.tokens.syncFile([{ name: "b-two", role: "operator", hash: sha256Hash(t) }]),
    ).toThrow(/b-two is already the token of a-one/);
  });
});
