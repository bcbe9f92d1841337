// The fleet's credentials file (atomic, 0600, survives a bad file) and which devices get new secrets when the
// file has none or an outdated one (planRotation, pure).
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../services/lib/log.ts";
import {
  chunks,
  openCredentialStore,
  parseCredentialsList,
  planRotation,
  type RegistryView,
  type StoredSecret,
} from "../../simulators/credentials.ts";

const dir = () => mkdtempSync(join(tmpdir(), "sim-cred-"));
const issued = (id: string, generation = 1) => ({ id, secret: `s-${id}-${generation}`, generation });

describe("credentials file", () => {
  it("starts empty without a file, writes 0600 in a 0700 folder, and reads back what it wrote", async () => {
    const path = join(dir(), "nested", "credentials.json");
    const store = await openCredentialStore(path, silentLogger());
    expect(store.size).toBe(0);
    store.set([issued("sl-a-0001"), issued("aq-a-0001", 3)]);
    await store.save();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    const again = await openCredentialStore(path, silentLogger());
    expect(again.size).toBe(2);
    expect(again.get("aq-a-0001")).toMatchObject({ secret: "s-aq-a-0001-3", generation: 3 });
    expect(JSON.parse(readFileSync(path, "utf8")).version).toBe(1);
  });

  it("replaces the file atomically: no temporary files left, concurrent saves end with the last state", async () => {
    const d = dir();
    const path = join(d, "credentials.json");
    const store = await openCredentialStore(path, silentLogger());
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      store.set([issued("sl-a-0001", i)]);
      saves.push(store.save());
    }
    await Promise.all(saves);
    expect(readdirSync(d)).toEqual(["credentials.json"]);
    expect((await openCredentialStore(path, silentLogger())).get("sl-a-0001")?.generation).toBe(20);
  });

  it("moves an unreadable file aside and starts empty (the registry rotates what it lost)", async () => {
    const d = dir();
    const path = join(d, "credentials.json");
    writeFileSync(path, "{ not json", { mode: 0o600 });
    const store = await openCredentialStore(path, silentLogger());
    expect(store.size).toBe(0);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(d).some((f) => f.startsWith("credentials.json.corrupt-"))).toBe(true);
  });

  it("restricts a file readable by others to its owner", async () => {
    const path = join(dir(), "credentials.json");
    writeFileSync(path, JSON.stringify({ version: 1, devices: {} }), { mode: 0o644 });
    await openCredentialStore(path, silentLogger());
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("keeps only well-formed credentials from an API answer", () => {
    expect(
      parseCredentialsList([
        { ...issued("a"), client_id: "a", username: "a", mqtt_url: "mqtt://x", topics: {} },
        { id: "b", generation: 1 },
        null,
      ]),
    ).toEqual([issued("a")]);
    expect(parseCredentialsList(undefined)).toEqual([]);
  });
});

describe("planRotation", () => {
  const secret = (generation: number): StoredSecret => ({ secret: "x", generation, saved_at: "" });
  const ids = ["d1", "d2", "d3", "d4", "d5", "d6"];

  it("rotates devices the registry knows but the file has no secret for (file lost)", () => {
    const stored = new Map([["d1", secret(1)]]);
    const plan = planRotation(ids, (id) => stored.get(id), new Set(["d2"]));
    expect(plan.rotate).toEqual(["d3", "d4", "d5", "d6"].map((id) => ({ id, why: "missing" })));
    expect(plan.skipped).toEqual([]);
  });

  it("rotates a secret that is not the live generation; leaves decommissioned and revoked devices alone", () => {
    const stored = new Map([
      ["d1", secret(1)],
      ["d2", secret(1)],
      ["d3", secret(2)],
      ["d4", secret(1)],
    ]);
    const registry = new Map<string, RegistryView>([
      ["d1", { status: "commissioned", credential_generation: 1 }],
      ["d2", { status: "connected", credential_generation: 2 }], // rotated elsewhere (CLI)
      ["d3", { status: "decommissioned", credential_generation: 0 }],
      ["d4", { status: "registered", credential_generation: 0 }], // revoked by an operator
      ["d5", { status: "registered", credential_generation: 1 }],
      ["d6", { status: "registered" }], // generation unknown: only a missing secret counts
    ]);
    const plan = planRotation(ids, (id) => stored.get(id), new Set(), registry);
    expect(plan.rotate).toEqual([
      { id: "d2", why: "stale" },
      { id: "d5", why: "missing" },
      { id: "d6", why: "missing" },
    ]);
    expect(plan.skipped).toEqual([
      { id: "d3", why: "decommissioned" },
      { id: "d4", why: "revoked" },
    ]);
  });

  it("never rotates what the registration just issued", () => {
    const registry = new Map<string, RegistryView>(
      ids.map((id) => [id, { status: "registered", credential_generation: 1 }]),
    );
    expect(planRotation(ids, () => undefined, new Set(ids), registry)).toEqual({ rotate: [], skipped: [] });
  });

  it("chunks ids for calls of at most 1000", () => {
    const many = Array.from({ length: 2345 }, (_, i) => `d${i}`);
    expect(chunks(many, 1000).map((c) => c.length)).toEqual([1000, 1000, 345]);
    expect(chunks(many, 1000).flat()).toEqual(many);
    expect(chunks([], 1000)).toEqual([]);
  });
});
