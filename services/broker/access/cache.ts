// Who may connect, in memory: the broker's copy of the access feed (one entry per device and service principal,
// with its credential hash), so that a CONNECT costs a Map lookup and never a request. The same pattern as the
// ingest's registry cache (services/registry/cache.ts):
//   - pulled at start, on a timer, and at once when the command service announces a change on
//     platform/v1/registry/changed (broker.ts observes that topic and calls requestSync);
//   - paged with `next` until next >= latest; a feed whose sequence went back (a recreated registry) is read
//     again from 0 and swapped in whole, so principals that vanished are reported as removed;
//   - kept in a snapshot file (0600: it holds credential hashes), so a restarted broker admits known principals
//     while the command service is down. Until the first sync or snapshot load, ready() is false and the broker
//     refuses every CONNECT with 0x03 (server unavailable).
// Listeners hear of every change of a principal's access (broker.ts disconnects sessions it no longer allows).
import type { AccessEntry } from "../../contract/access.ts";
import type { Logger } from "../../lib/log.ts";
import type { AccessFeed } from "./feed.ts";
import { readSnapshot, snapshotWriter } from "./snapshot.ts";

export type DeviceAccess = Extract<AccessEntry, { type: "device" }>;
export type ServiceAccess = Extract<AccessEntry, { type: "service" }>;

/** What the policy hooks read. */
export type AccessView = {
  ready(): boolean;
  device(id: string): DeviceAccess | undefined;
  service(name: string): ServiceAccess | undefined;
  /**
   * For a CONNECT from a principal the cache does not know (optional: views without a feed have nothing to
   * refresh): resolves once a pull that started after `arrivedAt` has finished, or after a short wait if the
   * feed is slow, so a device registered a moment before it first connects is let in even when the change notice
   * was missed. Pulls for misses are spaced, so a flood of unknown names costs one small pull per interval.
   */
  refreshForMiss?(arrivedAt: number): Promise<void>;
};

/** A principal's access changed; `entry` undefined: it is gone from the feed. */
export type AccessChange = {
  type: AccessEntry["type"];
  principal: string;
  entry: AccessEntry | undefined;
  previous: AccessEntry | undefined;
};

export type AccessStatus = {
  ready: boolean;
  source: "none" | "snapshot" | "feed";
  /** Sequence number of the feed applied. */
  version: number;
  devices: number;
  services: number;
  /** Wall-clock ms of the last successful pull. */
  lastSyncAt: number | undefined;
  lastError: string | undefined;
  syncFailures: number;
};

export type AccessCache = AccessView & {
  /** Loads the snapshot and starts following the feed in the background (never waits for it). */
  start(): void;
  stop(): Promise<void>;
  /** Pulls every pending change; resolves after a pull that started after this call. */
  sync(): Promise<void>;
  /** sync() without waiting (errors are logged and counted). */
  requestSync(): void;
  onChange(listener: (change: AccessChange) => void): void;
  status(): AccessStatus;
};

export type AccessCacheOptions = {
  /** Undefined: no feed (only a snapshot, if any, admits anyone). */
  feed: AccessFeed | undefined;
  log: Logger;
  pollMs: number;
  snapshotPath?: string;
  pageSize?: number;
  now?: () => number;
  onSyncFailure?: () => void;
};

type Maps = { devices: Map<string, DeviceAccess>; services: Map<string, ServiceAccess> };
const emptyMaps = (): Maps => ({ devices: new Map(), services: new Map() });

function put(maps: Maps, e: AccessEntry): AccessEntry | undefined {
  const map = (e.type === "device" ? maps.devices : maps.services) as Map<string, AccessEntry>;
  const previous = map.get(e.principal);
  map.set(e.principal, e);
  return previous;
}

