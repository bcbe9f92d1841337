// Section N's wait for the daily rollups, and what it does when they stop short. Done means: nothing pending,
// every lamp computed through its last reading (GET /v1/energy/rollups), AND energy_daily (read-only) holding
// every reading stored — the status alone can say "done" while readings are missing (see "stalled" below).
//
// Stalled: nothing pending and no progress for a minute, readings still missing. Measured on this machine at
// 10,000 lamps (2026-11-23): the ingest publishes a lamp's activity digest when it has spooled the readings, before
// InfluxDB has them; the roller reads InfluxDB, finds the lamp's newest announced reading but not yet all the older
// ones (a month spans 5 of InfluxDB's weekly shards, written one by one), rolls what it found and moves the cursor
// past the rest, which it never reads again (the reconcile sweep covers only ENERGY_RECONCILE_DAYS). The section
// then does what an operator would: POST /v1/energy/rollups/rebuild for the incomplete lamps, and times it.
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";

/** No progress for this long with nothing pending: the rollups have stopped short. */
const STALL_MS = 60_000;

export type RollupStatus = {
  pending_lamps: number;
  lamps_with_data: number;
  computed_through: string | null;
  rows: number;
};
/** `idleMs`: how long a stalled wait watched nothing happen before calling it a stall. */
export type RollupWait = { status: RollupStatus; readings: number; stalled: boolean; idleMs: number };
export type Want = { lamps: number; throughMs: number; readings: number; dbPath: string };

/** Polls until done or stalled (see above); throws after `timeoutMs`. */
export async function waitRollups(
  url: string,
  token: string,
  want: Want,
  timeoutMs: number,
  progress: (s: RollupStatus & { readings: number }) => void,
): Promise<RollupWait> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = 0;
  let stall = { readings: -1, since: Date.now() };
  const db = new DatabaseSync(want.dbPath, { readOnly: true });
  const rolled = db.prepare("SELECT COALESCE(SUM(readings), 0) AS n FROM energy_daily");
  try {
    for (;;) {
      const res = await fetch(`${url}/v1/energy/rollups`, {
        headers: { authorization: `Bearer ${token}` },
      }).catch(() => undefined);
      const s = res?.ok ? ((await res.json()) as RollupStatus) : undefined;
      const readings = Number((rolled.get() as { n: number }).n);
      if (s) {
        const through = s.computed_through ? Date.parse(s.computed_through) : 0;
        const caughtUp =
          s.pending_lamps === 0 && s.lamps_with_data >= want.lamps && through >= want.throughMs;
        if (caughtUp && readings >= want.readings) return { status: s, readings, stalled: false, idleMs: 0 };
        if (readings !== stall.readings || s.pending_lamps > 0) stall = { readings, since: Date.now() };
        else if (Date.now() - stall.since > STALL_MS)
          return { status: s, readings, stalled: true, idleMs: Date.now() - stall.since };
        if (Date.now() - lastReport > 10_000) {
          progress({ ...s, readings });
          lastReport = Date.now();
        }
      }
      if (Date.now() > deadline)
        throw new Error(
          `rollups not caught up within ${timeoutMs / 1000} s: ${JSON.stringify(s)}, ${readings} of ${want.readings} readings in energy_daily`,
        );
      await sleep(250);
    }
  } finally {
    db.close();
  }
}

/** Lamps whose rows hold fewer readings than they sent (`expected`, by id). */
export function incompleteLamps(dbPath: string, expected: ReadonlyMap<string, number>): string[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const got = new Map(
      (
        db
          .prepare("SELECT device_id AS id, SUM(readings) AS n FROM energy_daily GROUP BY device_id")
          .all() as {
          id: string;
          n: number;
        }[]
      ).map((r) => [r.id, Number(r.n)]),
    );
    return [...expected].filter(([id, n]) => (got.get(id) ?? 0) < n).map(([id]) => id);
  } finally {
    db.close();
  }
}

/** POST /v1/energy/rollups/rebuild for `lamps` from local date `from` (≤ 10,000 lamps a request). */
export async function rebuild(
  url: string,
  token: string,
  from: string,
  lamps: readonly string[],
): Promise<void> {
  for (let i = 0; i < lamps.length; i += 10_000) {
    const res = await fetch(`${url}/v1/energy/rollups/rebuild`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ from, lamps: lamps.slice(i, i + 10_000) }),
    });
    if (res.status !== 202) throw new Error(`rebuild: HTTP ${res.status} ${await res.text()}`);
  }
}

export type CatchUp = {
  status: RollupStatus;
  /** Set when the rollups stalled and the incomplete lamps were rebuilt. */
  stalled?: {
    readings: number;
    lamps: number;
    examples: string[];
    rebuildSeconds: number;
    /** The wait for the stall's verdict, s: not the rollups' time (the caller leaves it out). */
    idleSeconds: number;
  };
};

/** Waits for the rollups; if they stall, rebuilds the incomplete lamps from `fromDate` and waits again. */
export async function catchUp(
  url: string,
  token: string,
  want: Want,
  perLamp: ReadonlyMap<string, number>,
  fromDate: string,
  progress: (line: string) => void,
): Promise<CatchUp> {
  const show = (s: RollupStatus & { readings: number }) =>
    progress(
      `N: rollups ${s.lamps_with_data}/${want.lamps} lamps with data, ${s.pending_lamps} pending, ${s.rows} rows, ` +
        `${s.readings}/${want.readings} readings`,
    );
  const first = await waitRollups(url, token, want, 60 * 60_000, show);
  if (!first.stalled) return { status: first.status };
  const ids = incompleteLamps(want.dbPath, perLamp);
  progress(
    `N: rollups STALLED at ${first.readings}/${want.readings} readings with nothing pending: ${ids.length} lamps ` +
      `incomplete (${ids.slice(0, 5).join(", ")}…); POST /v1/energy/rollups/rebuild for them`,
  );
  const r0 = Date.now();
  await rebuild(url, token, fromDate, ids);
  const again = await waitRollups(url, token, want, 30 * 60_000, show);
  if (again.stalled)
    throw new Error(`rollups still short after a rebuild: ${again.readings}/${want.readings}`);
  return {
    status: again.status,
    stalled: {
      readings: first.readings,
      lamps: ids.length,
      examples: ids.slice(0, 5),
      rebuildSeconds: (Date.now() - r0) / 1000,
      idleSeconds: first.idleMs / 1000,
    },
  };
}
