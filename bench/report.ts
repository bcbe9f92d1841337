// The benchmark's final table: platform figures, each as a ratio against the baselines of the same run, and
// the targets with an honest PASS/FAIL (or "n/a" when a section needed for it was not run).
import type { AuthBenchResult } from "./auth.ts";
import type { BaselineResult } from "./baselines.ts";
import type { PlatformResult } from "./platform.ts";
import type { MachineFacts } from "./procstat.ts";
import type { ScheduleResult } from "./schedule.ts";
import { renderSchedule } from "./schedule-report.ts";

export type Results = {
  A?: PlatformResult;
  B?: PlatformResult;
  C1single?: BaselineResult;
  C1batch?: BaselineResult;
  C2?: BaselineResult;
  C3single?: BaselineResult;
  C3batch?: BaselineResult;
  D?: PlatformResult;
  E?: PlatformResult;
  O?: unknown;
  S?: AuthBenchResult;
  K?: ScheduleResult;
};

export type Target = { name: string; goal: string; measured: string; verdict: "PASS" | "FAIL" | "n/a" };

const fmt = (x: number | undefined, d = 0): string =>
  x === undefined || !Number.isFinite(x)
    ? "—"
    : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;
const x = (r: number | undefined): string => (r === undefined ? "—" : `×${fmt(r, 2)}`);
const verdict = (ok: boolean | undefined): Target["verdict"] =>
  ok === undefined ? "n/a" : ok ? "PASS" : "FAIL";

export function targets(r: Results): Target[] {
  const t: Target[] = [];
  const a = r.A;
  t.push({
    name: "single-reading rate, zero missing",
    goal: "≥ 25,000 readings/s, missing = 0",
    measured: a ? `${fmt(a.storedRate)} /s, missing ${a.missing}` : "—",
    verdict: verdict(a && a.storedRate >= 25_000 && a.missing === 0),
  });
  for (const [label, p, bare] of [
    ["single", r.A, r.C3single],
    ["×50", r.B, r.C3batch],
  ] as const) {
    const q = ratio(p?.ingestCpuUsPerReading, bare?.cpuUsPerReading);
    t.push({
      name: `ingest CPU per reading (${label}) vs bare pipeline`,
      goal: "≤ bare pipeline's",
      measured:
        p && bare
          ? `${fmt(p.ingestCpuUsPerReading, 1)} µs vs ${fmt(bare.cpuUsPerReading, 1)} µs (${x(q)})`
          : "—",
      verdict: verdict(q === undefined ? undefined : q <= 1),
    });
  }
  const b50 = ratio(r.B?.storedRate, r.C2?.rate);
  t.push({
    name: "50-reading arrays vs InfluxDB alone",
    goal: "≥ 60 % of InfluxDB's batched write rate",
    measured:
      r.B && r.C2 ? `${fmt(r.B.storedRate)} vs ${fmt(r.C2.rate)} /s (${fmt((b50 ?? 0) * 100)} %)` : "—",
    verdict: verdict(b50 === undefined ? undefined : b50 >= 0.6),
  });
  const lat = r.D?.latencyMs;
  t.push({
    name: "publish → stored p99 at half rate",
    goal: "< 2 s",
    measured: lat ? `p99 ${fmt(lat.p99)} ms at ${fmt(r.D?.targetRatePerS)} readings/s` : "—",
    verdict: verdict(lat ? lat.p99 < 2000 && lat.samples > 0 : undefined),
  });
  const fullRss = [r.A?.peakRssMB.ingest, r.B?.peakRssMB.ingest].filter((v): v is number => v !== undefined);
  t.push({
    name: "ingest RSS at full rate",
    goal: "< 300 MB",
    measured: fullRss.length ? `${fmt(Math.max(...fullRss))} MB peak (A, B)` : "—",
    verdict: verdict(fullRss.length ? Math.max(...fullRss) < 300 : undefined),
  });
  const outRss = r.E?.peakRssMB.ingestDuringOutage;
  t.push({
    name: "ingest RSS during an InfluxDB outage",
    goal: "< 300 MB",
    measured: outRss !== undefined ? `${fmt(outRss)} MB peak over ${fmt(r.E?.outage?.seconds, 1)} s` : "—",
    verdict: verdict(outRss === undefined ? undefined : outRss < 300),
  });
  const missing = (["A", "B", "D", "E"] as const).filter((k) => r[k]);
  t.push({
    name: "nothing lost (A, B, D, E incl. the outage)",
    goal: "missing = 0",
    measured: missing.map((k) => `${k} ${r[k]?.missing}`).join(", ") || "—",
    verdict: verdict(missing.length ? missing.every((k) => r[k]?.missing === 0) : undefined),
  });
  const k = r.K;
  const kAll = k ? k.platform.counts.applied === k.lamps && k.platform.seconds !== undefined : undefined;
  t.push({
    name: `calendar to ${fmt(k?.lamps ?? 10_000)} lamps, all applied`,
    goal: "< 30 s",
    measured: k
      ? kAll
        ? `${fmt(k.platform.seconds, 1)} s (bare MQTT ${fmt(k.baseline.seconds, 1)} s, ${x(k.ratio)}; API ${fmt(k.platform.apiLatencyMs)} ms)`
        : `${fmt(k.platform.counts.applied)} of ${fmt(k.lamps)} applied (${fmt(k.platform.counts.rejected)} rejected) — not all`
      : "—",
    verdict: verdict(k ? kAll && (k.platform.seconds ?? Infinity) < 30 : undefined),
  });
  return t;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "))
    .join("\n");
}

