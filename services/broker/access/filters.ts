// MQTT 3.1.1 topic filters (section 4.7): is a filter well formed, and does an allowed filter cover a requested
// one. A topic name is a filter without wildcards, so "does filter F match topic T" is covers(F, T).
//   '/' separates levels; an empty level is a level [MQTT-4.7.1-1 and 4.7.3].
//   '#' matches the parent level and any number of child levels; it stands alone and last [MQTT-4.7.1-2].
//   '+' matches exactly one level (an empty one too); it stands alone in its level [MQTT-4.7.1-3].
//   A filter that starts with a wildcard does not match a topic that starts with '$' [MQTT-4.7.2-1].

export function hasWildcard(filter: string): boolean {
  return filter.includes("+") || filter.includes("#");
}

/** A filter a client may send in SUBSCRIBE: non-empty [MQTT-4.7.3-1] and with well placed wildcards. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes("\u0000")) return false;
  const levels = filter.split("/");
  for (const [i, level] of levels.entries()) {
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return false;
    if (level.includes("+") && level !== "+") return false;
  }
  return true;
}

/**
 * True when every topic `requested` can match is also matched by `allowed` ("equal or narrower"). Both must be
 * valid filters. Examples: "city/v1/+/+/state" covers "city/v1/streetlight/sl-1/state" and
 * "city/v1/streetlight/+/state", not "city/v1/#" nor "city/v1/+/+/+"; "a/#" covers "a" and "a/b/#".
 */
export function covers(allowed: string, requested: string): boolean {
  const a = allowed.split("/");
  const r = requested.split("/");
  // '$' topics are matched only by filters that spell out their first level [MQTT-4.7.2-1].
  if (r[0]?.startsWith("$") && (a[0] === "+" || a[0] === "#")) return false;
  for (let i = 0; ; i++) {
    const al = a[i];
    const rl = r[i];
    if (al === "#") return true; // matches everything at and below this level, the parent too
    if (rl === undefined) return al === undefined;
    if (al === undefined) return false; // the request goes deeper than the allowed filter
    if (rl === "#") return false; // matches more levels than a non-'#' level allows
    if (al === "+") continue; // any single level, '+' included
    if (rl !== al) return false; // a literal level allows only itself ('+' would be wider)
  }
}

/** True when one of `allowed` covers `requested`. */
export function coveredByAny(allowed: readonly string[], requested: string): boolean {
  for (const f of allowed) if (covers(f, requested)) return true;
  return false;
}
