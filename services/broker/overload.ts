// Admission control: keeps the broker's queued work bounded when publishers outrun its subscribers.
//
// Queued work = messages (and bytes) inside the router plus messages held for persistent sessions
// (sent and not yet acknowledged, or waiting for a disconnected subscriber). A message on its way to a
// persistent subscriber counts in both until routed: both hold it. Its watermarks are counts,
// bytes, and delay: the time each stage (the router; the persistent sessions of connected subscribers,
// which drain by PUBACK) needs to clear what it holds at the rate it has lately been clearing it, so that
// a slow subscriber gets a short queue, not a long one. Every check:
//   ≥ high watermark      → overloaded: pause reading from every heavy publisher (smoothed rate above
//                           `heavyPublisherRate`); TCP flow control then slows them without losing anything
//   ≥ critical watermark  → also pause every other publisher that published in the last second or so
//   ≤ low watermark       → resume paused publishers, `resumePerCheck` at a time, longest-paused first;
//                           the overload ends when none is left paused and it has stayed calm for 1 s
//                           (so that a load hovering at the watermark does not flap, nor fill the log)
//   in between            → hold the level, but take turns: swap up to `resumePerCheck` of the longest-
//                           paused for as many heavy publishers that have been reading longest, so that
//                           the few left running cannot keep the rest paused indefinitely
// Between checks, a heavy publisher is paused as soon as one of its PUBLISHes finds the queued work above
// the high watermark (counts and bytes only: O(1)), so that a flood overshoots by at most one read per
// publisher, not by a check interval's worth of traffic.
// While overloaded, QoS 0 PUBLISHes from heavy publishers are dropped (counted): QoS 0 is "at most once"
// (MQTT 3.1.1 section 4.3.1), QoS 1/2 are never dropped here.
// A connection whose persistent session holds messages for it is never paused: its PUBACKs are what
// drains the queue. Nor is any publisher paused longer than `maxPauseMs` at a stretch, so that its
// PINGREQs are read before the broker's keepalive timer (1.5 × keepalive) closes it [MQTT-3.1.2-24].
import type { Logger } from "../lib/log.ts";
import type { BrokerConfig } from "./config.ts";
import type { OverloadMetrics } from "./metrics.ts";
import type { ReadGate } from "./read-gate.ts";

export type QueuedWork = { messages: number; bytes: number };
/** A stage that drains: what it holds now (of `messages`), and how much it has completed since start. */
export type Stage = { queued: number; completed: number };
export type Measurement = QueuedWork & { stages: Stage[] };

/** One connection, as the controller sees it. */
export type Publisher = {
  /** Client id once known, for logs. */
  id: string;
  readonly gate: ReadGate;
  /** Smoothed publish rate (messages/s) as of `last`; frozen while paused. */
  rate: number;
  last: number;
};

export type OverloadSnapshot = {
  active: boolean;
  paused: number;
  pausesTotal: number;
  shedTotal: number;
  episodes: number;
  overloadMs: number;
  queued: QueuedWork;
  peakQueued: QueuedWork;
  /** Estimated time to drain the work in front of connected subscribers. */
  delayMs: number;
};

export type OverloadController = {
  track(p: Publisher): void;
  untrack(p: Publisher): void;
  /** Call on every inbound PUBLISH. */
  notePublish(p: Publisher, now: number): void;
  /** Whether to drop this PUBLISH (QoS 0 from a heavy publisher while overloaded); counts it. */
  shed(p: Publisher, qos: number, now: number): boolean;
  tick(now: number): void;
  snapshot(): OverloadSnapshot;
};

const TAU_MS = 1000; // smoothing time constant of the publish rate
const DRAIN_TAU_MS = 500; // smoothing time constant of the drain rate
const ACTIVE_RATE = 0.1; // messages/s: "published in the last second or so"
const CALM_MS = 1000; // below the low watermark with nobody paused for this long: the overload is over
/** Below this many messages the delay estimate is noise (a handful of messages over a near-zero rate). */
const DELAY_FLOOR_MESSAGES = 200;

