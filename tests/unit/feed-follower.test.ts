// The feed follower the broker's access cache and the ingest's registry cache share, over an in-test feed whose
// pulls can be held open: a change during a pull is not lost, a miss is answered only by a pull that started after
// it, the feed going back, and the snapshot.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFeedFollower, type FeedPage, type FollowerOptions } from "../../services/lib/feed-follower.ts";
import { silentLogger } from "../../services/lib/log.ts";

type Entry = { seq: number; key: string; value: number };

/**
 * A feed that reads its log when called (like a database query) and, while held, answers only when released:
 * a change made while a pull is held is one that pull has not seen.
 */
function heldFeed() {
  let log: Entry[] = [];
  let held = false;
  const waiting: (() => void)[] = [];
  const starts: number[] = [];
  let clock = 1000;
  const read = async (since: number, limit: number): Promise<FeedPage<Entry>> => {
    starts.push(clock);
    const entries = log.filter((e) => e.seq > since).slice(0, limit);
    const page = { entries, next: entries.at(-1)?.seq ?? since, latest: log.at(-1)?.seq ?? 0 };
    if (held) await new Promise<void>((r) => waiting.push(r));
    return page;
  };
  return {
    read,
    starts,
    now: () => clock,
    tick(ms: number) {
      clock += ms;
    },
    put(key: string, value: number) {
      log.push({ seq: (log.at(-1)?.seq ?? 0) + 1, key, value });
    },
    /** Pulls from now on wait for release() or open(). */
    hold() {
      held = true;
    },
    /** Lets the pulls waiting now answer; later ones are still held. */
    release() {
      for (const r of waiting.splice(0)) r();
    },
    /** Stops holding. */
    open() {
      held = false;
      for (const r of waiting.splice(0)) r();
    },
    /** Resolves once a pull is waiting to be released; throws when none comes. */
    async pulling(): Promise<void> {
      const deadline = Date.now() + 1000;
      while (waiting.length === 0) {
        if (Date.now() > deadline) throw new Error("no pull was started");
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    reset() {
      log = [];
    },
  };
}

function follow(f: ReturnType<typeof heldFeed>, over: Partial<FollowerOptions<Entry>> = {}) {
  const values = new Map<string, number>();
  const replaced: number[] = [];
  const follower = createFeedFollower<Entry>({
    read: f.read,
    name: "test",
    tokenHint: "TEST_TOKEN",
    log: silentLogger(),
    pollMs: 60_000,
    pageSize: 100,
    miss: { spacingMs: 5, maxWaitMs: 5000 },
    now: f.now,
    state: {
      apply(entries) {
        for (const e of entries) values.set(e.key, e.value);
      },
      replace(entries) {
        replaced.push(entries.length);
        values.clear();
        for (const e of entries) values.set(e.key, e.value);
      },
      summary: () => ({ values: values.size }),
    },
    ...over,
  });
  return { follower, values, replaced };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("feed follower", () => {
  it("queues one pull behind the one in flight: a change made during a pull is not lost", async () => {
    const f = heldFeed();
    f.put("a", 1);
    const { follower, values } = follow(f);
    f.hold();
    const first = follower.sync();
    await f.pulling();
    f.put("b", 2); // after the pull in flight read the feed
    const second = follower.sync();
    const third = follower.sync(); // shares the queued pull
    f.release();
    await first;
    expect(values.has("b")).toBe(false);
    await f.pulling();
    f.open();
    await Promise.all([second, third]);
    expect(values.get("b")).toBe(2);
    expect(f.starts).toHaveLength(2);
  });

  it("answers a miss only with a pull that started after it arrived", async () => {
    const f = heldFeed();
    f.put("a", 1);
    const { follower, values } = follow(f);
    await follower.sync();
    // A pull starts (a poll, or another miss) and reads the feed...
    f.hold();
    const polling = follower.sync();
    await f.pulling();
    // ...then a device is registered and its first message arrives.
    f.tick(10);
    f.put("b", 2);
    const arrivedAt = f.now();
    f.tick(1);
    let answered = false;
    const miss = follower.refreshForMiss(arrivedAt).then(() => {
      answered = true;
    });
    await new Promise((r) => setTimeout(r, 20)); // its pull is asked for while the other is in flight
    f.release();
    await polling;
    expect(values.has("b")).toBe(false);
    expect(answered).toBe(false);
    await f.pulling();
    f.open();
    await miss;
    expect(values.get("b")).toBe(2);
    expect(f.starts.at(-1)).toBeGreaterThan(arrivedAt);
  });

  it("a miss that arrives while the pull of an earlier miss runs gets a pull of its own", async () => {
    const f = heldFeed();
    const { follower, values } = follow(f);
    await follower.sync();
    f.tick(10);
    f.hold();
    const early = follower.refreshForMiss(f.now() - 1);
    await f.pulling();
    f.tick(10);
    f.put("b", 2);
    const arrivedAt = f.now();
    f.tick(1);
    const late = follower.refreshForMiss(arrivedAt);
    f.release();
    await early;
    expect(values.has("b")).toBe(false);
    await f.pulling();
    f.open();
    await late;
    expect(values.get("b")).toBe(2);
  });

  it("a pull that started after the arrival answers a miss without another pull", async () => {
    const f = heldFeed();
    f.put("a", 1);
    const { follower } = follow(f);
    const arrivedAt = f.now();
    f.tick(1);
    f.hold();
    const polling = follower.sync();
    await f.pulling();
    const misses = Array.from({ length: 100 }, () => follower.refreshForMiss(arrivedAt));
    f.open();
    await Promise.all([polling, ...misses]);
    await follower.refreshForMiss(arrivedAt);
    expect(f.starts).toHaveLength(1);
  });

  it("a flood of misses costs one pull per interval", async () => {
    const f = heldFeed();
    const { follower } = follow(f, { miss: { spacingMs: 50 } });
    await follower.sync();
    f.tick(1);
    await Promise.all(Array.from({ length: 1000 }, () => follower.refreshForMiss(f.now())));
    expect(f.starts).toHaveLength(2);
  });

  it("waits at most maxWaitMs for a pull that hangs", async () => {
    const f = heldFeed();
    const { follower } = follow(f, { miss: { spacingMs: 5, maxWaitMs: 20 } });
    f.hold();
    const started = Date.now();
    await follower.refreshForMiss(f.now());
    expect(Date.now() - started).toBeLessThan(1000);
    f.open();
  });

  it("reads the feed again from 0 when its sequence goes back, and hands it over whole", async () => {
    const f = heldFeed();
    for (let i = 0; i < 5; i++) f.put(`old-${i}`, i);
    const { follower, values, replaced } = follow(f, { pageSize: 2 });
    await follower.sync();
    expect(follower.status().version).toBe(5);
    f.reset(); // a recreated registry
    for (let i = 0; i < 3; i++) f.put(`new-${i}`, i);
    await follower.sync();
    expect(replaced).toEqual([3]);
    expect([...values.keys()].sort()).toEqual(["new-0", "new-1", "new-2"]);
    expect(follower.status().version).toBe(3);
    // And goes on from there.
    f.put("new-3", 3);
    await follower.sync();
    expect(values.get("new-3")).toBe(3);
    expect(replaced).toEqual([3]);
  });

  it("writes the snapshot once the changes are applied, and starts from it while the feed is down", async () => {
    const dir = mkdtempSync(join(tmpdir(), "feed-follower-"));
    dirs.push(dir);
    const path = join(dir, "snap.json");
    const f = heldFeed();
    f.put("a", 1);
    f.put("b", 2);
    const withSnapshot = (values: Map<string, number>, read: FollowerOptions<Entry>["read"]) =>
      createFeedFollower<Entry>({
        read,
        name: "test",
        tokenHint: "TEST_TOKEN",
        log: silentLogger(),
        pollMs: 60_000,
        pageSize: 100,
        miss: { spacingMs: 5 },
        state: {
          apply(entries) {
            for (const e of entries) values.set(e.key, e.value);
          },
          replace() {},
          summary: () => ({ values: values.size }),
        },
        snapshot: {
          path,
          load(contents) {
            const c = contents as { version: number; values: [string, number][] };
            for (const [k, v] of c.values) values.set(k, v);
            return c.version;
          },
          contents: (version) => ({ version, values: [...values] }),
        },
      });
    const first = withSnapshot(new Map(), f.read);
    await first.start();
    await first.stop();
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      version: 2,
      values: [
        ["a", 1],
        ["b", 2],
      ],
    });

    const values = new Map<string, number>();
    const down = withSnapshot(values, () => Promise.reject(new Error("ECONNREFUSED")));
    await down.start(); // resolves on the snapshot once the feed has failed
    expect(down.status()).toMatchObject({ source: "snapshot", version: 2, lastError: "ECONNREFUSED" });
    expect(values.get("b")).toBe(2);
    await down.stop();
  });
});
