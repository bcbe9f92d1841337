// The demo history of `npm start` (issue 5): on the first start of a data dir the demo fleet backfills from the
// day before the 1st of last month (local time, Africa/Casablanca) up to now, one reading per device every
// 900 s, before going live; so last month's energy report has a whole month of data from the first start on, and
// the day before gives the rollups the reading that opens the month. The simulator writes the history's truth
// (simulators/truth.ts: per lamp and local day, energy drawn and dark hours) to .data/simulator/history-truth.json
// when the backfill ends; this module then records .data/simulator/history.json, and later starts skip the
// backfill. Interrupted before its end (Ctrl-C, a crash), nothing is recorded and the next start does it again
// (the same timestamps: InfluxDB keeps one point per series and time).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { addDays, localDateOf, localInstant, localIso } from "../../services/schedule/zone.ts";

/** One reading per device every 15 minutes: a month of 320 devices is about 1 million readings. */
export const HISTORY_INTERVAL_S = 900;
/** Starts this much before the day before the 1st: the simulator's clock moves while the fleet registers. */
const MARGIN_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type HistoryRecord = {
  version: 1;
  from: string;
  to: string;
  interval_s: number;
  devices: number;
  truth_file: string;
  /** Real seconds from the platform's start to the end of the backfill. */
  seconds: number;
  recorded_at: string;
};

export type HistoryPlan =
  | { kind: "recorded"; record: HistoryRecord; file: string }
  | { kind: "skipped"; why: string }
  | {
      kind: "backfill";
      fromMs: number;
      days: number;
      intervalS: number;
      truthFile: string;
      recordFile: string;
      /** Environment for the simulator (SIM_BACKFILL_DAYS, SIM_BACKFILL_INTERVAL_S, SIM_TRUTH_FILE). */
      env: Record<string, string>;
    };

/** The day before the 1st of last month, local, as a date. */
export function historyStartDate(nowMs: number): string {
  const [y, m] = localDateOf(nowMs).split("-").map(Number) as [number, number];
  const first = m === 1 ? `${y - 1}-12-01` : `${y}-${String(m - 1).padStart(2, "0")}-01`;
  return addDays(first, -1);
}

export function planHistory(opts: {
  dataDir: string;
  nowMs: number;
  enabled: boolean;
  env: NodeJS.ProcessEnv;
}): HistoryPlan {
  const dir = join(opts.dataDir, "simulator");
  const recordFile = join(dir, "history.json");
  if (existsSync(recordFile)) {
    try {
      return { kind: "recorded", record: JSON.parse(readFileSync(recordFile, "utf8")), file: recordFile };
    } catch {
      return { kind: "skipped", why: `${recordFile} is unreadable; delete it to backfill again` };
    }
  }
  if (!opts.enabled) return { kind: "skipped", why: "--no-history" };
  if (opts.env.SIM_BACKFILL_DAYS !== undefined)
    return { kind: "skipped", why: "SIM_BACKFILL_DAYS is set: the simulator backfills as it says" };
  const fromMs = localInstant(historyStartDate(opts.nowMs), "00:00");
  const days = Math.ceil(((opts.nowMs - fromMs + MARGIN_MS) / DAY_MS) * 1000) / 1000;
  const intervalS = Number(opts.env.SIM_BACKFILL_INTERVAL_S ?? HISTORY_INTERVAL_S);
  const truthFile = opts.env.SIM_TRUTH_FILE ?? join(dir, "history-truth.json");
  mkdirSync(dir, { recursive: true });
  return {
    kind: "backfill",
    fromMs,
    days,
    intervalS,
    truthFile,
    recordFile,
    env: {
      SIM_BACKFILL_DAYS: String(days),
      SIM_BACKFILL_INTERVAL_S: String(intervalS),
      SIM_TRUTH_FILE: truthFile,
    },
  };
}

export function describePlan(plan: HistoryPlan, devices: number): string {
  switch (plan.kind) {
    case "recorded":
      return `Demo history: recorded in ${plan.file} (${plan.record.from} → ${plan.record.to}); not backfilled again.`;
    case "skipped":
      return `Demo history: none (${plan.why}).`;
    case "backfill": {
      const readings = Math.round(devices * ((plan.days * DAY_MS) / (plan.intervalS * 1000)));
      return (
        `Demo history: first start of this data dir. The demo fleet (${devices} devices) backfills from ` +
        `${localIso(plan.fromMs)} to now, a reading every ${plan.intervalS} s (~${readings.toLocaleString("en")} ` +
        `readings, about ${estimateMinutes(readings)} min on 2 cores) before going live; its truth goes to ` +
        `${plan.truthFile}.`
      );
    }
  }
}

/**
 * Readings per second from the simulator into InfluxDB while the history backfills, measured on the 2-core
 * development machine (1.67 million readings of the 240/40/40 demo fleet stored 64 s after `npm start`, influxd's
 * start and the registration included; simulators/README.md, "Demo history").
 */
const HISTORY_READINGS_PER_S = 25_000;
const estimateMinutes = (readings: number) => Math.max(1, Math.round(readings / HISTORY_READINGS_PER_S / 60));

/**
 * Watches for the truth file of a completed backfill and records the history once; `onRecorded` says so. The
 * simulator replaces the file atomically, so a read never sees half of it.
 */
export function watchHistory(
  plan: Extract<HistoryPlan, { kind: "backfill" }>,
  devices: number,
  startedMs: number,
  onRecorded: (record: HistoryRecord) => void,
  everyMs = 2000,
): { check(): boolean; stop(): void } {
  let done = false;
  const check = (): boolean => {
    if (done) return true;
    let truth: {
      written_at?: string;
      backfill?: { from_ts: number; to_ts: number; interval_s: number; completed: boolean } | null;
    };
    try {
      truth = JSON.parse(readFileSync(plan.truthFile, "utf8"));
    } catch {
      return false; // not written yet
    }
    const b = truth.backfill;
    // A file left by an earlier run (its history.json deleted) is not this backfill's.
    if (!b?.completed || Date.parse(truth.written_at ?? "") < startedMs) return false;
    const record: HistoryRecord = {
      version: 1,
      from: new Date(b.from_ts).toISOString(),
      to: new Date(b.to_ts).toISOString(),
      interval_s: b.interval_s,
      devices,
      truth_file: plan.truthFile,
      seconds: Math.round((Date.now() - startedMs) / 1000),
      recorded_at: new Date().toISOString(),
    };
    writeFileSync(plan.recordFile, `${JSON.stringify(record, null, 2)}\n`);
    done = true;
    onRecorded(record);
    return true;
  };
  const timer = setInterval(() => {
    if (check()) clearInterval(timer);
  }, everyMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
