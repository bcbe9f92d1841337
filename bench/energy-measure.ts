// Section N's measurements: the city-wide monthly report over HTTP (JSON and CSV), and the two baselines it is
// compared with in the same run: a bare SQL SUM over the same energy_daily rows (what reading the rollups costs
// at the least), and the same month computed by scanning the raw readings in InfluxDB with the platform's own
// arithmetic (what every report would cost without rollups: the platform's paged reader and rollLamp, in this
// process). Each figure is the median of several runs after a warm-up.
import { DatabaseSync } from "node:sqlite";
import { meterReadingReader } from "../services/command/energy/roller.ts";
import { createDarkCalendar } from "../services/energy/dark.ts";
import { addDays, type DayAccum, type MeterReading, rollLamp } from "../services/energy/rollup.ts";
import type { InfluxClient } from "../services/lib/influx/index.ts";
import type { EnergyLamp } from "./energy-fleet.ts";

export type Timing = { medianMs: number; minMs: number; maxMs: number; runs: number };

export function timing(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { medianMs: median, minMs: s[0] ?? Number.NaN, maxMs: s.at(-1) ?? Number.NaN, runs: s.length };
}

async function timed<T>(fn: () => Promise<T> | T, runs: number): Promise<{ t: Timing; last: T }> {
  await fn(); // warm-up: the first call pays for caches and JIT, not for the method
  const samples: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await fn();
    samples.push(performance.now() - t0);
  }
  return { t: timing(samples), last: last as T };
}

export type ReportTiming = Timing & { bytes: number; status: number };

/** GET /v1/energy/report?{query} as the energy manager, the whole body read. */
export async function timeReport(url: string, token: string, query: string, runs: number) {
  const get = async () => {
    const res = await fetch(`${url}/v1/energy/report?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await res.arrayBuffer();
    if (res.status !== 200)
      throw new Error(`report ${query}: HTTP ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`);
    return { status: res.status, bytes: body.byteLength, body };
  };
  const { t, last } = await timed(get, runs);
  return { timing: { ...t, bytes: last.bytes, status: last.status } as ReportTiming, body: last.body };
}

export type SqlBaseline = {
  sum: Timing;
  perLamp: Timing;
  rows: number;
  reportingKwh: number;
  baselineKwh: number;
};

/** The bare SUM over the month's rows, and the same grouped per lamp (the report's lamp table needs that). */
export async function sqlBaseline(
  dbPath: string,
  from: string,
  to: string,
  runs: number,
): Promise<SqlBaseline> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const sum = db.prepare(
      `SELECT COUNT(*) AS n, SUM(metered_wh + estimated_wh) AS wh, SUM(legacy_w * dark_s) AS legacy_ws,
              SUM(led_w * dark_s) AS led_ws, SUM(dark_s) AS dark_s, SUM(metered_s) AS metered_s,
              SUM(estimated_s) AS estimated_s FROM energy_daily WHERE day >= ? AND day <= ?`,
    );
    const perLamp = db.prepare(
      `SELECT device_id, SUM(metered_wh + estimated_wh) AS wh, SUM(legacy_w * dark_s) AS legacy_ws,
              SUM(led_w * dark_s) AS led_ws, SUM(dark_s) AS dark_s FROM energy_daily
        WHERE day >= ? AND day <= ? GROUP BY device_id`,
    );
    const a = await timed(() => sum.get(from, to) as { n: number; wh: number; legacy_ws: number }, runs);
    const b = await timed(() => perLamp.all(from, to).length, runs);
    return {
      sum: a.t,
      perLamp: b.t,
      rows: Number(a.last.n),
      reportingKwh: Number(a.last.wh) / 1000,
      baselineKwh: Number(a.last.legacy_ws) / 3.6e6,
    };
  } finally {
    db.close();
  }
}

export type RawScan = { timing: Timing; readings: number; reportingKwh: number; baselineKwh: number };

/**
 * The month from the raw readings: every lamp's readings of [start − gap, end + gap) in pages through the
 * platform's reader, folded per lamp with rollLamp (clipped at the month's start), summed over the month's days.
 * Readings before the start and after the end only open and close the month's first and last intervals. Gaps
 * would be estimated at full LED power (the bench fleet has none: nothing is lost on the way).
 */
export async function rawScan(
  influx: InfluxClient,
  lamps: readonly EnergyLamp[],
  month: { startMs: number; endMs: number; from: string; to: string },
  runs: number,
): Promise<RawScan> {
  const options = { gapS: 3600, estimateMaxS: 72 * 3600, standbyW: 1 };
  const once = async () => {
    const reader = meterReadingReader(influx);
    const byId = new Map(lamps.map((l) => [l.id, l]));
    const state = new Map<string, { prev: MeterReading | undefined; days: Map<string, DayAccum> }>();
    const dark = new Map(lamps.map((l) => [l.id, createDarkCalendar({ lat: l.lat, lon: l.lon })]));
    let readings = 0;
    const starts = lamps.map((l) => ({ id: l.id, fromMs: month.startMs - options.gapS * 1000 }));
    for await (const page of reader.pages(starts, month.endMs + options.gapS * 1000)) {
      for (const [id, rows] of page) {
        const lamp = byId.get(id) as EnergyLamp;
        const s = state.get(id) ?? { prev: undefined, days: new Map<string, DayAccum>() };
        readings += rows.length;
        const r = rollLamp({
          prev: s.prev,
          readings: rows,
          lamp: { ledW: lamp.ledW, legacyW: lamp.legacyW, site: { lat: lamp.lat, lon: lamp.lon } },
          options,
          estimator: (f, t) => (lamp.ledW * (t - f)) / 3.6e6,
          clipFromMs: month.startMs,
          dark: dark.get(id),
        });
        for (const [day, acc] of r.days) {
          const had = s.days.get(day);
          s.days.set(day, had ? addDays(had, acc) : acc);
        }
        state.set(id, { prev: r.last, days: s.days });
      }
    }
    let wh = 0;
    let legacyWs = 0;
    for (const [id, s] of state) {
      const lamp = byId.get(id) as EnergyLamp;
      for (const [day, acc] of s.days) {
        if (day < month.from || day > month.to) continue;
        wh += acc.meteredWh + acc.estimatedWh;
        legacyWs += lamp.legacyW * acc.darkS;
      }
    }
    return { readings, reportingKwh: wh / 1000, baselineKwh: legacyWs / 3.6e6 };
  };
  const samples: number[] = [];
  let last = { readings: 0, reportingKwh: 0, baselineKwh: 0 };
  // No warm-up run: one scan is minutes of a 2-core machine, and its caches (InfluxDB's) warm within the first.
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await once();
    samples.push(performance.now() - t0);
  }
  return { timing: timing(samples), ...last };
}
