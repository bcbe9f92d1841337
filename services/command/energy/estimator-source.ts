// Option A for the rollups (IPMVP: measure the key parameter, the LED watts, and stipulate the rest): over a gap
// the meter cannot bridge, a lamp is taken to have drawn its LED watts × the level the platform's calendars and
// overrides asked for (services/energy/estimate.ts), from the same history the compliance check reads
// (compliance-history.ts → clipOverrides → expectedTimeline). Built only when rollLamp asks for an estimate, which
// is rare: reading a lamp's history costs a few SQLite queries, a roller pass rolls thousands of lamps.
import type { DatabaseSync } from "node:sqlite";
import { calendarEstimator } from "../../energy/estimate.ts";
import type { Estimator } from "../../energy/rollup.ts";
import { clipOverrides } from "../../schedule/overrides.ts";
import { expectedTimeline } from "../../schedule/timeline.ts";
import { historyReader } from "../schedules/compliance-history.ts";
import type { RollLamp } from "./lamps.ts";

/** An estimator for `lamp` over [fromMs, toMs] (the span a pass rolls), built on its first use. */
export type EstimatorSource = (lamp: RollLamp, fromMs: number, toMs: number) => Estimator;

export function estimatorSource(db: DatabaseSync, standbyW: number): EstimatorSource {
  const history = historyReader(db);
  return (lamp, fromMs, toMs) => {
    let built: Estimator | undefined;
    return (from, to) => {
      if (!built) {
        const h = history.forLamps([lamp.id], Math.min(fromMs, from), Math.max(toMs, to)).get(lamp.id);
        const timeline = expectedTimeline({
          // Before the first calendar sent, the lamp runs its factory calendar (expectedTimeline supplies it).
          calendars: (h?.calendars ?? []).map((c) => ({ fromMs: c.fromMs, doc: c.doc })),
          overrides: clipOverrides(h?.overrides ?? []),
          site: lamp.params.site,
        });
        built = calendarEstimator({ timeline, ledW: lamp.params.ledW, standbyW });
      }
      return built(from, to);
    };
  };
}
