// A simulated lamp keeping its own calendar (issue 4; contract: services/contract/schedule.ts, docs/contract.md
// §13). The platform publishes each lamp's resolved calendar RETAINED on city/v1/streetlight/{id}/calendar, so
// the broker hands it over again at every subscription [MQTT-3.3.1-6]; the lamp answers on …/ack with a
// calendarAck naming `calendar-{version}`:
//   applied             a newer version than the one it holds, within what its firmware can store: it follows
//                       it from now on, at its own position (services/schedule createLampSchedule)
//   applied (again)     the version it already holds (a retained re-delivery, a platform retry): acked again,
//                       nothing changes, so a lost ack costs one round trip
//   rejected stale      an older version than the one it holds (never goes back)
//   rejected invalid    fails the contract's schema (detail names the fields); unanswerable without a version
//   rejected too_large / unsupported   its firmware cannot hold it (firmware.ts)
//   no answer           a lost message (faults.scheduleMissRate), or an empty retained payload (a cleared topic)
// Until it gets one, a lamp follows its built-in FACTORY_CALENDAR and holds no version: any version the
// platform sends is newer (the contract's FACTORY_CALENDAR carries version 1, which is also the first
// schedule_documents id, so the built-in calendar must not count as holding it).
//
// `decideCalendar` is a pure step over (payload, lamp state, time) so a benchmark can drive 10,000 lamps without
// the device runtime; `createCalendarResponder` is the device runtime's side (apply, count, log, publish).
// Overrides travel on …/cmd (commands.ts); `planOverride` turns one into the lamp's override slot.
import type { DeviceCommand } from "../services/contract/commands.ts";
import {
  type CalendarAck,
  type CalendarDocument,
  calendarAckId,
  calendarDocument,
  type ScheduleRejectReason,
} from "../services/contract/schedule.ts";
import type { Logger } from "../services/lib/log.ts";
import type { Clock } from "./clock.ts";
import { firmwareRefusal, type LampProfile, perfectProfile } from "./firmware.ts";
import type { LampControl, ScheduledOverride } from "./models/model.ts";
import type { TruthAccumulator } from "./truth.ts";

/** The calendar a lamp holds, and since when (device time). */
export type HeldCalendar = { readonly doc: CalendarDocument; readonly appliedAtMs: number };

export type LampCalendarState = {
  readonly profile: LampProfile;
  /** Null: only the built-in FACTORY_CALENDAR. */
  readonly held: HeldCalendar | null;
};

export function initialLampState(profile: LampProfile): LampCalendarState {
  return { profile, held: null };
}

/**
 * applied: a new calendar is in effect (`state.held` is it); repeated: the version held, acked again;
 * rejected: refused with a reason; missed: lost on the way (no ack); ignored: nothing to answer.
 */
export type CalendarOutcome = "applied" | "repeated" | "rejected" | "missed" | "ignored";

export type CalendarDecision = {
  outcome: CalendarOutcome;
  /** What to publish on …/ack; null when the lamp does not answer (missed, ignored). */
  ack: CalendarAck | null;
  state: LampCalendarState;
  /** Why it was rejected or ignored (for the log). */
  detail?: string;
};

type Parsed = { ok: true; doc: CalendarDocument } | { ok: false; version: number | null; detail: string };

// A simulator process runs thousands of lamps that all receive the same document (one JSON string per rollout):
// parsing it once per distinct payload keeps a 10,000-lamp rollout cheap. Parsed documents are never mutated.
const PARSE_CACHE_SIZE = 8;
const parseCache = new Map<string, Parsed>();

function parseDocument(payload: string): Parsed {
  const cached = parseCache.get(payload);
  if (cached) return cached;
  const parsed = parseUncached(payload);
  if (parseCache.size >= PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value as string);
  parseCache.set(payload, parsed);
  return parsed;
}

