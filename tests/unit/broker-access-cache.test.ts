// The broker's access cache against a feed function (no HTTP, no database): paging, changes reported to
// listeners, the feed going back, coalesced pulls, the snapshot, and readiness.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type AccessChange, createAccessCache } from "../../services/broker/access/cache.ts";
import type { AccessFeed } from "../../services/broker/access/feed.ts";
import type { AccessChangesResponse, AccessEntry } from "../../services/contract/access.ts";
import { silentLogger } from "../../services/lib/log.ts";

type Device = Extract<AccessEntry, { type: "device" }>;
const device = (principal: string, over: Partial<Device> = {}): Omit<Device, "seq"> => ({
  type: "device",
  principal,
  kind: "streetlight",
  allowed: true,
  generation: 1,
  secret_hash: `scrypt$hash-of-${principal}`,
  ...over,
});

/** An in-memory feed with the registry's semantics: the newest state of each principal touched after `since`. */
function memoryFeed() {
  let log: AccessEntry[] = [];
  let calls = 0;
  let failing: Error | undefined;
  const feed: AccessFeed = async (since, limit) => {
    calls++;
    if (failing) throw failing;
    const latestByPrincipal = new Map<string, AccessEntry>();
    for (const e of log) if (e.seq > since) latestByPrincipal.set(`${e.type}:${e.principal}`, e);
    const rows = [...latestByPrincipal.values()].sort((a, b) => a.seq - b.seq).slice(0, limit);
    const res: AccessChangesResponse = {
      entries: rows,
      next: rows.at(-1)?.seq ?? since,
      latest: log.at(-1)?.seq ?? 0,
    };
    return res;
  };
  return {
    feed,
    calls: () => calls,
    fail: (err: Error | undefined) => {
      failing = err;
    },
    push(...entries: Omit<AccessEntry, "seq">[]) {
      for (const e of entries) log.push({ ...e, seq: (log.at(-1)?.seq ?? 0) + 1 } as AccessEntry);
    },
    /** A recreated registry: its sequence starts again. */
    reset() {
      log = [];
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "access-cache-"));
  dirs.push(d);
  return d;
};

