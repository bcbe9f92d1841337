// Section K's lines in the benchmark's report (bench/report.ts prints them and the target line).
import type { ScheduleResult } from "./schedule.ts";

const fmt = (x: number | undefined, d = 0): string =>
  x === undefined || !Number.isFinite(x)
    ? "—"
    : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "))
    .join("\n");
}

/** "1 s 0 · 2 s 1,830 · …": the applied count at each second, every `step`-th second when the list is long. */
function trace(perSecond: readonly number[]): string {
  const step = Math.max(1, Math.ceil(perSecond.length / 30));
  const parts: string[] = [];
  perSecond.forEach((n, i) => {
    if ((i + 1) % step === 0 || i === perSecond.length - 1) parts.push(`${i + 1} s ${fmt(n)}`);
  });
  return parts.join(" · ") || "—";
}

export function renderSchedule(k: ScheduleResult): string[] {
  const p = k.platform;
  const b = k.baseline;
  const out: string[] = [`== K: a calendar to ${fmt(k.lamps)} lamps of one district, all acked ==`];
  out.push(
    table([
      ["", "seconds", "lamps applied", "document bytes", "sender CPU s", "broker CPU s"],
      [
        "platform: PUT /v1/assignments → all applied",
        fmt(p.seconds, 2),
        fmt(p.counts.applied),
        fmt(p.lampsSide.docBytes),
        `${fmt(p.command.cpuS, 1)} (command)`,
        fmt(p.broker.cpuS, 1),
      ],
      [
        "baseline: bare mqtt.js publish → all acked",
        fmt(b.seconds, 2),
        fmt(b.lampsAcked),
        fmt(b.docBytes),
        `${fmt(b.cpuS, 1)} (bare)`,
        fmt(b.brokerCpuS, 1),
      ],
    ]),
  );
  out.push(`platform / baseline: ${k.ratio === undefined ? "—" : `×${fmt(k.ratio, 2)}`}`);
  const ov = (o: { episodes: number; seconds: number; paused: number }) =>
    o.episodes === 0
      ? "none"
      : `${o.episodes} episode(s), ${fmt(o.seconds, 1)} s, ${o.paused} publisher pause(s)`;
  out.push(
    `broker overload (admission control): platform ${ov(p.broker.overload)}; baseline ${ov(b.brokerOverload)}`,
  );
  out.push(
    `PUT /v1/assignments answered in ${fmt(p.apiLatencyMs)} ms (${p.rollouts} rollout(s), ${fmt(p.total)} lamps); at the end: applied ${fmt(p.counts.applied)}, rejected ${fmt(p.counts.rejected)}, delivered ${fmt(p.counts.delivered)}, pending ${fmt(p.counts.pending)}, superseded ${fmt(p.counts.superseded)}; slowest progress poll ${fmt(p.slowestPollMs)} ms`,
  );
  out.push(`applied by second: ${trace(p.appliedPerSecond)}`);
  out.push(
    `command service: ${fmt(p.command.cpuS, 1)} s CPU (${fmt(p.command.cpuPctOfOneCore)} % of one core), RSS ${fmt(p.command.rssBeforeMB)} MB before, ${fmt(p.command.peakRssMB)} MB peak; broker ${fmt(p.broker.peakRssMB)} MB peak; lamp processes ${fmt(p.lampsCpuS, 1)} s CPU; others ${fmt(p.othersCpuPct)} % of the machine`,
  );
  const l = p.lampsSide;
  out.push(
    `cross-check (the lamps' own count): ${fmt(l.acksSent)} acks sent by ${fmt(l.lampsAcked)} lamps (${fmt(l.applied)} applied, ${fmt(l.repeated)} repeated, ${fmt(l.rejected)} rejected), ${fmt(l.acksPubacked)} PUBACKed by the broker, ${fmt(l.docs)} calendar messages received, ${fmt(l.disconnects)} lamp disconnects`,
  );
  out.push(
    `setup, not measured: ${fmt(k.lamps)} lamps seeded in ${fmt(k.seedSeconds, 1)} s; connected and subscribed in ${fmt(k.connect.seconds, 1)} s (${fmt(k.connect.ratePerS)}/s, ${fmt(k.connect.refused)} refused) over ${k.procs} processes; the command service was idle ${fmt(p.settleSeconds, 1)} s after joining the broker`,
  );
  return out;
}
