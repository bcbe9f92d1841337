// Section K's measured part: the command service (on MQTT, the lamps already connected) takes one
// PUT /v1/assignments for the whole district; the clock runs from that call to the first GET /v1/rollouts/{id}
// that shows every lamp applied. Beside it: the call's own latency (it must answer at once, the delivery runs
// after the answer), a trace of the applied count each second, the command service's and the broker's CPU and
// RSS over the rollout, and the lamps' own count of the acks they sent (the cross-check).
import { setTimeout as sleep } from "node:timers/promises";
import { cpuMeter, cpuSeconds, RssSampler } from "./procstat.ts";
import {
  apiClient,
  assignDistrict,
  createCalendar,
  followRollouts,
  type RolloutCounts,
} from "./schedule-api.ts";
import type { LampFleet, LampsStats } from "./schedule-lamps.ts";
import { type Broker, type Service, scrape } from "./stack.ts";

export type PlatformRun = {
  /** PUT → all applied, s (undefined: not all applied within the timeout, or some rejected). */
  seconds: number | undefined;
  apiLatencyMs: number;
  rollouts: number;
  total: number;
  counts: RolloutCounts;
  appliedPerSecond: number[];
  polls: number;
  slowestPollMs: number;
  /** After the command service joined MQTT: until it was idle (retained state of every lamp read), s. */
  settleSeconds: number;
  /** The lamps' side: acks sent, lamps that acked, the document's size as received. */
  lampsSide: Omit<LampsStats, "type">;
  command: { cpuS: number; cpuPctOfOneCore: number; rssBeforeMB: number; peakRssMB: number };
  broker: { cpuS: number; peakRssMB: number; overload: OverloadCounts };
  /** CPU of the lamp processes over the rollout, s. */
  lampsCpuS: number;
  /** CPU of the whole machine that went to processes outside the benchmark over the rollout, % of all cores. */
  othersCpuPct: number;
};

/** The broker's admission control over a phase: episodes, seconds overloaded, publishers it paused. */
export type OverloadCounts = { episodes: number; seconds: number; paused: number };

async function overloadNow(opsUrl: string): Promise<OverloadCounts> {
  const m = await scrape(opsUrl);
  return {
    episodes: m.get("broker_overload_episodes_total") ?? 0,
    seconds: m.get("broker_overload_seconds_total") ?? 0,
    paused: m.get("broker_publishers_paused_total") ?? 0,
  };
}

/** Starts counting the broker's overload episodes; the function answers what happened since. */
export async function overloadSince(opsUrl: string): Promise<() => Promise<OverloadCounts>> {
  const before = await overloadNow(opsUrl);
  return async () => {
    const after = await overloadNow(opsUrl);
    return {
      episodes: after.episodes - before.episodes,
      seconds: Math.round((after.seconds - before.seconds) * 100) / 100,
      paused: after.paused - before.paused,
    };
  };
}

const MB = 1024 * 1024;
/** The rollout must finish within this, or it is reported as not all applied. */
const ROLLOUT_TIMEOUT_MS = 5 * 60_000;

/**
 * Until the command service has taken in the fleet (the broker counts every lamp plus the service connected)
 * and spends under 5 % of a core over a second: the clock must not start while it still reads every lamp's
 * retained state.
 */
async function settle(command: Service, broker: Broker, lamps: number): Promise<number> {
  const t0 = performance.now();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const m = await scrape(broker.opsUrl);
    if ((m.get("broker_clients_connected") ?? 0) >= lamps + 1) break;
    if (command.exited() || Date.now() > deadline)
      throw new Error(
        `the command service did not join the broker (${m.get("broker_clients_connected")} clients connected)`,
      );
    await sleep(200);
  }
  let quietFor = 0;
  while (quietFor < 2 && Date.now() < deadline) {
    const c0 = cpuSeconds(command.pid) ?? 0;
    await sleep(1000);
    quietFor = (cpuSeconds(command.pid) ?? 0) - c0 < 0.05 ? quietFor + 1 : 0;
  }
  return (performance.now() - t0) / 1000;
}

export async function measureRollout(o: {
  url: string;
  token: string;
  command: Service;
  broker: Broker;
  fleet: LampFleet;
  lamps: number;
  progress: (line: string) => void;
}): Promise<PlatformRun> {
  const api = apiClient(o.url, o.token);
  const settleSeconds = await settle(o.command, o.broker, o.lamps);
  o.progress(
    `K: command service on MQTT and idle after ${settleSeconds.toFixed(1)} s; creating the calendar`,
  );
  await createCalendar(api);
  await sleep(500);

  const overload = await overloadSince(o.broker.opsUrl);
  const pids = () => ({ command: o.command.pid, broker: o.broker.svc.pid });
  const rss = new RssSampler(pids, 200);
  const lampPids = Object.fromEntries(o.fleet.pids.map((p, i) => [`lamps${i}`, p]));
  const cpu = cpuMeter(() => ({ ...pids(), bench: process.pid, ...lampPids }));
  const t0 = performance.now();
  const wall0 = Date.now();
  let assigned: Awaited<ReturnType<typeof assignDistrict>>;
  try {
    assigned = await assignDistrict(api);
  } catch (err) {
    rss.stop();
    throw err;
  }
  o.progress(
    `K: PUT /v1/assignments answered in ${assigned.latencyMs.toFixed(0)} ms: ${assigned.rollouts.length} rollout(s), ${assigned.rollouts.reduce((n, r) => n + r.total, 0)} lamps`,
  );
  const followed = await followRollouts(
    api,
    assigned.rollouts.map((r) => r.id),
    t0,
    {
      everyMs: 200,
      timeoutMs: ROLLOUT_TIMEOUT_MS,
      onSecond: (s, applied, total) =>
        o.progress(`K: ${String(s).padStart(3)} s  applied ${applied}/${total}`),
    },
  );
  const used = cpu.take();
  rss.stop();
  const wallS = (Date.now() - wall0) / 1000;
  // Let acks still in flight land before the lamps' count (a rollout that stopped early has some).
  await sleep(500);
  const { type: _, ...lampsSide } = await o.fleet.stats();
  const brokerOverload = await overload();
  const seconds = followed.allAppliedMs !== undefined ? followed.allAppliedMs / 1000 : undefined;
  const commandCpu = used.procs.command ?? 0;
  return {
    seconds,
    apiLatencyMs: assigned.latencyMs,
    rollouts: assigned.rollouts.length,
    total: followed.total,
    counts: followed.counts,
    appliedPerSecond: followed.appliedPerSecond,
    polls: followed.polls,
    slowestPollMs: followed.slowestPollMs,
    settleSeconds,
    lampsSide,
    command: {
      cpuS: commandCpu,
      cpuPctOfOneCore: (commandCpu / wallS) * 100,
      rssBeforeMB: rss.first("command") / MB,
      peakRssMB: rss.peak("command") / MB,
    },
    broker: { cpuS: used.procs.broker ?? 0, peakRssMB: rss.peak("broker") / MB, overload: brokerOverload },
    lampsCpuS: Object.keys(lampPids).reduce((n, k) => n + (used.procs[k] ?? 0), 0),
    othersCpuPct: used.machineTotal > 0 ? (used.others / used.machineTotal) * 100 : 0,
  };
}
