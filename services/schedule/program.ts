// One night of a program: its switch points as instants (TALQ program: levels at fixed local times and at
// astronomical times with an offset). Night D = [local noon D, local noon D+1): a fixed "HH:MM" at or after
// 12:00 falls on D, one before 12:00 on D+1; `sunset` is D's sunset and `sunrise` D+1's, at the lamp's position.
import type { SwitchPoint } from "../contract/schedule.ts";
import { type Site, sunEvents } from "./sun.ts";
import { addDays, localInstant } from "./zone.ts";

const MINUTE_MS = 60_000;
const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$/;

export type Switch = {
  /** Epoch ms of the switch. */
  at: number;
  levelPct: number;
  /** Linear ramp from the level in effect to levelPct (0 = at once). */
  rampMs: number;
  /** Position of the point in the program's list (ties at one instant: the later one wins). */
  index: number;
  /** How the program states it: "sunset+10", "sunrise-15", "sunset", "00:00". */
  label: string;
};

/** The label of a switch point as operators write it. */
export function switchLabel(p: Pick<SwitchPoint, "at" | "offset_min">): string {
  if (p.at !== "sunset" && p.at !== "sunrise") return p.at;
  const off = p.offset_min ?? 0;
  if (off === 0) return p.at;
  return `${p.at}${off > 0 ? "+" : "-"}${Math.abs(off)}`;
}

/** Compare switches in time order; at one instant the later point of the list comes last (and so wins). */
export function compareSwitches(a: Switch, b: Switch): number {
  return a.at - b.at || a.index - b.index;
}

/**
 * The instants of a program's points for night D at `site`, sorted in time order (ties by list position).
 * Sunrise/sunset are computed only if the program has an astronomical point.
 */
export function nightSwitches(points: readonly SwitchPoint[], night: string, site: Site): Switch[] {
  const next = addDays(night, 1);
  let sun: { sunset: number; sunrise: number } | undefined;
  const out: Switch[] = [];
  for (const [index, p] of points.entries()) {
    let at: number;
    if (p.at === "sunset" || p.at === "sunrise") {
      sun ??= sunEvents(night, site);
      at = sun[p.at] + (p.offset_min ?? 0) * MINUTE_MS;
    } else {
      if (!HHMM_RE.test(p.at))
        throw new RangeError(`switch_points.${index}.at: must be "sunset", "sunrise" or HH:MM, got ${p.at}`);
      at = localInstant(p.at >= "12:00" ? night : next, p.at);
    }
    if (!(p.level_pct >= 0 && p.level_pct <= 100))
      throw new RangeError(`switch_points.${index}.level_pct: must be within [0, 100], got ${p.level_pct}`);
    const rampS = p.ramp_s ?? 0;
    if (!(rampS >= 0 && Number.isFinite(rampS)))
      throw new RangeError(`switch_points.${index}.ramp_s: must be a non-negative number, got ${rampS}`);
    out.push({ at, levelPct: p.level_pct, rampMs: rampS * 1000, index, label: switchLabel(p) });
  }
  return out.sort(compareSwitches);
}
