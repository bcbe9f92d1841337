// What every section of the benchmark gets: options, the InfluxDB it writes to, the registry, the fleet.
import type { InfluxdHandle } from "../scripts/influxd/influxd.ts";
import type { BenchTokens } from "./access.ts";
import type { InfluxTarget, Service } from "./stack.ts";

export type BenchOptions = {
  seconds: number;
  sections: Set<string>;
  devices: number;
  /** Section S: devices that connect cold, warm and without a policy. */
  authDevices: number;
  /** Unacknowledged QoS 1 PUBLISHes per device connection. */
  window: number;
  publisherProcs: number;
  /** Background load of sections D and E in readings/s; 0 = half of section A's sustained rate. */
  halfRate: number;
  outageSeconds: number;
  json: string | undefined;
  /** Write V8 CPU profiles of the ingest and the broker in the platform sections (A, B, D, E). */
  cpuProf: boolean;
  /** Extra Node.js flags for the ingest (experiments, e.g. "--max-semi-space-size=64"). */
  ingestNodeArgs: string[];
  /** The ingest's entry point (default services/ingest/main.ts): to measure a change before making it. */
  ingestScript: string;
};

export type BenchContext = {
  opts: BenchOptions;
  runId: string;
  tmp: string;
  logDir: string;
  influx: InfluxTarget & { major: number; version: string };
  /** Set when the benchmark runs its own influxd (section E needs to stop it). */
  influxd: InfluxdHandle | undefined;
  command: { svc: Service; url: string };
  /** Access control (issue 3): the run's API tokens, and each device's MQTT secret (the probe's too). */
  access: { tokens: BenchTokens; secrets: Record<string, string> };
  devices: string[];
  districts: Record<string, string>;
  /** Progress lines (stderr), so that stdout holds the figures. */
  progress(line: string): void;
};

/** A database/bucket name for a section, unique per run when the InfluxDB is not our throwaway one. */
/** The broker's way to the access feed, and the ingest's token. */
export function brokerAccess(ctx: BenchContext): { registryUrl: string; token: string } {
  return { registryUrl: ctx.command.url, token: ctx.access.tokens.broker };
}

export function bucketFor(ctx: BenchContext, section: string): string {
  return ctx.influxd ? `bench_${section}` : `bench_${ctx.runId}_${section}`;
}
