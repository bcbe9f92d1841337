// POST /v1/energy/rollups/rebuild, checked against the registry (the body's shape is the contract's
// rollupRebuildBody): which streetlights to recompute from InfluxDB from a date on, or why not, as a value with a
// reason code. Used after an outage, a restore of InfluxDB, or wattages corrected in the registry.
import { DISTRICT_NAMES } from "../../contract/city.ts";
import type { RollupRebuildBody } from "../../contract/energy.ts";
import { localDateOf } from "../../schedule/zone.ts";
import type { Issue } from "../errors.ts";
import type { LampSource, RollLamp } from "./lamps.ts";

export type RebuildPlan = {
  from: string;
  lamps: RollLamp[];
  /** Streetlights of the selection the registry has no wattages for: nothing to compute them with. */
  withoutWattages: string[];
};

export type RebuildRefusal =
  | { reason: "invalid"; issues: Issue[] }
  /** A lamp of `lamps` is not registered. */
  | { reason: "not_found"; id: string };

export type RebuildCheck = ({ ok: true } & RebuildPlan) | ({ ok: false } & RebuildRefusal);

export function planRebuild(body: RollupRebuildBody, lamps: LampSource, nowMs: number): RebuildCheck {
  const issues: Issue[] = [];
  const today = localDateOf(nowMs);
  if (body.from > today)
    issues.push({ field: "from", message: `must not be after today (${today}, Africa/Casablanca)` });
  if (body.district !== undefined && body.lamps !== undefined)
    issues.push({ field: "lamps", message: "give either district or lamps, not both" });
  if (body.district !== undefined && !(DISTRICT_NAMES as readonly string[]).includes(body.district))
    issues.push({ field: "district", message: `must be one of ${DISTRICT_NAMES.join(", ")}` });
  if (body.lamps !== undefined) {
    const kinds = lamps.kinds(body.lamps);
    const unknown = body.lamps.find((id) => !kinds.has(id));
    if (unknown !== undefined && issues.length === 0) return { ok: false, reason: "not_found", id: unknown };
    body.lamps.forEach((id, index) => {
      const kind = kinds.get(id);
      if (kind !== undefined && kind !== "streetlight")
        issues.push({
          field: `lamps.${index}`,
          id,
          message: `is a ${kind} device; only streetlights have energy rollups`,
        });
    });
  }
  if (issues.length > 0) return { ok: false, reason: "invalid", issues };
  const selection =
    body.lamps !== undefined ? lamps.byIds([...new Set(body.lamps)]) : lamps.all(body.district);
  return { ok: true, from: body.from, lamps: selection.lamps, withoutWattages: selection.withoutWattages };
}
