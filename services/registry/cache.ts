// An in-memory copy of the device registry for a service that looks a device up per message (the ingest), so that
// lookups never touch the network. The command service's change feed is followed by services/lib/feed-follower.ts,
// like the broker's access cache (services/broker/access/cache.ts): pulled at start, polled, pulled at once on the
// `platform/v1/registry/changed` notice (requestSync), and kept in a snapshot file so that a restarted service
// starts with the last known registry while the command service is down. What is this file's own: the Map, and
// how a change applies to it.
import { z } from "zod";
import {
  type DeviceRecord,
  deviceRecord,
  type RegistryChange,
  type RegistryChangesResponse,
  registryChangesResponse,
} from "../contract/devices.ts";
import { createFeedFollower, type FollowerStatus } from "../lib/feed-follower.ts";
import { type Feed, httpFeed } from "../lib/http-feed.ts";
import type { Logger } from "../lib/log.ts";

export type ChangeFeed = Feed<RegistryChangesResponse>;

export type RegistryCache = {
  get(id: string): DeviceRecord | undefined;
  size(): number;
  /** Highest change sequence applied. */
  version(): number;
  /** Pulls all pending changes; resolves after a pull that started after this call. */
  sync(): Promise<void>;
  /** sync() without waiting (failures are logged). */
  requestSync(): void;
  /**
   * For a lookup miss on a message that arrived at `arrivedAt`: returns once a pull that started after that moment
   * has finished, so a device registered a moment before its first message is found. Pulls for misses are spaced
   * at least `minMissRefreshMs` apart and shared, so a flood of unknown ids costs one pull per interval.
   */
  refreshForMiss(arrivedAt: number): Promise<void>;
  /** Resolves once lookups can be answered: the feed has answered, or it failed and a snapshot was loaded. */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): FollowerStatus;
};

export type RegistryCacheOptions = {
  feed: ChangeFeed;
  log: Logger;
  pollMs: number;
  minMissRefreshMs?: number;
  snapshotPath?: string;
  now?: () => number;
};

const PAGE = 5000;

/** The snapshot file (the format the ingest has always written): the devices at a feed version. */
const snapshotSchema = z.object({ version: z.number().int(), devices: z.array(deviceRecord) });

function applyTo(devices: Map<string, DeviceRecord>, changes: readonly RegistryChange[]): void {
  for (const change of changes) {
    if (change.device) devices.set(change.id, change.device);
    else devices.delete(change.id);
  }
}

export function createRegistryCache(opts: RegistryCacheOptions): RegistryCache {
  let devices = new Map<string, DeviceRecord>();
  const follower = createFeedFollower<RegistryChange>({
    // The registry's feed is contiguous: it reaches the last change it returns.
    read: async (since, limit) => {
      const page = await opts.feed(since, limit);
      return { entries: page.changes, next: page.changes.at(-1)?.seq ?? since, latest: page.latest };
    },
    name: "registry",
    tokenHint: "INGEST_API_TOKEN",
    log: opts.log,
    pollMs: opts.pollMs,
    pageSize: PAGE,
    // No longest wait: a reading of an unknown device is held until its pull ends (the feed's timeout bounds it).
    miss: { spacingMs: opts.minMissRefreshMs ?? 1000 },
    ...(opts.now ? { now: opts.now } : {}),
    state: {
      apply: (changes) => applyTo(devices, changes),
      replace(changes) {
        const fresh = new Map<string, DeviceRecord>();
        applyTo(fresh, changes);
        devices = fresh;
      },
      summary: () => ({ devices: devices.size }),
    },
    ...(opts.snapshotPath
      ? {
          snapshot: {
            path: opts.snapshotPath,
            load(contents) {
              const snap = snapshotSchema.parse(contents);
              devices = new Map(snap.devices.map((d) => [d.id, d]));
              return snap.version;
            },
            contents: (version) => ({ version, devices: [...devices.values()] }),
          },
        }
      : {}),
  });

  return {
    get: (id) => devices.get(id),
    size: () => devices.size,
    version: () => follower.status().version,
    sync: follower.sync,
    requestSync: follower.requestSync,
    refreshForMiss: follower.refreshForMiss,
    start: follower.start,
    stop: follower.stop,
    status: follower.status,
  };
}

/** The command service's change feed over HTTP, read with a token that has the registry:feed permission. */
export function httpChangeFeed(baseUrl: string, token: string, timeoutMs = 5000): ChangeFeed {
  return httpFeed({
    baseUrl,
    path: "/v1/registry/changes",
    token,
    schema: registryChangesResponse,
    timeoutMs,
  });
}
