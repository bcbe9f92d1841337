// What the simulator knows it did, per device: readings acknowledged by the broker, their time span and, for
// streetlights, the energy actually drawn and the hours burned. Tests compare InfluxDB against it; issue 5
// compares computed savings against it. Energy and hours are those of acknowledged readings (each reading
// carries the energy drawn since the previous one), so they describe exactly the data the platform received.
// The energy follows the level actually in effect: the program's, or a command's override (dim) or blink
// cycle (identify) from the instant the command arrived (models/streetlight.ts integrates piecewise);
// `override_h` says how much of it was under an override, `commands` how the device answered.
// Issue 4: streetlights add `calendar` (the version held at the end and each calendar message's outcome,
// simulators/schedule.ts) and `overrides` (override and cancel_override outcomes, lost ones included).
// Issue 5: streetlights add `days`, the physical truth per local day over every GENERATED interval, delivered or
// not (truth-days.ts), with the astronomical night computed independently when the file is written, so an energy
// report can be checked against what really happened (simulators/truth-report.ts prints its figures).
import { rename, writeFile } from "node:fs/promises";
import type { QueuedReading } from "./batch.ts";
import type { SimDevice } from "./plan.ts";
import type { CalendarOutcome } from "./schedule.ts";
import { createDayLedger, type TruthDay, withDarkHours } from "./truth-days.ts";

export type { TruthDay } from "./truth-days.ts";

export type DeviceTruth = {
  id: string;
  kind: SimDevice["kind"];
  district: string;
  /** Readings the model produced. */
  generated: number;
  /** Readings acknowledged by the broker (PUBACK); what the platform should hold. */
  readings: number;
  /** Messages acknowledged (a batch counts once). */
  messages: number;
  /** Readings still unsent (backlog) or given up. */
  unsent: number;
  /** Readings lost before sending (fault `readingLossPerDay`): generated, never published. */
  lost: number;
  /** Acknowledged readings' first and last ts. */
  first_ts: number | null;
  last_ts: number | null;
  /** Generated readings' first and last ts: the span `days` covers. */
  generated_first_ts: number | null;
  generated_last_ts: number | null;
  min_seq: number | null;
  max_seq: number | null;
  /** Streetlights: the pole's position (the dark hours are computed there). */
  lat?: number;
  lon?: number;
  led_watts?: number;
  legacy_watts?: number;
  /** Streetlights: energy drawn over the acknowledged readings' intervals, Wh. */
  energy_wh?: number;
  /** Streetlights: hours the lamp burned over the same intervals. */
  burn_h?: number;
  /** Streetlights: hours of the same intervals under a dim override (a command instead of the program). */
  override_h?: number;
  /** Streetlights: per local day (YYYY-MM-DD, Africa/Casablanca), over every generated interval, delivered or not. */
  days?: Record<string, TruthDay>;
  /** Commands received, by the ack's status (`dropped`: no id to answer; lost messages are not counted). */
  commands: Record<CommandStatus, number>;
  /** Streetlights: the calendar version held at the end (null: the factory calendar) and messages by outcome. */
  calendar?: { version: number | null } & Record<CalendarOutcome, number>;
  /** Streetlights: override and cancel_override commands by outcome. */
  overrides?: Record<OverrideEffect, number>;
};

export type CommandStatus = "ok" | "rejected" | "failed" | "dropped";

/**
 * applied: in the slot (now or from its start); expired: refused, its expiry had passed; refused: any other
 * refusal or failure; cancelled: a cancel that ended it; cancel_ignored: a cancel of an override not held;
 * missed: either command lost on the way (no ack).
 */
export type OverrideEffect = "applied" | "expired" | "refused" | "cancelled" | "cancel_ignored" | "missed";

/** The history a run backfilled: [from, to) on its own grid; `completed` once every reading was acknowledged. */
export type BackfillTruth = { from_ts: number; to_ts: number; interval_s: number; completed: boolean };

export type FleetTruth = {
  seed: string | number;
  written_at: string;
  /** `backfill`: written when the backfill ended (the run goes on live); `final`: at the end of the run. */
  phase: "backfill" | "final";
  time_zone: string;
  interval_s: number;
  backfill: BackfillTruth | null;
  devices: DeviceTruth[];
  totals: {
    devices: number;
    generated: number;
    readings: number;
    messages: number;
    unsent: number;
    lost: number;
  };
};

/** What the model produced for one reading: its instant and what it integrated since the previous one. */
export type GeneratedStep = { ts: number; energyWh: number; burnS: number };

export type TruthAccumulator = {
  generated(step: GeneratedStep): void;
  /** The reading just generated was lost before sending. */
  lost(): void;
  acked(chunk: readonly QueuedReading[]): void;
  command(status: CommandStatus): void;
  /** A calendar message's outcome and the version held after it. */
  calendar(outcome: CalendarOutcome, heldVersion: number | null): void;
  override(effect: OverrideEffect): void;
  snapshot(unsent: number): DeviceTruth;
};

