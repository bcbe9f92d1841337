// Reading a value out of a service's /metrics (the Prometheus text format) for integration tests.

/**
 * The sum of the samples of `name` whose labels include `labels`. A metric that exists but has no such sample
 * yet (a counter never incremented: only its # HELP and # TYPE lines) is 0; a metric the text does not name at
 * all throws, so that a renamed or removed metric fails the test instead of reading as 0.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let known = false;
  let sum = 0;
  for (const line of text.split("\n")) {
    const meta = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (meta) {
      if (meta[1] === name) known = true;
      continue;
    }
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m?.[1] !== name) continue;
    known = true;
    const has = new Map([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => has.get(k) === v)) sum += Number(m[3]);
  }
  if (!known) throw new Error(`no metric ${name} in /metrics`);
  return sum;
}
