// Following a change feed into memory, so that a lookup per message or per CONNECT never touches the network.
// The broker's access cache (services/broker/access/cache.ts) and the ingest's registry cache
// (services/registry/cache.ts) keep their own state and say how to apply a page; this module decides when the feed
// is read:
//   - one pull at a time, paged from the sequence applied with `next` until next >= latest; a feed whose sequence
//     went back (a recreated registry) is read again from 0 and handed over whole;
//   - a sync asked for while a pull is in flight queues one more pull after it (shared by everyone who asks
//     meanwhile): the pull in flight may have read the feed before the change the caller knows of;
//   - pulled at start, retried quickly until the feed has answered once, then polled on a timer;
//   - refreshForMiss(arrivedAt) for a lookup miss: resolves once a pull that started after `arrivedAt` has finished;
//     such pulls are spaced and shared, so a flood of unknown names costs one pull per interval;
//   - kept in a snapshot file, so that a restarted service serves the last known state while the feed is down.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "./log.ts";

/** One page of a feed: entries after `since`, how far they reach (`next`) and the feed's newest sequence. */
export type FeedPage<E> = { entries: readonly E[]; next: number; latest: number };

export type PageReader<E> = (since: number, limit: number) => Promise<FeedPage<E>>;

/** What a cache holds, as the follower sees it. */
export type FollowedState<E> = {
  /** Entries read after the sequence applied, in feed order. */
  apply(entries: readonly E[]): void;
  /** The whole feed, read again from 0: replaces everything held. */
  replace(entries: readonly E[]): void;
  /** Sizes for the log lines. */
  summary(): Record<string, number>;
};

export type SnapshotFile = {
  path: string;
  /** Validates a snapshot's contents and loads them; returns the version they hold. Throws, changing nothing, when malformed. */
  load(contents: unknown): number;
  /** The contents to write for the state held, at `version`. */
  contents(version: number): unknown;
};

export type FollowerOptions<E> = {
  /** Undefined: no feed; only a snapshot, if any, is served. */
  read: PageReader<E> | undefined;
  state: FollowedState<E>;
  /** Names what is followed in log lines ("access list", "registry"). */
  name: string;
  /** Where the token the feed may refuse is configured, for the log line that says so. */
  tokenHint: string;
  log: Logger;
  pollMs: number;
  pageSize: number;
  /** Pulls for lookup misses start at least `spacingMs` apart; a caller waits at most `maxWaitMs` (default: until its pull ends). */
  miss: { spacingMs: number; maxWaitMs?: number };
  snapshot?: SnapshotFile;
  now?: () => number;
  onSyncFailure?: () => void;
};

export type FollowerStatus = {
  source: "none" | "snapshot" | "feed";
  /** Sequence number of the feed applied. */
  version: number;
  /** Wall-clock ms of the last successful pull. */
  lastSyncAt: number | undefined;
  lastError: string | undefined;
};

export type FeedFollower = {
  /** Pulls every pending change; resolves after a pull that started after this call. */
  sync(): Promise<void>;
  /** sync() without waiting (failures are logged and counted). */
  requestSync(): void;
  refreshForMiss(arrivedAt: number): Promise<void>;
  /**
   * Loads the snapshot (before returning) and follows the feed in the background; resolves once there is something
   * to serve: after the first successful pull, or after a failed one when a snapshot was loaded.
   */
  start(): Promise<void>;
  /** Stops polling, lets a pull in flight end and writes the snapshot out. */
  stop(): Promise<void>;
  status(): FollowerStatus;
};

