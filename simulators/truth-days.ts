// A streetlight's physical truth per local day (issue 5), what the energy audit's report is checked against:
// the energy the lamp drew and the hours it burned over EVERY interval the model generated, whether its reading
// reached the platform or not (lost, still in a backlog), and the astronomical night of each day. Days are local
// calendar days in Africa/Casablanca (services/schedule/zone.ts: the zone's offset moves around Ramadan, so a
// day may in principle be 23 or 25 hours long). An interval between two readings that crosses local midnight is
// split in proportion to time, as the platform's rollups split metered energy (.design/issue5.md).
// Dark hours come from simulators/darkness.ts, an independent count, computed only when a truth file is written.
import { addDays, localDateOf, localInstant } from "../services/schedule/zone.ts";
import { createDarknessMeter } from "./darkness.ts";
import { round } from "./prng.ts";

/** One local day of one streetlight. */
export type TruthDay = {
  /** Energy drawn over the day's part of the generated intervals, Wh. */
  energy_wh: number;
  /** Hours the lamp burned (light on) over the same. */
  burn_h: number;
  /** Hours of the day the simulation covered (from its first generated reading to its last). */
  covered_h: number;
  /** Astronomical night (sun below −0.833° at the lamp) within the covered hours; set when a file is written. */
  dark_h?: number;
};

export type DayLedger = {
  /** Adds the interval [fromMs, toMs) with the energy and burning seconds the model integrated over it. */
  add(fromMs: number, toMs: number, energyWh: number, burnS: number): void;
  /** The days so far, in date order, energy and hours rounded for the file. */
  days(): Record<string, TruthDay>;
  /** First and last generated instants (the covered span); null before two readings. */
  span(): { fromMs: number; toMs: number } | null;
};

type Raw = { wh: number; burnS: number; coveredS: number };

export function createDayLedger(): DayLedger {
  const raw = new Map<string, Raw>();
  let first: number | undefined;
  let last: number | undefined;
  // The day holding the latest interval: nearly every interval falls inside it (fast path, no zone lookup).
  let cur: { day: string; startMs: number; endMs: number; acc: Raw } | undefined;

  const dayAt = (ts: number) => {
    if (cur && ts >= cur.startMs && ts < cur.endMs) return cur;
    const day = localDateOf(ts);
    let acc = raw.get(day);
    if (!acc) {
      acc = { wh: 0, burnS: 0, coveredS: 0 };
      raw.set(day, acc);
    }
    cur = { day, startMs: localInstant(day, "00:00"), endMs: localInstant(addDays(day, 1), "00:00"), acc };
    return cur;
  };

  return {
    add(fromMs, toMs, energyWh, burnS) {
      if (!(toMs > fromMs)) return;
      first = first === undefined ? fromMs : Math.min(first, fromMs);
      last = last === undefined ? toMs : Math.max(last, toMs);
      const total = toMs - fromMs;
      let t = fromMs;
      while (t < toMs) {
        const d = dayAt(t);
        const end = Math.min(toMs, d.endMs);
        const share = (end - t) / total;
        d.acc.wh += energyWh * share;
        d.acc.burnS += burnS * share;
        d.acc.coveredS += (end - t) / 1000;
        t = end;
      }
    },
    days() {
      const out: Record<string, TruthDay> = {};
      for (const day of [...raw.keys()].sort()) {
        const r = raw.get(day) as Raw;
        out[day] = {
          energy_wh: round(r.wh, 3),
          burn_h: round(r.burnS / 3600, 5),
          covered_h: round(r.coveredS / 3600, 5),
        };
      }
      return out;
    },
    span: () => (first === undefined || last === undefined ? null : { fromMs: first, toMs: last }),
  };
}

/**
 * Adds dark_h to every day: the astronomical night at (lat, lon) within the part of the day the span covers.
 * Returns a new record; the ledger's own is left as it was.
 */
export function withDarkHours(
  days: Record<string, TruthDay>,
  site: { lat: number; lon: number },
  span: { fromMs: number; toMs: number },
): Record<string, TruthDay> {
  const meter = createDarknessMeter(site);
  const out: Record<string, TruthDay> = {};
  for (const [day, d] of Object.entries(days)) {
    const from = Math.max(span.fromMs, localInstant(day, "00:00"));
    const to = Math.min(span.toMs, localInstant(addDays(day, 1), "00:00"));
    out[day] = { ...d, dark_h: round(meter.darkSeconds(from, to) / 3600, 5) };
  }
  return out;
}
