// Who may connect, in memory: the broker's copy of the access feed (one entry per device and service principal,
// with its credential hash), so that a CONNECT costs a Map lookup and never a request. The feed is followed by
// services/lib/feed-follower.ts, like the ingest's registry cache (services/registry/cache.ts):
//   - pulled at start, on a timer, and at once when the command service announces a change on
//     platform/v1/registry/changed (broker.ts observes that topic and calls requestSync);
//   - a feed whose sequence went back (a recreated registry) is read again from 0 and swapped in whole, so
//     principals that vanished are reported as removed;
//   - kept in a snapshot file (0600: it holds credential hashes), so a restarted broker admits known principals
//     while the command service is down. Until the first sync or snapshot load, ready() is false and the broker
//     refuses every CONNECT with 0x03 (server unavailable).
// What is this file's own: the two maps, and telling listeners of every change of a principal's access
// (broker.ts disconnects sessions it no longer allows).
import { z } from "zod";
import { type AccessEntry, accessEntry } from "../../contract/access.ts";
import { createFeedFollower, type FollowerStatus } from "../../lib/feed-follower.ts";
import type { Logger } from "../../lib/log.ts";
import type { AccessFeed } from "./feed.ts";

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

/** Failed pulls are counted by the caller's onSyncFailure (broker_access_sync_failures_total), not here. */
export type AccessStatus = FollowerStatus & { ready: boolean; devices: number; services: number };

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

/** Spacing of feed pulls caused by CONNECTs from unknown principals, and the longest a CONNECT waits for one. */
const MISS_SPACING_MS = 200;
const MISS_WAIT_MS = 2000;

/** The snapshot file: the access list as last read from the feed, validated like the feed when loaded. */
const snapshotSchema = z.object({ version: z.number().int(), entries: z.array(accessEntry) });

type Maps = { devices: Map<string, DeviceAccess>; services: Map<string, ServiceAccess> };
const emptyMaps = (): Maps => ({ devices: new Map(), services: new Map() });

function put(maps: Maps, e: AccessEntry): AccessEntry | undefined {
  const map = (e.type === "device" ? maps.devices : maps.services) as Map<string, AccessEntry>;
  const previous = map.get(e.principal);
  map.set(e.principal, e);
  return previous;
}

/** Same access (the feed's seq aside): nothing for a connected client, or a CONNECT being checked, to fear. */
export function sameAccess(a: AccessEntry | undefined, b: AccessEntry | undefined): boolean {
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

export function createAccessCache(opts: AccessCacheOptions): AccessCache {
  const log = opts.log.child({ module: "access" });
  const listeners: ((change: AccessChange) => void)[] = [];
  let maps = emptyMaps();

  const emit = (change: AccessChange): void => {
    for (const l of listeners) {
      try {
        l(change);
      } catch (err) {
        log.error({ err, principal: change.principal }, "access change listener failed");
      }
    }
  };

  /** Swaps `fresh` in and reports the differences, removals too. */
  function swap(fresh: Maps): void {
    const old = maps;
    maps = fresh;
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

  const counts = () => ({ devices: maps.devices.size, services: maps.services.size });

  const follower = createFeedFollower<AccessEntry>({
    read: opts.feed,
    name: "access list",
    tokenHint: "BROKER_API_TOKEN",
    log,
    pollMs: opts.pollMs,
    pageSize: opts.pageSize ?? 5000,
    miss: { spacingMs: MISS_SPACING_MS, maxWaitMs: MISS_WAIT_MS },
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.onSyncFailure ? { onSyncFailure: opts.onSyncFailure } : {}),
    state: {
      apply(entries) {
        for (const e of entries) {
          const previous = put(maps, e);
          if (!sameAccess(previous, e)) emit({ type: e.type, principal: e.principal, entry: e, previous });
        }
      },
      replace(entries) {
        const fresh = emptyMaps();
        for (const e of entries) put(fresh, e);
        swap(fresh);
      },
      summary: counts,
    },
    ...(opts.snapshotPath
      ? {
          snapshot: {
            path: opts.snapshotPath,
            load(contents) {
              const snap = snapshotSchema.parse(contents);
              const loaded = emptyMaps();
              for (const e of snap.entries) put(loaded, e);
              maps = loaded;
              return snap.version;
            },
            contents: (version) => ({
              version,
              entries: [...maps.devices.values(), ...maps.services.values()],
            }),
          },
        }
      : {}),
  });

  return {
    ready: () => follower.status().source !== "none",
    device: (id) => maps.devices.get(id),
    service: (name) => maps.services.get(name),
    sync: follower.sync,
    refreshForMiss: follower.refreshForMiss,
    requestSync: follower.requestSync,
    onChange: (l) => void listeners.push(l),
    status: () => {
      const s = follower.status();
      return { ...s, ready: s.source !== "none", ...counts() };
    },
    start() {
      void follower.start();
    },
    stop: follower.stop,
  };
}
