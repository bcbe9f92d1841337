// The two ways a lamp's readings reach energy_daily (issue 5): forward (read what came after its cursor, add it)
// and recompute (late data: delete its rows from a day on and roll that stretch again). Both read InfluxDB in
// pages of many lamps (influx-readings.ts), run rollLamp (services/energy/rollup.ts) per lamp and page, and write
// each page's rows and cursors in one short SQLite transaction, yielding to the event loop between pages: the
// HTTP API stays responsive while a month of a city is rolled up. A page written is progress kept: if InfluxDB
// fails halfway, the rows and cursors agree and the next pass goes on from there.
import { MAX_FUTURE_SKEW_MS } from "../../contract/readings.ts";
import { createDarkCalendar, type DarkCalendar } from "../../energy/dark.ts";
import { dayStart } from "../../energy/days.ts";
import { type DayAccum, type MeterReading, type RollupOptions, rollLamp } from "../../energy/rollup.ts";
import type { InfluxClient } from "../../lib/influx/index.ts";
import type { EnergyStore, LampRollup } from "../../registry/energy.ts";
import { localDateOf } from "../../schedule/zone.ts";
import { influxReadingsReader, type ReaderOptions, type ReadingsReader } from "../influx-readings.ts";
import type { EstimatorSource } from "./estimator-source.ts";
import type { RollLamp } from "./lamps.ts";

/** The lamp's readings as the ingest wrote them: `meter_reset` is a field only when true. */
export function meterReadingReader(influx: InfluxClient, opts?: ReaderOptions): ReadingsReader<MeterReading> {
  return influxReadingsReader<MeterReading>(
    influx,
    {
      measurement: "streetlight",
      fields: ["energy_wh", "power_w", "dim_pct", "meter_reset"],
      row(ts, [energy, power, dim, reset]) {
        // The contract requires all three; a point without its meter is not a reading to roll up.
        if (typeof energy !== "number") return undefined;
        return {
          ts,
          energyWh: energy,
          powerW: typeof power === "number" ? power : 0,
          dimPct: typeof dim === "number" ? dim : 0,
          reset: reset === true,
        };
      },
    },
    opts,
  );
}

/** What a pass did to one lamp. */
export type LampOutcome = {
  /** Its cursor's time after the pass (undefined: no reading rolled up). */
  cursorTs: number | undefined;
  /** Days whose rows the pass wrote. */
  days: Set<string>;
  /** Readings the pass read within the lamp's watched span (`watch`), distinct device times. */
  seen: number;
  /**
   * Why rollLamp refused the lamp's readings (a bug, or data the contract should have kept out): the lamp keeps
   * what the pass wrote before and is left for the rest of it, so one lamp cannot hold up the others.
   */
  error?: Error;
};

/**
 * Device times [fromTs, toTs] of readings the activity digests announced: a pass reads a lamp up to toTs and
 * counts the readings it read in the span.
 */
export type Span = { fromTs: number; toTs: number };

/** A lamp to recompute from the day of its last reading before `afterMs` (or of afterMs when there is none). */
export type RecomputeItem = { lamp: RollLamp; afterMs: number };

export type RollerDeps = {
  store: EnergyStore;
  reader: ReadingsReader<MeterReading>;
  options: RollupOptions;
  estimators: EstimatorSource;
  now(): number;
  /** Lets the event loop run between pages (HTTP requests, MQTT messages). */
  pause(): Promise<void>;
};

export type Roller = {
  /** Rolls each lamp on from its cursor (from its first reading when it has none). */
  forward(lamps: readonly RollLamp[], watch?: ReadonlyMap<string, Span>): Promise<Map<string, LampOutcome>>;
  /**
   * Recomputes each lamp from the local day of its last reading before `afterMs`: the interval from that reading on
   * changed, and it may reach back into that day. Rows of earlier days stay (rollLamp's clipFromMs).
   */
  recompute(
    items: readonly RecomputeItem[],
    watch?: ReadonlyMap<string, Span>,
  ): Promise<Map<string, LampOutcome & { fromDay: string }>>;
};

/** Groups values by a key, keeping the first-seen order of keys. */
function groupBy<T, K>(list: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const t of list) {
    const k = key(t);
    const have = out.get(k);
    if (have) have.push(t);
    else out.set(k, [t]);
  }
  return out;
}

