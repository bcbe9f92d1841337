// The time window of a compliance check (GET /v1/compliance), pure. Nights are the schedule's operating days:
// night D = [local noon D, local noon D+1) in Africa/Casablanca (services/schedule/zone.ts), so "last night" is
// one whole night with its dusk and its dawn, whatever the season's offset.
import { addDays, nightBounds, nightOf } from "../../schedule/zone.ts";
import type { Issue } from "../errors.ts";

/** Longest window one request may ask for: a month of nights, read in bounded chunks (compliance.ts). */
export const MAX_WINDOW_DAYS = 31;
const DAY_MS = 86_400_000;

export type ComplianceWindow = {
  fromMs: number;
  toMs: number;
  /** How the window was chosen, echoed in the answer. */
  basis: "last_night" | "night" | "range";
  /** The night asked for (basis "night" or "last_night"). */
  night: string | null;
};

export type WindowQuery = { from?: string | undefined; to?: string | undefined; night?: string | undefined };

export type WindowResult = { ok: true; window: ComplianceWindow } | { ok: false; issues: Issue[] };

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** RFC 3339 with a zone: a time without one would be read in the server's zone, which nobody means. */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

const INSTANT_HELP = "must be an ISO 8601 time with a zone (2026-11-21T18:00:00Z) or a date YYYY-MM-DD";

/** Local noon of a date (the start of its night), or undefined when the date does not exist. */
function noonOf(date: string): number | undefined {
  try {
    return nightBounds(date).startMs;
  } catch (err) {
    if (err instanceof RangeError) return undefined; // 2026-02-30: zone.ts refuses it
    throw err;
  }
}

/** A bound: an instant, or a date meaning its local noon (the night's start), so from=D&to=D+7 is 7 nights. */
function parseBound(value: string, field: string, issues: Issue[]): number | undefined {
  if (DATE_RE.test(value)) {
    const ms = noonOf(value);
    if (ms === undefined) issues.push({ field, message: `${value} is not a calendar date` });
    return ms;
  }
  const ms = INSTANT_RE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    issues.push({ field, message: INSTANT_HELP });
    return undefined;
  }
  return ms;
}

/**
 * The window a query names: `night=D`, or `from` and `to` (both), or by default the last complete night before
 * `nowMs`. Every problem is reported at once, each naming its query field.
 */
export function resolveWindow(q: WindowQuery, nowMs: number): WindowResult {
  const issues: Issue[] = [];
  if (q.night !== undefined) {
    if (q.from !== undefined || q.to !== undefined)
      issues.push({ field: "query.night", message: "give either night or from and to, not both" });
    const bounds = DATE_RE.test(q.night) ? safeBounds(q.night) : undefined;
    if (!bounds)
      issues.push({ field: "query.night", message: "must be a date YYYY-MM-DD (the night's evening)" });
    else if (bounds.startMs > nowMs) issues.push({ field: "query.night", message: "has not started yet" });
    if (issues.length > 0 || !bounds) return { ok: false, issues };
    return {
      ok: true,
      window: { fromMs: bounds.startMs, toMs: bounds.endMs, basis: "night", night: q.night },
    };
  }

  if (q.from === undefined && q.to === undefined) {
    // The night in progress is incomplete: the last complete one is the night before it.
    const night = addDays(nightOf(nowMs), -1);
    const { startMs, endMs } = nightBounds(night);
    return { ok: true, window: { fromMs: startMs, toMs: endMs, basis: "last_night", night } };
  }
  if (q.from === undefined) issues.push({ field: "query.from", message: "is required with to" });
  if (q.to === undefined) issues.push({ field: "query.to", message: "is required with from" });
  const fromMs = q.from === undefined ? undefined : parseBound(q.from, "query.from", issues);
  const toMs = q.to === undefined ? undefined : parseBound(q.to, "query.to", issues);
  if (fromMs !== undefined && toMs !== undefined) {
    if (toMs <= fromMs) issues.push({ field: "query.to", message: "must be after from" });
    else if (toMs - fromMs > MAX_WINDOW_DAYS * DAY_MS)
      issues.push({ field: "query.to", message: `the window may span at most ${MAX_WINDOW_DAYS} days` });
  }
  if (fromMs !== undefined && fromMs > nowMs)
    issues.push({ field: "query.from", message: "is in the future" });
  if (issues.length > 0 || fromMs === undefined || toMs === undefined) return { ok: false, issues };
  return { ok: true, window: { fromMs, toMs, basis: "range", night: null } };
}

function safeBounds(night: string): { startMs: number; endMs: number } | undefined {
  const startMs = noonOf(night);
  return startMs === undefined ? undefined : nightBounds(night);
}
