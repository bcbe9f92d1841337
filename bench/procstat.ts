// What the benchmark reads about processes and the machine from /proc (Linux): CPU time, resident memory,
// how busy the whole machine was. Reading /proc costs the measured processes nothing, unlike scraping their
// /metrics, so it is what the CPU and RSS figures come from.
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";

// USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks of 1/100 s on every Linux architecture we run on.
const TICKS_PER_S = 100;

/** User + system CPU seconds a process has used so far, or undefined when it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (proc(5)); comm may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), or undefined when the process is gone. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine, all cores together (first line of /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // up to steal; guest time is inside user already
  return { busy: (total - idle) / TICKS_PER_S, total: total / TICKS_PER_S };
}

export type MachineFacts = {
  nproc: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  kernel: string;
  loadAvgAtStart: number[];
};

export function machineFacts(): MachineFacts {
  const cpuinfo = safeRead("/proc/cpuinfo");
  const mem = /^MemTotal:\s+(\d+) kB/m.exec(safeRead("/proc/meminfo"));
  return {
    nproc: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memGiB: mem ? Math.round((Number(mem[1]) / 1024 / 1024) * 10) / 10 : 0,
    node: process.version,
    kernel: safeRead("/proc/sys/kernel/osrelease").trim(),
    loadAvgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/**
 * Samples the RSS of named processes every `everyMs` and keeps each series, so that a section can ask for
 * the peak over any window (full rate, outage) afterwards.
 */
export class RssSampler {
  private readonly series = new Map<string, { t: number; bytes: number }[]>();
  private readonly timer: NodeJS.Timeout;
  private readonly pids: () => Record<string, number | undefined>;

  constructor(pids: () => Record<string, number | undefined>, everyMs = 200) {
    this.pids = pids;
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    const t = Date.now();
    for (const [name, pid] of Object.entries(this.pids())) {
      const bytes = rssBytes(pid);
      if (bytes === undefined) continue;
      let s = this.series.get(name);
      if (!s) {
        s = [];
        this.series.set(name, s);
      }
      // Bounded: 200 ms samples over a 10-minute run are 3,000 points per process.
      if (s.length < 20_000) s.push({ t, bytes });
    }
  }

  /** Peak RSS of `name` between `from` and `to` (epoch ms), in bytes; 0 when never sampled. */
  peak(name: string, from = 0, to = Number.POSITIVE_INFINITY): number {
    let max = 0;
    for (const p of this.series.get(name) ?? []) if (p.t >= from && p.t <= to && p.bytes > max) max = p.bytes;
    return max;
  }

  /** The first sample of `name` (its RSS before the load), in bytes. */
  first(name: string): number {
    return this.series.get(name)?.[0]?.bytes ?? 0;
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

/** CPU seconds used by several processes and by the whole machine between two calls of `take()`. */
export function cpuMeter(pids: () => Record<string, number | undefined>) {
  const start = { machine: machineCpu(), procs: snapshot() };
  function snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids())) out[name] = cpuSeconds(pid) ?? 0;
    return out;
  }
  return {
    /** Seconds of CPU per process since creation, plus the machine's busy seconds and what others used. */
    take(): { procs: Record<string, number>; machineBusy: number; machineTotal: number; others: number } {
      const now = snapshot();
      const m = machineCpu();
      const procs: Record<string, number> = {};
      for (const [name, v] of Object.entries(now)) procs[name] = Math.max(0, v - (start.procs[name] ?? 0));
      const ours = Object.values(procs).reduce((a, b) => a + b, 0);
      const machineBusy = m.busy - start.machine.busy;
      return {
        procs,
        machineBusy,
        machineTotal: m.total - start.machine.total,
        others: Math.max(0, machineBusy - ours),
      };
    },
  };
}

export function loadAverage(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}