export function createTruthAccumulator(device: SimDevice): TruthAccumulator {
  let generated = 0;
  let lost = 0;
  let prevGenTs: number | undefined;
  let firstGenTs: number | undefined;
  const ledger = device.kind === "streetlight" ? createDayLedger() : undefined;
  let readings = 0;
  let messages = 0;
  let energyWh = 0;
  let burnS = 0;
  let overrideS = 0;
  const commands: Record<CommandStatus, number> = { ok: 0, rejected: 0, failed: 0, dropped: 0 };
  const calendar = {
    version: null as number | null,
    applied: 0,
    repeated: 0,
    rejected: 0,
    missed: 0,
    ignored: 0,
  };
  const overrides: Record<OverrideEffect, number> = {
    applied: 0,
    expired: 0,
    refused: 0,
    cancelled: 0,
    cancel_ignored: 0,
    missed: 0,
  };
  let firstTs = Number.POSITIVE_INFINITY;
  let lastTs = Number.NEGATIVE_INFINITY;
  let minSeq = Number.POSITIVE_INFINITY;
  let maxSeq = Number.NEGATIVE_INFINITY;
  return {
    generated(step) {
      generated++;
      firstGenTs ??= step.ts;
      if (prevGenTs !== undefined) ledger?.add(prevGenTs, step.ts, step.energyWh, step.burnS);
      prevGenTs = step.ts;
    },
    lost() {
      lost++;
    },
    acked(chunk) {
      messages++;
      for (const r of chunk) {
        readings++;
        energyWh += r.energyWh;
        burnS += r.burnS;
        overrideS += r.overrideS;
        if (r.ts < firstTs) firstTs = r.ts;
        if (r.ts > lastTs) lastTs = r.ts;
        if (r.seq < minSeq) minSeq = r.seq;
        if (r.seq > maxSeq) maxSeq = r.seq;
      }
    },
    command(status) {
      commands[status]++;
    },
    calendar(outcome, heldVersion) {
      calendar[outcome]++;
      calendar.version = heldVersion;
    },
    override(effect) {
      overrides[effect]++;
    },
    snapshot(unsent) {
      const finite = (v: number) => (Number.isFinite(v) ? v : null);
      const truth: DeviceTruth = {
        id: device.id,
        kind: device.kind,
        district: device.district,
        generated,
        readings,
        messages,
        unsent,
        lost,
        first_ts: finite(firstTs),
        last_ts: finite(lastTs),
        generated_first_ts: firstGenTs ?? null,
        generated_last_ts: prevGenTs ?? null,
        min_seq: finite(minSeq),
        max_seq: finite(maxSeq),
        commands: { ...commands },
      };
      if (device.kind === "streetlight") {
        truth.lat = device.lat;
        truth.lon = device.lon;
        truth.led_watts = device.ledWatts;
        truth.legacy_watts = device.legacyWatts;
        truth.energy_wh = Math.round(energyWh * 1000) / 1000;
        truth.burn_h = Math.round((burnS / 3600) * 10_000) / 10_000;
        truth.override_h = Math.round((overrideS / 3600) * 10_000) / 10_000;
        truth.calendar = { ...calendar };
        truth.overrides = { ...overrides };
        truth.days = ledger?.days() ?? {};
      }
      return truth;
    },
  };
}

export type FleetTruthOptions = {
  seed: string | number;
  intervalS: number;
  timeZone: string;
  phase: FleetTruth["phase"];
  backfill: BackfillTruth | null;
};

export function fleetTruth(opts: FleetTruthOptions, devices: DeviceTruth[]): FleetTruth {
  const sum = (key: "generated" | "readings" | "messages" | "unsent" | "lost") =>
    devices.reduce((s, d) => s + d[key], 0);
  return {
    seed: opts.seed,
    written_at: new Date().toISOString(),
    phase: opts.phase,
    time_zone: opts.timeZone,
    interval_s: opts.intervalS,
    backfill: opts.backfill,
    devices,
    totals: {
      devices: devices.length,
      generated: sum("generated"),
      readings: sum("readings"),
      messages: sum("messages"),
      unsent: sum("unsent"),
      lost: sum("lost"),
    },
  };
}

/** The truth with every streetlight day's dark hours (simulators/darkness.ts); computed here, not per reading. */
export function withDarkness(truth: FleetTruth): FleetTruth {
  const devices = truth.devices.map((d) => {
    if (!d.days || d.lat === undefined || d.lon === undefined) return d;
    if (d.generated_first_ts === null || d.generated_last_ts === null) return d;
    const span = { fromMs: d.generated_first_ts, toMs: d.generated_last_ts };
    return { ...d, days: withDarkHours(d.days, { lat: d.lat, lon: d.lon }, span) };
  });
  return { ...truth, devices };
}

/**
 * Writes the truth with its dark hours, replacing the file atomically (a platform script may be reading it while
 * the run goes on). One line per device: thousands of lamp-days stay readable and diffable.
 */
export async function writeTruthFile(path: string, truth: FleetTruth): Promise<void> {
  const { devices, ...head } = withDarkness(truth);
  const body = devices.map((d) => `    ${JSON.stringify(d)}`).join(",\n");
  const text = `${JSON.stringify(head, null, 2).replace(/\n}$/, "")},\n  "devices": [\n${body}\n  ]\n}\n`;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