/** Same access (the feed's seq aside): nothing for a connected client to fear. */
function sameAccess(a: AccessEntry | undefined, b: AccessEntry | undefined): boolean {
  if (!a || !b) return a === b;
  const group = (e: AccessEntry) => (e.type === "device" ? e.kind : e.role);
  return (
    a.type === b.type &&
    a.allowed === b.allowed &&
    a.generation === b.generation &&
    a.secret_hash === b.secret_hash &&
    group(a) === group(b)
  );
}

/** Spacing of feed pulls caused by CONNECTs from unknown principals, and the longest a CONNECT waits for one. */
const MISS_SPACING_MS = 200;
const MISS_WAIT_MS = 2000;

function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    p.catch(() => undefined).finally(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export function createAccessCache(opts: AccessCacheOptions): AccessCache {
  const log = opts.log.child({ module: "access" });
  const pageSize = opts.pageSize ?? 5000;
  const now = opts.now ?? Date.now;
  const listeners: ((change: AccessChange) => void)[] = [];
  let maps = emptyMaps();
  let applied = 0;
  let source: AccessStatus["source"] = "none";
  let lastSyncAt: number | undefined;
  let lastError: string | undefined;
  let syncFailures = 0;
  let inflight: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let dirty = false;
  let lastPullStart = Number.NEGATIVE_INFINITY;
  let lastMissPull = Number.NEGATIVE_INFINITY;
  let missPull: Promise<void> | undefined;
  const writer = opts.snapshotPath ? snapshotWriter(opts.snapshotPath) : undefined;

  const emit = (change: AccessChange): void => {
    for (const l of listeners) {
      try {
        l(change);
      } catch (err) {
        log.error({ err, principal: change.principal }, "access change listener failed");
      }
    }
  };

  function apply(e: AccessEntry): void {
    const previous = put(maps, e);
    if (!sameAccess(previous, e)) emit({ type: e.type, principal: e.principal, entry: e, previous });
  }

  /** The whole feed from 0 into fresh maps, then swapped in; differences (removals too) are reported. */
  async function reload(feed: AccessFeed): Promise<void> {
    const fresh = emptyMaps();
    let since = 0;
    for (;;) {
      const page = await feed(since, pageSize);
      for (const e of page.entries) put(fresh, e);
      const progressed = page.next > since;
      since = Math.max(since, page.next);
      if (since >= page.latest || !progressed) break;
    }
    const old = maps;
    maps = fresh;
    applied = since;
    for (const [kind, before, after] of [
      ["device", old.devices, fresh.devices],
      ["service", old.services, fresh.services],
    ] as const) {
      const seen = new Map<string, AccessEntry>(before);
      for (const [principal, entry] of after as Map<string, AccessEntry>) {
        const previous = seen.get(principal);
        seen.delete(principal);
        if (!sameAccess(previous, entry)) emit({ type: kind, principal, entry, previous });
      }
      for (const [principal, previous] of seen) emit({ type: kind, principal, entry: undefined, previous });
    }
  }

  async function pull(feed: AccessFeed): Promise<boolean> {
    let changed = false;
    for (;;) {
      const page = await feed(applied, pageSize);
      if (page.latest < applied) {
        // The registry was recreated (its sequence went back): what we hold may name principals it no longer has.
        log.warn({ latest: page.latest, applied }, "access feed went back; reading it again from the start");
        await reload(feed);
        return true;
      }
      for (const e of page.entries) apply(e);
      changed ||= page.entries.length > 0;
      const progressed = page.next > applied;
      applied = Math.max(applied, page.next);
      if (applied >= page.latest || !progressed) return changed;
    }
  }

  function run(feed: AccessFeed): Promise<void> {
    lastPullStart = now();
    const p = pull(feed)
      .then(
        (changed) => {
          if (source !== "feed")
            log.info({ version: applied, ...counts() }, "access list loaded from the feed");
          source = "feed";
          lastSyncAt = now();
          lastError = undefined;
          if (changed) {
            dirty = true;
            saveSnapshot();
          }
        },
        (err: Error) => {
          syncFailures++;
          opts.onSyncFailure?.();
          // Logged when it starts failing or changes, not on every retry; a refused token is a configuration error.
          const status = (err as { status?: number }).status;
          if (lastError !== err.message) {
            if (status === 401 || status === 403)
              log.error(
                { err: err.message },
                "the access feed refuses the broker's token (BROKER_API_TOKEN)",
              );
            else log.warn({ err: err.message }, "access feed pull failed");
          }
          lastError = err.message;
          throw err;
        },
      )
      .finally(() => {
        if (inflight === p) inflight = undefined;
      });
    inflight = p;
    return p;
  }

  function sync(): Promise<void> {
    const feed = opts.feed;
    if (!feed) return Promise.reject(new Error("no access feed configured"));
    if (!inflight) return run(feed);
    // A pull in flight may have read the feed before the change the caller knows about: one more after it.
    queued ??= inflight
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return stopped ? undefined : run(feed);
      });
    return queued;
  }

  function loadSnapshot(): void {
    const path = opts.snapshotPath;
    if (!path) return;
    try {
      const snap = readSnapshot(path);
      if (!snap) return;
      for (const e of snap.entries) put(maps, e);
      applied = snap.version;
      source = "snapshot";
      log.info({ path, version: applied, ...counts() }, "access snapshot loaded");
    } catch (err) {
      maps = emptyMaps();
      log.warn({ err, path }, "access snapshot unreadable; waiting for the feed");
    }
  }

  function saveSnapshot(): void {
    if (!writer || !dirty) return;
    dirty = false;
    writer.save(applied, [...maps.devices.values(), ...maps.services.values()]).catch((err: Error) => {
      dirty = true;
      log.warn({ err: err.message, path: opts.snapshotPath }, "access snapshot not written");
    });
  }

  const counts = () => ({ devices: maps.devices.size, services: maps.services.size });

  return {
    ready: () => source !== "none",
    device: (id) => maps.devices.get(id),
    service: (name) => maps.services.get(name),
    sync,
    refreshForMiss(arrivedAt) {
      if (!opts.feed || stopped) return Promise.resolve();
      if (lastPullStart >= arrivedAt && inflight) return waitAtMost(inflight, MISS_WAIT_MS);
      if (lastPullStart >= arrivedAt) return Promise.resolve();
      missPull ??= new Promise<void>((resolve) =>
        setTimeout(resolve, Math.max(0, lastMissPull + MISS_SPACING_MS - now())),
      )
        .then(() => {
          lastMissPull = now();
          return sync();
        })
        .catch(() => undefined)
        .finally(() => {
          missPull = undefined;
        });
      return waitAtMost(missPull, MISS_WAIT_MS);
    },
    requestSync() {
      if (opts.feed && !stopped) sync().catch(() => undefined);
    },
    onChange: (l) => void listeners.push(l),
    status: () => ({
      ready: source !== "none",
      source,
      version: applied,
      ...counts(),
      lastSyncAt,
      lastError,
      syncFailures,
    }),
    start() {
      loadSnapshot();
      if (!opts.feed) {
        log.warn("no access feed: only a snapshot can admit anyone");
        return;
      }
      let failuresInARow = 0;
      const loop = async (): Promise<void> => {
        if (stopped) return;
        try {
          await sync();
          failuresInARow = 0;
        } catch {
          failuresInARow++;
        }
        if (stopped) return;
        // Until the feed has answered once, retry quickly (100 ms doubling to 2 s): nobody can connect meanwhile.
        const delay =
          source === "feed" || failuresInARow === 0
            ? opts.pollMs
            : Math.min(opts.pollMs, 2000, 100 * 2 ** Math.min(failuresInARow - 1, 5));
        timer = setTimeout(() => void loop(), delay);
        timer.unref();
      };
      void loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inflight?.catch(() => undefined);
      saveSnapshot();
      await writer?.flush();
    },
  };
}
