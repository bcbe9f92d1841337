// One lamp's overrides reduced to the spans in which each was in force (TALQ: an override sets a level with a
// start, an expiry and a reason; a newer override replaces the older one). The slot rule of the design:
//   - one slot per lamp: a newer override (by creation) ends the older one at its creation (issue) time, even
//     when the newer one starts later (the lamp drops the old one when the new one arrives);
//   - cancelling ends an override at the cancel time; expiry ends it at expires_at;
//   - an override cannot be in force before it was issued (a starts_at in the past counts from creation).
// Afterwards the lamp is back on its program (expected.ts).
import type { OverrideSpan } from "./expected.ts";

export type OverrideRecord = {
  id: string;
  createdMs: number;
  startsMs: number;
  expiresMs: number;
  cancelledMs: number | null;
  levelPct: number;
  rampMs: number;
};

function check(o: OverrideRecord, i: number): void {
  for (const field of ["createdMs", "startsMs", "expiresMs"] as const)
    if (!Number.isFinite(o[field]))
      throw new RangeError(`overrides.${i}.${field}: must be a finite epoch ms`);
  if (o.cancelledMs !== null && !Number.isFinite(o.cancelledMs))
    throw new RangeError(`overrides.${i}.cancelledMs: must be a finite epoch ms or null`);
  if (!(o.levelPct >= 0 && o.levelPct <= 100))
    throw new RangeError(`overrides.${i}.levelPct: must be within [0, 100], got ${o.levelPct}`);
  if (!(o.rampMs >= 0)) throw new RangeError(`overrides.${i}.rampMs: must not be negative, got ${o.rampMs}`);
}

/** Spans in force, in time order, without overlaps; overrides that never took effect are left out. */
export function clipOverrides(list: readonly OverrideRecord[]): OverrideSpan[] {
  list.forEach(check);
  // Creation order decides replacement; ids break ties so the result does not depend on the input order.
  const byCreation = [...list].sort(
    (a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const spans: OverrideSpan[] = [];
  for (const [i, o] of byCreation.entries()) {
    const replacedAt = byCreation[i + 1]?.createdMs ?? Number.POSITIVE_INFINITY;
    const fromMs = Math.max(o.startsMs, o.createdMs);
    const untilMs = Math.min(o.expiresMs, o.cancelledMs ?? Number.POSITIVE_INFINITY, replacedAt);
    if (untilMs > fromMs) spans.push({ id: o.id, fromMs, untilMs, levelPct: o.levelPct, rampMs: o.rampMs });
  }
  return spans.sort((a, b) => a.fromMs - b.fromMs);
}
