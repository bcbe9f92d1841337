// An in-memory copy of the device registry for services that look a device up per message (the ingest, and the
// broker's access control in issue 3). It is filled from the command service's change feed at start and kept
// fresh by polling the feed and by the `platform/v1/registry/changed` notice; lookups never touch the network.
// A snapshot on disk lets a service start with the last known registry while the command service is down.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { DeviceRecord, RegistryChangesResponse } from "../contract/devices.ts";
import type { Logger } from "../lib/log.ts";

export type ChangeFeed = (since: number, limit: number) => Promise<RegistryChangesResponse>;

export type RegistryCache = {
  get(id: string): DeviceRecord | undefined;
  size(): number;
  /** Highest change sequence applied. */
  version(): number;
  /** Pulls all pending changes (coalesced: concurrent callers share one pull). */
  sync(): Promise<void>;
  /**
   * For a lookup miss on a message that arrived at `arrivedAt`: returns once a sync that started after that moment
   * has finished, so a device registered a moment before its first message is found. Syncs for misses are spaced
   * at least `minMissRefreshMs` apart and shared, so a flood of unknown ids costs one pull per interval.
   */
  refreshForMiss(arrivedAt: number): Promise<void>;
  onChange(listener: (device: DeviceRecord | null, id: string) => void): void;
  start(): Promise<void>;
  stop(): void;
  lastError(): string | undefined;
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

export function createRegistryCache(opts: RegistryCacheOptions): RegistryCache {
  const devices = new Map<string, DeviceRecord>();
  const listeners: ((device: DeviceRecord | null, id: string) => void)[] = [];
  const now = opts.now ?? Date.now;
  let applied = 0;
  let inflight: Promise<void> | undefined;
  let lastAttempt = 0;
  let scheduled: Promise<void> | undefined;
  let lastErr: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let dirtySnapshot = false;

  function loadSnapshot(): void {
    if (!opts.snapshotPath || !existsSync(opts.snapshotPath)) return;
    try {
      const snap = JSON.parse(readFileSync(opts.snapshotPath, "utf8")) as {
        version: number;
        devices: DeviceRecord[];
      };
      for (const d of snap.devices) devices.set(d.id, d);
      applied = snap.version;
      opts.log.info({ devices: devices.size, version: applied }, "registry snapshot loaded");
    } catch (err) {
      opts.log.warn({ err }, "registry snapshot unreadable; starting empty");
    }
  }

  function saveSnapshot(): void {
    if (!opts.snapshotPath || !dirtySnapshot) return;
    const tmp = `${opts.snapshotPath}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: applied, devices: [...devices.values()] }));
    renameSync(tmp, opts.snapshotPath);
    dirtySnapshot = false;
  }

  async function pull(): Promise<void> {
    for (;;) {
      const page = await opts.feed(applied, PAGE);
      if (page.latest < applied) {
        // The registry was recreated (its sequence went back): start over from a full copy.
        opts.log.warn({ latest: page.latest, applied }, "registry feed went back; reloading");
        devices.clear();
        applied = 0;
        continue;
      }
      for (const change of page.changes) {
        if (change.device) devices.set(change.id, change.device);
        else devices.delete(change.id);
        applied = change.seq;
        for (const l of listeners) l(change.device, change.id);
      }
      if (page.changes.length > 0) dirtySnapshot = true;
      if (page.changes.length < PAGE || applied >= page.latest) break;
    }
    lastErr = undefined;
    saveSnapshot();
  }

  function sync(): Promise<void> {
    if (!inflight) lastAttempt = now();
    inflight ??= pull()
      .catch((err: Error) => {
        lastErr = err.message;
        throw err;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  return {
    get: (id) => devices.get(id),
    size: () => devices.size,
    version: () => applied,
    sync,
    async refreshForMiss(arrivedAt) {
      if (lastAttempt > arrivedAt) {
        if (inflight !== undefined) await inflight.catch(() => undefined);
        return;
      }
      scheduled ??= new Promise<void>((resolve) => {
        const wait = Math.max(0, lastAttempt + (opts.minMissRefreshMs ?? 1000) - now());
        setTimeout(() => {
          scheduled = undefined;
          sync().then(resolve, () => resolve());
        }, wait);
      });
      await scheduled;
    },
    onChange: (l) => void listeners.push(l),
    async start() {
      loadSnapshot();
      // Retry the first pull until the feed answers, unless a snapshot lets us serve meanwhile.
      for (let attempt = 1; ; attempt++) {
        try {
          await sync();
          break;
        } catch (err) {
          if (devices.size > 0) {
            opts.log.warn(
              { err: (err as Error).message },
              "registry feed unreachable; serving from snapshot",
            );
            break;
          }
          if (attempt % 10 === 1)
            opts.log.warn({ err: (err as Error).message, attempt }, "waiting for registry feed");
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
        }
      }
      opts.log.info({ devices: devices.size, version: applied }, "registry cache ready");
      timer = setInterval(() => {
        sync().catch((err: Error) => opts.log.warn({ err: err.message }, "registry sync failed"));
      }, opts.pollMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    lastError: () => lastErr,
  };
}

/** The command service's change feed over HTTP, read with a token that has the registry:feed permission. */
export function httpChangeFeed(baseUrl: string, token: string, timeoutMs = 5000): ChangeFeed {
  return async (since, limit) => {
    const url = new URL("/v1/registry/changes", baseUrl);
    url.searchParams.set("since", String(since));
    url.searchParams.set("limit", String(limit));
    const res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`registry feed ${url.href}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as RegistryChangesResponse;
  };
}