export function render(
  r: Results,
  machine: MachineFacts & { influx: string; loadAvgAtEnd: number[] },
  notes: string[],
): string {
  const out: string[] = [];
  const rows: string[][] = [
    [
      "",
      "readings/s",
      "vs broker alone",
      "vs InfluxDB alone",
      "vs bare pipeline",
      "expected",
      "stored",
      "missing",
    ],
  ];
  for (const [label, p, c1, c3] of [
    ["A single reading", r.A, r.C1single, r.C3single],
    ["B 50-reading arrays", r.B, r.C1batch, r.C3batch],
  ] as const) {
    if (!p) continue;
    rows.push([
      label,
      fmt(p.storedRate),
      x(ratio(p.storedRate, c1?.rate)),
      x(ratio(p.storedRate, r.C2?.rate)),
      x(ratio(p.storedRate, c3?.rate)),
      fmt(p.expected),
      fmt(p.stored),
      fmt(p.missing),
    ]);
  }
  if (rows.length > 1)
    out.push("", "== Platform throughput (end to end: stored in InfluxDB) ==", table(rows));

  const brows: string[][] = [["", "readings/s", "msgs/s", "CPU µs/reading", "stored", "others %"]];
  for (const b of [r.C1single, r.C1batch, r.C2, r.C3single, r.C3batch]) {
    if (!b) continue;
    brows.push([
      b.name,
      fmt(b.rate),
      fmt(b.messagesPerS),
      fmt(b.cpuUsPerReading, 2),
      fmt(b.stored),
      fmt(b.othersCpuPct),
    ]);
  }
  if (brows.length > 1) out.push("", "== Baselines (same run) ==", table(brows));

  const crows: string[][] = [
    [
      "",
      "ingest µs/reading",
      "vs bare",
      "broker µs/reading",
      "ingest RSS MB",
      "broker RSS MB",
      "machine busy %",
      "others %",
    ],
  ];
  for (const [label, p, bare] of [
    ["A single", r.A, r.C3single],
    ["B ×50", r.B, r.C3batch],
    ["D half rate", r.D, undefined],
    ["E outage", r.E, undefined],
  ] as const) {
    if (!p) continue;
    crows.push([
      label,
      fmt(p.ingestCpuUsPerReading, 2),
      x(ratio(p.ingestCpuUsPerReading, bare?.cpuUsPerReading)),
      fmt(p.brokerCpuUsPerReading, 2),
      p.peakRssMB.ingestDuringOutage !== undefined
        ? `${fmt(p.peakRssMB.ingest)} (outage ${fmt(p.peakRssMB.ingestDuringOutage)})`
        : fmt(p.peakRssMB.ingest),
      fmt(p.peakRssMB.broker),
      fmt(p.machineBusyPct),
      fmt(p.othersCpuPct),
    ]);
  }
  if (crows.length > 1) out.push("", "== CPU, memory, latency ==", table(crows));
  if (r.D?.latencyMs) {
    const l = r.D.latencyMs;
    out.push(
      `latency publish → stored at ${fmt(r.D.targetRatePerS)} readings/s background: p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms (${l.samples} probes, ${l.lost} never seen)`,
    );
  }
  if (r.E?.outage) {
    out.push(
      `outage: InfluxDB down ${fmt(r.E.outage.seconds, 1)} s under ${fmt(r.E.targetRatePerS)} readings/s; spool peak ${fmt(r.E.ingest.spoolPeakLines)} lines; all written ${fmt(r.E.tailSeconds, 1)} s after the load stopped; expected ${fmt(r.E.expected)}, stored ${fmt(r.E.stored)}`,
    );
  }

  if (r.S) {
    out.push("", `== Access control at CONNECT (${fmt(r.S.devices)} devices, ${r.S.inFlight} in flight) ==`);
    const arows: string[][] = [["", "connects/s", "vs no policy", "broker CPU ms/CONNECT", "refused"]];
    const none = r.S.rounds.find((x) => x.label === "permissive");
    for (const a of r.S.rounds)
      arows.push([
        a.label === "permissive"
          ? "no policy (permissive hooks)"
          : a.label === "cold"
            ? "cold (scrypt)"
            : "warm (verified cache)",
        fmt(a.connectsPerS),
        x(ratio(a.connectsPerS, none?.connectsPerS)),
        fmt(a.brokerCpuMsPerConnect, 2),
        fmt(a.refused),
      ]);
    out.push(table(arows), `warm / cold: ${x(r.S.ratios.warmVsCold)}`);
  }

  if (r.K) out.push("", ...renderSchedule(r.K));

  out.push("", "== Targets ==");
  out.push(
    table([["", "goal", "measured", ""], ...targets(r).map((t) => [t.name, t.goal, t.measured, t.verdict])]),
  );

  out.push("", "== Machine ==");
  out.push(
    `${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, InfluxDB ${machine.influx}`,
  );
  out.push(
    `load average at start ${machine.loadAvgAtStart.join(" ")}, at end ${machine.loadAvgAtEnd.join(" ")}`,
  );
  for (const n of notes) out.push(`note: ${n}`);
  return out.join("\n");
}
