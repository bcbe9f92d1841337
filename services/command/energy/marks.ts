// Lamps waiting to be rolled up, from the ingest's activity digests (contract/platform.ts). The ingest announces
// readings on receipt, before its InfluxDB write: a lamp is due `settleMs` after its latest announcement, or at
// the latest `maxWaitMs` after its first (a lamp announced every digest while a long backlog arrives still gets
// rolled; what it announced later comes round again). Pure: the service passes the times in.

export type Mark = {
  /** When the oldest announcement not yet rolled up arrived (platform time, epoch ms). */
  since: number;
  /** When the newest one arrived. */
  at: number;
  /** Device time of the oldest announced reading (a backlog reaches back to it), epoch ms. */
  firstTs?: number | undefined;
  /** Device time of the newest announced reading, epoch ms. */
  lastTs?: number | undefined;
  /** Readings announced in [firstTs, lastTs] (the digests' `accepted`, summed). */
  accepted?: number | undefined;
  /** Passes after which the announced readings were not in InfluxDB yet. */
  attempts: number;
};

export type Marks = {
  /** Adds an announcement (merged with one already waiting). */
  add(id: string, mark: Mark): void;
  /** Removes and answers the lamps due at `now`. */
  take(now: number): Map<string, Mark>;
  has(id: string): boolean;
  readonly size: number;
  /** The waiting lamps and marks (for the status). */
  keys(): MapIterator<string>;
  values(): MapIterator<Mark>;
};

const min = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);
const max = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/** Two marks of one lamp as one: the widest span of readings, and fresh news resets the attempts. */
export function mergeMarks(a: Mark, b: Mark): Mark {
  return {
    since: Math.min(a.since, b.since),
    at: Math.max(a.at, b.at),
    firstTs: min(a.firstTs, b.firstTs),
    lastTs: max(a.lastTs, b.lastTs),
    accepted:
      a.accepted === undefined && b.accepted === undefined
        ? undefined
        : (a.accepted ?? 0) + (b.accepted ?? 0),
    attempts: Math.min(a.attempts, b.attempts),
  };
}

export function createMarks(opts: { settleMs: number; maxWaitMs: number }): Marks {
  const waiting = new Map<string, Mark>();
  return {
    add(id, mark) {
      const have = waiting.get(id);
      waiting.set(id, have ? mergeMarks(have, mark) : mark);
    },
    take(now) {
      const due = new Map<string, Mark>();
      for (const [id, m] of waiting)
        if (m.at + opts.settleMs <= now || m.since + opts.maxWaitMs <= now) due.set(id, m);
      for (const id of due.keys()) waiting.delete(id);
      return due;
    },
    has: (id) => waiting.has(id),
    get size() {
      return waiting.size;
    },
    keys: () => waiting.keys(),
    values: () => waiting.values(),
  };
}

/**
 * After a pass: did it read what the digests announced? The newest announced reading must be at or behind the
 * cursor now, and the pass must have read as many readings in [firstTs, lastTs] as were announced there. The
 * ingest announces on receipt, before its InfluxDB write, and writes land in any order (a month spans several
 * shards): a pass may see the newest readings of a backlog before older ones. Then the lamp comes round again,
 * as a recompute from firstTs (older readings land behind its cursor), up to `maxAttempts` passes, after which
 * the reconcile sweep is left to find them ("give_up"; also where the ingest accepted a reading twice).
 */
export function comeRoundAgain(
  mark: Mark,
  pass: { cursorTs: number | undefined; seen: number },
  now: number,
  maxAttempts: number,
): Mark | "give_up" | undefined {
  const lastMissing = mark.lastTs !== undefined && (pass.cursorTs ?? Number.NEGATIVE_INFINITY) < mark.lastTs;
  const short =
    mark.accepted !== undefined &&
    mark.firstTs !== undefined &&
    mark.lastTs !== undefined &&
    pass.seen < mark.accepted;
  if (!lastMissing && !short) return undefined;
  if (mark.attempts + 1 >= maxAttempts) return "give_up";
  return {
    since: now,
    at: now,
    lastTs: mark.lastTs,
    firstTs: short ? mark.firstTs : undefined,
    accepted: short ? mark.accepted : undefined,
    attempts: mark.attempts + 1,
  };
}
