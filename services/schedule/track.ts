// A level track: switch points in time order resolved into a piecewise-linear function of time. The level at t
// is that of the latest point at or before t; a point with a ramp moves linearly from the level in effect at its
// instant to its own over the ramp, and a next point inside the ramp starts from the level reached then
// (contract/schedule.ts). Stored in typed arrays so a lookup is a binary search with no allocation: the
// simulator asks for the level of every reading of thousands of lamps.

export type TrackPoint = { at: number; levelPct: number; rampMs: number };

export type Track = {
  readonly at: Float64Array;
  /** Level in effect at each point's instant, where its ramp starts. */
  readonly from: Float64Array;
  readonly to: Float64Array;
  readonly rampMs: Float64Array;
  /** Level before the first point. */
  readonly base: number;
};

/** Index of the last point at or before t (strict: before t), −1 if none. */
export function lastAtOrBefore(at: Float64Array, t: number, strict: boolean): number {
  let lo = 0;
  let hi = at.length;
  // Invariant: points [0, lo) qualify, points [hi, n) do not.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = at[mid] as number;
    if (strict ? v < t : v <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function levelOf(tr: Track, i: number, t: number): number {
  if (i < 0) return tr.base;
  const to = tr.to[i] as number;
  const ramp = tr.rampMs[i] as number;
  if (ramp <= 0) return to;
  const elapsed = t - (tr.at[i] as number);
  if (elapsed >= ramp) return to;
  const from = tr.from[i] as number;
  return from + ((to - from) * elapsed) / ramp;
}

/** Resolves points already in time order (ties: the later one last) starting from `base`. */
export function buildTrack(points: readonly TrackPoint[], base: number): Track {
  const n = points.length;
  const tr: Track = {
    at: new Float64Array(n),
    from: new Float64Array(n),
    to: new Float64Array(n),
    rampMs: new Float64Array(n),
    base,
  };
  for (const [i, p] of points.entries()) {
    if (i > 0 && p.at < (tr.at[i - 1] as number)) throw new Error("buildTrack: points must be in time order");
    // The level in effect at this instant: the previous point's value here (its ramp may be cut short).
    tr.from[i] = levelOf(tr, i - 1, p.at);
    tr.at[i] = p.at;
    tr.to[i] = p.levelPct;
    tr.rampMs[i] = p.rampMs;
  }
  return tr;
}

/** Level at t; `strict` gives the limit from the left (the level just before any point at t takes effect). */
export function trackLevel(tr: Track, t: number, strict = false): number {
  return levelOf(tr, lastAtOrBefore(tr.at, t, strict), t);
}

/** Final level once every point and ramp has run. */
export function trackFinal(tr: Track): number {
  const n = tr.to.length;
  return n === 0 ? tr.base : (tr.to[n - 1] as number);
}

/** Instants in (fromMs, toMs] where the track changes slope or jumps: points and ramp ends. */
export function trackBreakpoints(tr: Track, fromMs: number, toMs: number, into: number[]): void {
  const n = tr.at.length;
  // Only the last point at or before the window can still be ramping inside it: a next point cuts a ramp. (An
  // extra breakpoint where a cut ramp would have ended is harmless: it only splits a linear piece.)
  for (let i = Math.max(0, lastAtOrBefore(tr.at, fromMs, false)); i < n; i++) {
    const at = tr.at[i] as number;
    if (at > toMs) break;
    if (at > fromMs) into.push(at);
    const end = at + (tr.rampMs[i] as number);
    if (end > fromMs && end <= toMs && end !== at) into.push(end);
  }
}