function parseUncached(payload: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { ok: false, version: null, detail: "not JSON" };
  }
  const result = calendarDocument.safeParse(raw);
  if (result.success) return { ok: true, doc: result.data };
  const v = (raw as { version?: unknown } | null)?.version;
  const version = typeof v === "number" && Number.isInteger(v) && v > 0 ? v : null;
  const detail = result.error.issues
    .map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`)
    .join("; ");
  return { ok: false, version, detail };
}

/** One calendar message at device time `nowMs`: the ack to send and the lamp's state after it. */
export function decideCalendar(payload: string, state: LampCalendarState, nowMs: number): CalendarDecision {
  // An empty retained payload is how a retained message is deleted [MQTT-3.3.1-10]: not a calendar.
  if (payload.length === 0) return { outcome: "ignored", ack: null, state, detail: "empty payload" };
  if (state.profile.miss())
    return { outcome: "missed", ack: null, state, detail: "message lost (simulated)" };
  const parsed = parseDocument(payload);
  const reject = (version: number, reason: ScheduleRejectReason, detail: string): CalendarDecision => ({
    outcome: "rejected",
    ack: {
      id: calendarAckId(version),
      version,
      status: "rejected",
      reason,
      detail: detail.slice(0, 500),
      ts: nowMs,
    },
    state,
    detail,
  });
  if (!parsed.ok) {
    if (parsed.version === null)
      return { outcome: "ignored", ack: null, state, detail: `no version to acknowledge: ${parsed.detail}` };
    return reject(parsed.version, "invalid", parsed.detail);
  }
  const { doc } = parsed;
  const held = state.held?.doc.version ?? 0;
  const applied: CalendarAck = {
    id: calendarAckId(doc.version),
    version: doc.version,
    status: "applied",
    ts: nowMs,
  };
  if (doc.version < held) return reject(doc.version, "stale", `holds version ${held}`);
  if (doc.version === held) return { outcome: "repeated", ack: applied, state };
  const refusal = firmwareRefusal(state.profile.firmware, doc);
  if (refusal) return reject(doc.version, refusal.reason, refusal.detail);
  return { outcome: "applied", ack: applied, state: { ...state, held: { doc, appliedAtMs: nowMs } } };
}

export type OverrideCommand = Extract<DeviceCommand, { cmd: "override" }>;

export type OverridePlan =
  | { ok: true; override: ScheduledOverride }
  | { ok: false; reason: "expired" | "invalid"; detail: string };

/**
 * The slot an override command fills at device time `nowMs` (contract commands.ts, TALQ override): from
 * starts_at (at once if it has passed) until expires_at. One whose expiry has passed is refused `expired`:
 * an override is never applied late.
 */
export function planOverride(cmd: OverrideCommand, nowMs: number): OverridePlan {
  const startsMs = Date.parse(cmd.starts_at);
  const expiresMs = Date.parse(cmd.expires_at);
  if (expiresMs <= nowMs) return { ok: false, reason: "expired", detail: `expired at ${cmd.expires_at}` };
  if (expiresMs <= startsMs)
    return { ok: false, reason: "invalid", detail: "expires_at: is not after starts_at" };
  return {
    ok: true,
    override: {
      overrideId: cmd.override_id,
      levelPct: cmd.level_pct,
      rampMs: cmd.ramp_s * 1000,
      fromMs: Math.max(startsMs, nowMs),
      untilMs: expiresMs,
    },
  };
}

export type CalendarResponderDeps = {
  lamp: LampControl;
  /** Default: a lamp that keeps and acks everything. */
  profile: LampProfile | undefined;
  clock: Clock;
  truth: Pick<TruthAccumulator, "calendar">;
  log: Logger;
};

export type CalendarResponder = {
  /** A message on the lamp's calendar topic: decide, apply, count, log, publish the ack (QoS 1). */
  receive(payload: string, publish: (ack: string) => Promise<void>): void;
  /** Installs a calendar without the platform (fleet.setProgram, tests): for every reading from now on, no ack. */
  install(doc: CalendarDocument): void;
  /** The version held; null while on the factory calendar. */
  version(): number | null;
};

export function createCalendarResponder(deps: CalendarResponderDeps): CalendarResponder {
  const { lamp, log } = deps;
  let state = initialLampState(deps.profile ?? perfectProfile());
  return {
    receive(payload, publish) {
      const now = deps.clock.now();
      const d = decideCalendar(payload, state, now);
      state = d.state;
      if (d.outcome === "applied" && state.held) lamp.followCalendar(state.held.doc, now);
      deps.truth.calendar(d.outcome, state.held?.doc.version ?? null);
      const fields = { version: d.ack?.version, reason: d.ack?.reason, detail: d.detail };
      if (d.outcome === "ignored") log.warn(fields, "calendar message ignored");
      else log.info(fields, `calendar: ${d.outcome}`);
      if (!d.ack) return;
      const ackId = d.ack.id;
      publish(JSON.stringify(d.ack)).catch((err: Error) => {
        log.debug({ err: err.message, ackId }, "calendar ack not acknowledged");
      });
    },
    install(doc) {
      state = { ...state, held: { doc, appliedAtMs: deps.clock.now() } };
      lamp.followCalendar(doc, Number.NEGATIVE_INFINITY);
    },
    version: () => state.held?.doc.version ?? null,
  };
}
