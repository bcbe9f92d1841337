// The registry cache over an in-test change feed (a function; no HTTP): freshness on a miss, flood limiting,
// deletes, a registry that was recreated, and the snapshot file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DeviceRecord, RegistryChange } from "../../services/contract/devices.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { createRegistryCache } from "../../services/registry/cache.ts";

function device(id: string): DeviceRecord {
  const at = "2026-01-01T00:00:00Z";
  return {
    id,
    kind: "streetlight",
    district: "Anfa",
    lat: 33.59,
    lon: -7.65,
    installed_at: "2025-01-01",
    report_interval_s: 60,
    led_watts: 90,
    legacy_watts: 295,
    status: "registered",
    serial: null,
    credential_generation: 1,
    created_at: at,
    updated_at: at,
  };
}

function feedOf() {
  const log: RegistryChange[] = [];
  let pulls = 0;
  return {
    add(id: string) {
      log.push({ seq: log.length + 1, op: "upsert", id, device: device(id) });
    },
    remove(id: string) {
      log.push({ seq: log.length + 1, op: "delete", id, device: null });
    },
    reset() {
      log.length = 0;
    },
    pulls: () => pulls,
    feed: async (since: number, limit: number) => {
      pulls++;
      return { changes: log.filter((c) => c.seq > since).slice(0, limit), latest: log.length };
    },
  };
}

describe("registry cache", () => {
  it("finds a device registered after the last sync when a message of it arrives", async () => {
    const f = feedOf();
    f.add("sl-a-0001");
    const cache = createRegistryCache({
      feed: f.feed,
      log: silentLogger(),
      pollMs: 60_000,
      minMissRefreshMs: 50,
    });
    await cache.start();
    expect(cache.get("sl-a-0001")?.district).toBe("Anfa");
    f.add("sl-a-0002");
    const arrived = Date.now() + 1;
    await new Promise((r) => setTimeout(r, 2));
    expect(cache.get("sl-a-0002")).toBeUndefined();
    await cache.refreshForMiss(arrived);
    expect(cache.get("sl-a-0002")?.id).toBe("sl-a-0002");
    await cache.stop();
  });

  it("a flood of misses costs one pull per interval", async () => {
    const f = feedOf();
    const cache = createRegistryCache({
      feed: f.feed,
      log: silentLogger(),
      pollMs: 60_000,
      minMissRefreshMs: 100,
    });
    await cache.start();
    const before = f.pulls();
    const arrived = Date.now() + 1;
    await new Promise((r) => setTimeout(r, 2));
    await Promise.all(Array.from({ length: 1000 }, () => cache.refreshForMiss(arrived)));
    expect(f.pulls() - before).toBe(1);
    // Messages that arrived before that pull started are answered by it, without another pull.
    await cache.refreshForMiss(arrived);
    expect(f.pulls() - before).toBe(1);
    await cache.stop();
  });

  it("applies deletes and reloads when the registry's sequence goes back", async () => {
    const f = feedOf();
    f.add("sl-a-0001");
    f.add("sl-a-0002");
    const cache = createRegistryCache({ feed: f.feed, log: silentLogger(), pollMs: 60_000 });
    await cache.start();
    f.remove("sl-a-0001");
    await cache.sync();
    expect(cache.get("sl-a-0001")).toBeUndefined();
    expect(cache.size()).toBe(1);
    f.reset();
    f.add("sl-b-0001");
    await cache.sync();
    expect(cache.get("sl-a-0002")).toBeUndefined();
    expect(cache.get("sl-b-0001")).toBeDefined();
    await cache.stop();
  });

  it("starts from a snapshot in the format it has always written while the feed is down", async () => {
    const dir = mkdtempSync(join(tmpdir(), "registry-cache-"));
    try {
      const path = join(dir, "registry-snapshot.json");
      // As the ingest wrote it before the feed follower: JSON.stringify({ version, devices }).
      writeFileSync(path, JSON.stringify({ version: 7, devices: [device("sl-a-0001")] }));
      const down = createRegistryCache({
        feed: () => Promise.reject(new Error("ECONNREFUSED")),
        log: silentLogger(),
        pollMs: 60_000,
        snapshotPath: path,
      });
      await down.start();
      expect(down.get("sl-a-0001")?.district).toBe("Anfa");
      expect(down.version()).toBe(7);
      await down.stop();

      // Written back in the same format once the feed answers.
      const f = feedOf();
      for (let i = 1; i <= 8; i++) f.add(`sl-a-000${i}`);
      const up = createRegistryCache({
        feed: f.feed,
        log: silentLogger(),
        pollMs: 60_000,
        snapshotPath: path,
      });
      await up.start();
      expect(up.size()).toBe(2); // the snapshot's device and sl-a-0008, the one change after version 7
      await up.stop();
      const written = JSON.parse(readFileSync(path, "utf8"));
      expect(written.version).toBe(8);
      expect(written.devices.map((d: DeviceRecord) => d.id).sort()).toEqual(["sl-a-0001", "sl-a-0008"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