export function newPublisher(id: string, gate: ReadGate, now: number): Publisher {
  return { id, gate, rate: 0, last: now };
}

export function rateOf(p: Publisher, now: number): number {
  return p.gate.paused ? p.rate : p.rate * Math.exp(-(now - p.last) / TAU_MS);
}

export function createOverloadController(deps: {
  settings: BrokerConfig["overload"];
  log: Logger;
  metrics: OverloadMetrics;
  measure: () => Measurement;
  /** Queued work now, in O(1) (no delay estimate): checked on every PUBLISH. */
  queuedNow: () => QueuedWork;
  /** A publisher that must keep being read (its session awaits its PUBACKs). */
  exempt: (p: Publisher) => boolean;
}): OverloadController {
  const { settings, log, metrics } = deps;
  const w = settings.watermarks;
  const publishers = new Set<Publisher>(); // insertion order = longest reading first
  const paused = new Set<Publisher>(); // insertion order = longest paused first
  let active = false;
  let calmSince: number | undefined;
  let since = 0;
  let lastTick: number | undefined;
  let episodePauses = 0;
  let episodeShed = 0;
  const totals = { pausesTotal: 0, shedTotal: 0, episodes: 0, overloadMs: 0 };
  let queued: QueuedWork = { messages: 0, bytes: 0 };
  // Per stage: completions seen, drain rate per ms (smoothed), work held at the last check, rate learnt yet.
  const drain: { completed: number; rate: number; held: number; learnt: boolean }[] = [];
  let delayMs = 0;
  const peakQueued: QueuedWork = { messages: 0, bytes: 0 };

  const pause = (p: Publisher, now: number): void => {
    p.rate = rateOf(p, now); // frozen, so that it is paused again at once if it resumes flooding
    p.gate.pause(now);
    paused.add(p);
    totals.pausesTotal++;
    episodePauses++;
    metrics.pausesTotal.inc();
    log.debug({ clientId: p.id, rate: Math.round(p.rate) }, "publisher paused");
  };
  const resume = (p: Publisher, now: number): void => {
    paused.delete(p);
    publishers.delete(p);
    publishers.add(p);
    p.last = now;
    p.gate.resume();
  };
  const pausable = (p: Publisher, floor: number, now: number): boolean =>
    !p.gate.paused && rateOf(p, now) >= floor && !deps.exempt(p);

  const enter = (now: number): void => {
    active = true;
    since = now;
    episodePauses = 0;
    episodeShed = 0;
    totals.episodes++;
    metrics.episodes.inc();
    metrics.active.set(1);
    log.warn({ queued, delayMs: Math.round(delayMs), watermarks: w }, "broker overloaded");
  };
  const leave = (now: number): void => {
    active = false;
    calmSince = undefined;
    metrics.active.set(0);
    log.warn(
      {
        durationMs: Math.round(now - since),
        publishersPaused: episodePauses,
        messagesShed: episodeShed,
        queued,
      },
      "broker overload over",
    );
  };

  return {
    track: (p) => void publishers.add(p),
    untrack(p) {
      publishers.delete(p);
      paused.delete(p);
    },

    notePublish(p, now) {
      p.rate = rateOf(p, now) + 1000 / TAU_MS;
      p.last = now;
      if (p.gate.paused || p.rate < settings.heavyPublisherRate) return;
      const q = deps.queuedNow();
      if ((q.messages >= w.highMessages || q.bytes >= w.highBytes) && !deps.exempt(p)) {
        queued = q;
        if (!active) enter(now);
        pause(p, now);
      }
    },

    shed(p, qos, now) {
      if (!active || qos !== 0 || !settings.shedQos0 || rateOf(p, now) < settings.heavyPublisherRate)
        return false;
      totals.shedTotal++;
      episodeShed++;
      metrics.shedTotal.inc();
      return true;
    },

    tick(now) {
      const m = deps.measure();
      queued = { messages: m.messages, bytes: m.bytes };
      const elapsed = lastTick === undefined ? 0 : now - lastTick;
      delayMs = 0;
      m.stages.forEach((stage, i) => {
        const d = drain[i] ?? { completed: stage.completed, rate: 0, held: 0, learnt: false };
        drain[i] = d;
        // The drain rate is learnt only over intervals the stage had work to drain: an idle stage completes
        // nothing because nothing is there, which says nothing about how fast it drains. Learning from idle
        // spells decayed the rate towards zero, and the first burst after a quiet minute then read as hours of
        // delay (a false overload). A stage that holds work and completes none still drives the rate down.
        const done = stage.completed - d.completed;
        if (elapsed > 0 && (d.held > 0 || done > 0)) {
          const rate = done / elapsed;
          d.rate = d.learnt ? d.rate + (rate - d.rate) * (1 - Math.exp(-elapsed / DRAIN_TAU_MS)) : rate;
          d.learnt = true;
        }
        d.completed = stage.completed;
        d.held = stage.queued;
        // Until a stage has been seen draining, its delay is unknown: the count and byte watermarks hold it.
        if (stage.queued >= DELAY_FLOOR_MESSAGES && d.learnt)
          delayMs = Math.max(delayMs, stage.queued / Math.max(d.rate, 1e-6));
      });
      metrics.delaySeconds.set(Number.isFinite(delayMs) ? delayMs / 1000 : 1e6);
      peakQueued.messages = Math.max(peakQueued.messages, queued.messages);
      peakQueued.bytes = Math.max(peakQueued.bytes, queued.bytes);
      metrics.queuedMessages.set(queued.messages);
      metrics.queuedBytes.set(queued.bytes);
      const aboveHigh =
        queued.messages >= w.highMessages || queued.bytes >= w.highBytes || delayMs >= w.highDelayMs;
      const critical = queued.messages >= w.criticalMessages || queued.bytes >= w.criticalBytes;
      const belowLow =
        queued.messages <= w.lowMessages && queued.bytes <= w.lowBytes && delayMs <= w.lowDelayMs;

      if (active && elapsed > 0) {
        totals.overloadMs += elapsed;
        metrics.overloadSeconds.inc(elapsed / 1000);
      }
      lastTick = now;
      if (!active && aboveHigh) enter(now);
      if (!active) return;

      if (aboveHigh) {
        const floor = critical ? ACTIVE_RATE : settings.heavyPublisherRate;
        for (const p of publishers) if (pausable(p, floor, now)) pause(p, now);
      } else if (belowLow) {
        for (const p of [...paused].slice(0, settings.resumePerCheck)) resume(p, now);
      } else if (paused.size > 0) {
        const waiting = [...paused].slice(0, settings.resumePerCheck);
        const turn: Publisher[] = [];
        for (const p of publishers) {
          if (turn.length >= waiting.length) break;
          if (pausable(p, settings.heavyPublisherRate, now)) turn.push(p);
        }
        for (const p of turn) pause(p, now);
        for (const p of waiting.slice(0, turn.length)) resume(p, now);
      }
      // Bounded pauses, a few at a time: one still needed paused is paused again on the next check.
      let rotate = settings.resumePerCheck;
      for (const p of paused) {
        if (rotate-- <= 0 || now - p.gate.pausedAt < settings.maxPauseMs) break; // oldest first
        resume(p, now);
      }
      metrics.paused.set(paused.size);
      if (!belowLow || paused.size > 0) calmSince = undefined;
      else if (calmSince === undefined) calmSince = now;
      else if (now - calmSince >= CALM_MS) leave(now);
    },

    snapshot: () => ({
      active,
      paused: paused.size,
      ...totals,
      queued: { ...queued },
      peakQueued: { ...peakQueued },
      delayMs: Number.isFinite(delayMs) ? Math.round(delayMs) : -1,
    }),
  };
}