describe("access cache", () => {
  it("is not ready until the first pull, then answers from memory", async () => {
    const f = memoryFeed();
    f.push(device("sl-1"), { ...device("svc-ingest"), type: "service", role: "service_ingest" } as never);
    const cache = createAccessCache({ feed: f.feed, log: silentLogger(), pollMs: 60_000 });
    expect(cache.ready()).toBe(false);
    await cache.sync();
    expect(cache.ready()).toBe(true);
    expect(cache.device("sl-1")).toMatchObject({ allowed: true, generation: 1 });
    expect(cache.service("svc-ingest")).toMatchObject({ role: "service_ingest" });
    expect(cache.device("svc-ingest")).toBeUndefined();
    expect(cache.status()).toMatchObject({
      ready: true,
      source: "feed",
      version: 2,
      devices: 1,
      services: 1,
    });
  });

  it("pages with next until next >= latest", async () => {
    const f = memoryFeed();
    for (let i = 0; i < 25; i++) f.push(device(`sl-${i}`));
    const cache = createAccessCache({ feed: f.feed, log: silentLogger(), pollMs: 60_000, pageSize: 10 });
    await cache.sync();
    expect(cache.status().devices).toBe(25);
    expect(f.calls()).toBe(3);
    await cache.sync(); // nothing new: one call
    expect(f.calls()).toBe(4);
  });

  it("reports changes of access, not repeats of the same state", async () => {
    const f = memoryFeed();
    f.push(device("sl-1"), device("sl-2"));
    const cache = createAccessCache({ feed: f.feed, log: silentLogger(), pollMs: 60_000 });
    const changes: AccessChange[] = [];
    cache.onChange((c) => changes.push(c));
    await cache.sync();
    expect(changes.map((c) => c.principal)).toEqual(["sl-1", "sl-2"]);
    changes.length = 0;
    f.push(device("sl-1")); // touched, same access
    f.push(device("sl-2", { allowed: false, generation: 0, secret_hash: null })); // decommissioned
    await cache.sync();
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      principal: "sl-2",
      entry: { allowed: false },
      previous: { allowed: true, generation: 1 },
    });
    f.push(device("sl-1", { generation: 2, secret_hash: "scrypt$new" })); // rotated
    await cache.sync();
    expect(changes[1]).toMatchObject({ principal: "sl-1", entry: { generation: 2 } });
  });

  it("reads the feed again from 0 when its sequence goes back, and reports vanished principals", async () => {
    const f = memoryFeed();
    f.push(device("sl-1"), device("sl-2"), device("sl-3"));
    const cache = createAccessCache({ feed: f.feed, log: silentLogger(), pollMs: 60_000 });
    await cache.sync();
    const changes: AccessChange[] = [];
    cache.onChange((c) => changes.push(c));
    f.reset();
    f.push(device("sl-1"), device("sl-3", { generation: 5 }));
    await cache.sync();
    expect(cache.device("sl-2")).toBeUndefined();
    expect(cache.status()).toMatchObject({ version: 2, devices: 2 });
    expect(changes.map((c) => [c.principal, c.entry?.generation ?? null]).sort()).toEqual([
      ["sl-2", null],
      ["sl-3", 5],
    ]);
  });

  it("coalesces pulls: a sync asked for during one runs once more after it", async () => {
    const f = memoryFeed();
    f.push(device("sl-1"));
    const cache = createAccessCache({ feed: f.feed, log: silentLogger(), pollMs: 60_000 });
    const first = cache.sync();
    f.push(device("sl-2")); // committed while the first pull is in flight
    const second = cache.sync();
    const third = cache.sync();
    await Promise.all([first, second, third]);
    expect(cache.device("sl-2")).toBeDefined();
    expect(f.calls()).toBe(2);
  });

  it("keeps serving what it has when the feed fails, and counts the failures", async () => {
    const f = memoryFeed();
    f.push(device("sl-1"));
    // Counted once, by the broker's Prometheus counter (security.ts wires onSyncFailure to it).
    const failures = new Counter({ name: "sync_failures_total", help: "test", registers: [new Registry()] });
    const cache = createAccessCache({
      feed: f.feed,
      log: silentLogger(),
      pollMs: 60_000,
      onSyncFailure: () => failures.inc(),
    });
    await cache.sync();
    f.fail(new Error("ECONNREFUSED"));
    await expect(cache.sync()).rejects.toThrow("ECONNREFUSED");
    expect(cache.device("sl-1")).toBeDefined();
    expect(cache.status()).toMatchObject({ ready: true, lastError: "ECONNREFUSED" });
    expect((await failures.get()).values[0]?.value).toBe(1);
  });

  it("start() retries the first pull quickly until the feed answers", async () => {
    const f = memoryFeed();
    f.push(device("sl-1"));
    f.fail(new Error("down"));
    const cache = createAccessCache({ feed: f.feed, log: silentLogger(), pollMs: 60_000 });
    cache.start();
    await new Promise((r) => setTimeout(r, 150));
    expect(cache.ready()).toBe(false);
    f.fail(undefined);
    const deadline = Date.now() + 3000;
    while (!cache.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(cache.ready()).toBe(true);
    await cache.stop();
  });

  it("writes a snapshot (0600) that a restarted cache serves while the feed is down", async () => {
    const path = join(tmp(), "sub", "access.json");
    const f = memoryFeed();
    f.push(device("sl-1"), device("sl-2", { allowed: false, generation: 0, secret_hash: null }));
    const first = createAccessCache({
      feed: f.feed,
      log: silentLogger(),
      pollMs: 60_000,
      snapshotPath: path,
    });
    first.start();
    await first.sync();
    await first.stop();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ version: 2 });

    f.fail(new Error("command service down"));
    const second = createAccessCache({
      feed: f.feed,
      log: silentLogger(),
      pollMs: 60_000,
      snapshotPath: path,
    });
    second.start();
    expect(second.ready()).toBe(true);
    expect(second.status().source).toBe("snapshot");
    expect(second.device("sl-1")).toMatchObject({ allowed: true });
    expect(second.device("sl-2")).toMatchObject({ allowed: false });
    // Back up: it continues from the snapshot's version, not from 0.
    f.fail(undefined);
    f.push(device("sl-3"));
    await second.sync();
    expect(second.status()).toMatchObject({ source: "feed", version: 3, devices: 3 });
    await second.stop();
  });

  it("ignores an unreadable snapshot", async () => {
    const path = join(tmp(), "access.json");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path, '{"version": 1, "entries": [{"type": "device"}]}');
    const cache = createAccessCache({
      feed: undefined,
      log: silentLogger(),
      pollMs: 60_000,
      snapshotPath: path,
    });
    cache.start();
    expect(cache.ready()).toBe(false);
    await cache.stop();
  });
});