export function createRoller(deps: RollerDeps): Roller {
  const { store, reader, options } = deps;
  /** Readings may be stamped up to the contract's future skew ahead of the platform's clock. */
  const horizon = () => deps.now() + MAX_FUTURE_SKEW_MS + 1;

  type State = {
    lamp: RollLamp;
    prev: MeterReading | undefined;
    clipFromMs: number | undefined;
    /** Recompute: delete the rows from this day on in the lamp's first write. */
    deleteFromDay: string | undefined;
    /**
     * Readings after this device time wait for a later pass: forward passes read only what the digests announced
     * (a reading written but not yet announced, rolled now, would have its digest find it behind the cursor and
     * recompute the whole day); a recompute also re-reads everything up to the cursor it started from.
     */
    upTo: number;
    dark: DarkCalendar;
    outcome: LampOutcome;
  };

  const stateOf = (lamp: RollLamp, prev: MeterReading | undefined): State => ({
    lamp,
    prev,
    clipFromMs: undefined,
    deleteFromDay: undefined,
    upTo: Number.POSITIVE_INFINITY,
    // One sun-event cache per lamp and pass (a lamp's pages share its nights).
    dark: createDarkCalendar(lamp.params.site),
    outcome: { cursorTs: prev?.ts, days: new Set(), seen: 0 },
  });

  const rollupOf = (s: State, days: Iterable<DayAccum>, cursor: MeterReading | undefined): LampRollup => {
    const r: LampRollup = {
      deviceId: s.lamp.id,
      legacyW: s.lamp.params.legacyW,
      ledW: s.lamp.params.ledW,
      deleteFromDay: s.deleteFromDay,
      days,
      cursor,
    };
    s.deleteFromDay = undefined;
    return r;
  };

  /** Reads the lamps' pages from their starts and folds them into the rows, one transaction per page. */
  async function run(
    states: Map<string, State>,
    starts: { id: string; fromMs: number }[],
    watch: ReadonlyMap<string, Span> | undefined,
  ): Promise<void> {
    for await (const page of reader.pages(starts, horizon())) {
      const batch: LampRollup[] = [];
      for (const [id, readings] of page) {
        const s = states.get(id);
        if (!s || s.outcome.error) continue;
        const prevTs = s.prev?.ts ?? Number.NEGATIVE_INFINITY;
        // The cursor's own millisecond is in the page when several readings shared it: keep only newer ones.
        const span = watch?.get(id);
        const upTo = s.upTo;
        const fresh =
          (readings[0] && readings[0].ts <= prevTs) || (readings.at(-1)?.ts ?? 0) > upTo
            ? readings.filter((r) => r.ts > prevTs && r.ts <= upTo)
            : readings;
        if (fresh.length === 0) continue;
        if (span !== undefined) {
          let last = Number.NaN; // same ms twice: one reading (rollLamp keeps the last)
          for (const r of fresh)
            if (r.ts >= span.fromTs && r.ts <= span.toTs && r.ts !== last) {
              s.outcome.seen++;
              last = r.ts;
            }
        }
        const from = s.prev?.ts ?? (fresh[0] as MeterReading).ts;
        let rolled: ReturnType<typeof rollLamp>;
        try {
          rolled = rollLamp({
            prev: s.prev,
            readings: fresh,
            lamp: s.lamp.params,
            options,
            estimator: deps.estimators(s.lamp, from, (fresh.at(-1) as MeterReading).ts),
            dark: s.dark,
            ...(s.clipFromMs === undefined ? {} : { clipFromMs: s.clipFromMs }),
          });
        } catch (err) {
          s.outcome.error = err instanceof Error ? err : new Error(String(err));
          continue;
        }
        for (const day of rolled.days.keys()) s.outcome.days.add(day);
        batch.push(rollupOf(s, rolled.days.values(), rolled.last));
        s.prev = rolled.last;
        s.outcome.cursorTs = rolled.last?.ts;
      }
      if (batch.length > 0) store.apply(batch, new Date(deps.now()));
      await deps.pause();
    }
  }

  return {
    async forward(lamps, watch) {
      const cursors = store.cursors(lamps.map((l) => l.id));
      const states = new Map(
        lamps.map((l) => {
          const s = stateOf(l, cursors.get(l.id));
          s.upTo = watch?.get(l.id)?.toTs ?? Number.POSITIVE_INFINITY;
          return [l.id, s];
        }),
      );
      // After the cursor's millisecond; without a cursor from the contract's earliest time (rows before
      // EARLIEST_TS_MS cannot exist: the ingest refuses them).
      const starts = lamps.map((l) => ({ id: l.id, fromMs: (cursors.get(l.id)?.ts ?? -1) + 1 }));
      await run(states, starts, watch);
      return new Map([...states].map(([id, s]) => [id, s.outcome]));
    },

    async recompute(items, watch) {
      // 1. The reading before afterMs says which day the changed intervals reach back to.
      const before = new Map<string, MeterReading>();
      for (const [afterMs, group] of groupBy(items, (i) => i.afterMs)) {
        const got = await reader.lastBefore(
          group.map((i) => i.lamp.id),
          afterMs,
        );
        for (const [id, r] of got) before.set(id, r);
      }
      const fromDayOf = (i: RecomputeItem) => localDateOf(before.get(i.lamp.id)?.ts ?? i.afterMs);
      // 2. Per day: the last reading before its start is the interval's beginning (its earlier part stays).
      const out = new Map<string, LampOutcome & { fromDay: string }>();
      for (const [fromDay, group] of groupBy(items, fromDayOf)) {
        const startMs = dayStart(fromDay);
        const ids = group.map((i) => i.lamp.id);
        const prevs = await reader.lastBefore(ids, startMs);
        const cursors = store.cursors(ids);
        const states = new Map<string, State>();
        for (const i of group) {
          const s = stateOf(i.lamp, prevs.get(i.lamp.id));
          s.clipFromMs = startMs;
          s.deleteFromDay = fromDay;
          const announced = watch?.get(i.lamp.id)?.toTs;
          if (announced !== undefined) s.upTo = Math.max(announced, cursors.get(i.lamp.id)?.ts ?? announced);
          states.set(i.lamp.id, s);
        }
        await run(
          states,
          ids.map((id) => ({ id, fromMs: startMs })),
          watch,
        );
        // Lamps without a reading from the day on: their rows from it go, the cursor goes back to before it.
        const idle = [...states.values()].filter((s) => s.deleteFromDay !== undefined && !s.outcome.error);
        if (idle.length > 0)
          store.apply(
            idle.map((s) => rollupOf(s, [], s.prev)),
            new Date(deps.now()),
          );
        for (const [id, s] of states) out.set(id, { ...s.outcome, fromDay });
      }
      return out;
    },
  };
}