export function createFeedFollower<E>(opts: FollowerOptions<E>): FeedFollower {
  const { read, state, name, log } = opts;
  const now = opts.now ?? Date.now;
  let applied = 0;
  let source: FollowerStatus["source"] = "none";
  let lastSyncAt: number | undefined;
  let lastError: string | undefined;
  let inflight: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let dirty = false;
  let lastPullStart = Number.NEGATIVE_INFINITY;
  let lastMissPull = Number.NEGATIVE_INFINITY;
  let missPull: Promise<void> | undefined;
  const snapshot = opts.snapshot;
  const writer = snapshot
    ? snapshotWriter(snapshot.path, () => JSON.stringify(snapshot.contents(applied)))
    : undefined;

  /** The whole feed from 0, handed over in one piece once read (the state never holds half of it). */
  async function reload(feed: PageReader<E>): Promise<void> {
    const entries: E[] = [];
    let since = 0;
    for (;;) {
      const page = await feed(since, opts.pageSize);
      for (const e of page.entries) entries.push(e);
      const progressed = page.next > since;
      since = Math.max(since, page.next);
      if (since >= page.latest || !progressed) break;
    }
    state.replace(entries);
    applied = since;
  }

  /** True when anything was applied. */
  async function pull(feed: PageReader<E>): Promise<boolean> {
    let changed = false;
    for (;;) {
      const page = await feed(applied, opts.pageSize);
      if (page.latest < applied) {
        // The registry was recreated (its sequence went back): what we hold may name things it no longer has.
        log.warn({ latest: page.latest, applied }, `${name} feed went back; reading it again from the start`);
        await reload(feed);
        return true;
      }
      if (page.entries.length > 0) {
        state.apply(page.entries);
        changed = true;
      }
      const progressed = page.next > applied;
      applied = Math.max(applied, page.next);
      if (applied >= page.latest || !progressed) return changed;
    }
  }

  function run(feed: PageReader<E>): Promise<void> {
    lastPullStart = now();
    const p = pull(feed)
      .then(
        (changed) => {
          if (source !== "feed")
            log.info({ version: applied, ...state.summary() }, `${name} loaded from the feed`);
          else if (lastError !== undefined) log.info({ version: applied }, `${name} feed answers again`);
          source = "feed";
          lastSyncAt = now();
          lastError = undefined;
          if (changed) {
            dirty = true;
            saveSnapshot();
          }
        },
        (err: Error) => {
          opts.onSyncFailure?.();
          // Logged when it starts failing or changes, not on every retry; a refused token is a configuration error.
          const status = (err as { status?: number }).status;
          if (lastError !== err.message) {
            if (status === 401 || status === 403)
              log.error({ err: err.message }, `the ${name} feed refuses the token (${opts.tokenHint})`);
            else log.warn({ err: err.message }, `${name} feed pull failed`);
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
    if (!read) return Promise.reject(new Error(`no ${name} feed configured`));
    if (!inflight) return run(read);
    // The pull in flight may have read the feed before the change the caller knows about: one more after it.
    queued ??= inflight
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return stopped ? undefined : run(read);
      });
    return queued;
  }

  function refreshForMiss(arrivedAt: number): Promise<void> {
    if (!read || stopped) return Promise.resolve();
    // Strictly after: a pull that started in the arrival's millisecond may have read the feed just before the change.
    if (lastPullStart > arrivedAt)
      return inflight ? waitAtMost(inflight, opts.miss.maxWaitMs) : Promise.resolve();
    // A pull queued behind the one in flight starts after now: it answers without a pull of its own.
    if (queued) return waitAtMost(queued, opts.miss.maxWaitMs);
    missPull ??= new Promise<void>((resolve) =>
      setTimeout(resolve, Math.max(0, lastMissPull + opts.miss.spacingMs - now())),
    )
      .then(() => {
        // Later callers may arrive after this pull has read the feed: they schedule one of their own.
        missPull = undefined;
        lastMissPull = now();
        return stopped ? undefined : sync();
      })
      .catch(() => undefined);
    return waitAtMost(missPull, opts.miss.maxWaitMs);
  }

  function loadSnapshot(): void {
    if (!snapshot || !existsSync(snapshot.path)) return;
    try {
      // Validated by the cache like the feed: a tampered or truncated file must not be served.
      applied = snapshot.load(JSON.parse(readFileSync(snapshot.path, "utf8")));
      source = "snapshot";
      log.info({ path: snapshot.path, version: applied, ...state.summary() }, `${name} snapshot loaded`);
    } catch (err) {
      log.warn({ err, path: snapshot.path }, `${name} snapshot unreadable; waiting for the feed`);
    }
  }

  function saveSnapshot(): void {
    if (!writer || !dirty) return;
    dirty = false;
    writer.save().catch((err: Error) => {
      dirty = true;
      log.warn({ err: err.message, path: snapshot?.path }, `${name} snapshot not written`);
    });
  }

  return {
    sync,
    requestSync() {
      if (read && !stopped) sync().catch(() => undefined);
    },
    refreshForMiss,
    start() {
      loadSnapshot();
      if (!read) {
        log.warn(`no ${name} feed: only a snapshot is served`);
        return Promise.resolve();
      }
      return new Promise<void>((started) => {
        let failuresInARow = 0;
        const loop = async (): Promise<void> => {
          if (!stopped) {
            try {
              await sync();
              failuresInARow = 0;
            } catch {
              failuresInARow++;
            }
          }
          if (source !== "none" || stopped) started();
          if (stopped) return;
          // Until the feed has answered once, retry quickly (100 ms doubling to 2 s): the snapshot, if any, may
          // be old, and without one nothing can be served.
          const delay =
            source === "feed" || failuresInARow === 0
              ? opts.pollMs
              : Math.min(opts.pollMs, 2000, 100 * 2 ** Math.min(failuresInARow - 1, 5));
          timer = setTimeout(() => void loop(), delay);
          timer.unref();
        };
        void loop();
      });
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inflight?.catch(() => undefined);
      saveSnapshot();
      await writer?.flush();
    },
    status: () => ({ source, version: applied, lastSyncAt, lastError }),
  };
}

/** `p` settled or `ms` passed, whichever first; never rejects. Undefined `ms`: as long as `p` takes. */
function waitAtMost(p: Promise<unknown>, ms: number | undefined): Promise<void> {
  const settled = p.then(
    () => undefined,
    () => undefined,
  );
  if (ms === undefined) return settled;
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    void settled.then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export type SnapshotWriter = {
  /** Writes the state as it is when the write starts: after any write in progress, sharing one queued write. */
  save(): Promise<void>;
  /** Resolves when every queued write has finished. */
  flush(): Promise<void>;
};

/**
 * A snapshot file written through a temporary file and a rename (never half written), 0600 (the access list holds
 * credential hashes), one write at a time and off the event loop's critical path. Changes that arrive during a
 * write cost one more write of the state then, not one each.
 */
export function snapshotWriter(path: string, body: () => string): SnapshotWriter {
  let writing: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const write = (): Promise<void> => {
    const p = (async () => {
      const text = body();
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, text, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    })().finally(() => {
      if (writing === p) writing = undefined;
    });
    writing = p;
    return p;
  };
  return {
    save() {
      if (!writing) return write();
      queued ??= writing
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return write();
        });
      return queued;
    },
    async flush() {
      for (let p = queued ?? writing; p; p = queued ?? writing) await p.catch(() => undefined);
    },
  };
}
