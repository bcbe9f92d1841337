// The simulators' notion of time. Readings carry the simulated time; timers wait in simulated milliseconds.
// A real clock may run faster than real time (speed × 60: a real second is a simulated minute) but it never
// runs ahead of real time: the platform rejects readings more than 5 minutes in the future (contract
// MAX_FUTURE_SKEW_MS), so an accelerated clock starts in the past and, once it has caught up with the present,
// goes on at speed × 1. Unit tests use the fake clock and advance it by hand (STYLE.md, habit 8).

export type TimerHandle = { cancel(): void };

export type Clock = {
  /** Simulated time, epoch milliseconds. */
  now(): number;
  /** Runs `fn` once `delayMs` of simulated time have passed. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Simulated milliseconds per real millisecond right now (1 once an accelerated clock has caught up). */
  rate(): number;
};

export type SimClockOptions = {
  /** Simulated ms per real ms; 1 = real time. */
  speed: number;
  /** Simulated time at creation (epoch ms); default the real time. Must not be in the future. */
  startMs?: number;
  /** Real time source, injectable for tests. */
  realNow?: () => number;
  /** Shortest real wait for a timer: at high speeds several readings are generated per wake-up instead. */
  minRealDelayMs?: number;
};

export function createSimClock(opts: SimClockOptions): Clock {
  const realNow = opts.realNow ?? Date.now;
  const r0 = realNow();
  const start = Math.min(opts.startMs ?? r0, r0);
  const speed = Math.max(1, opts.speed);
  const minReal = opts.minRealDelayMs ?? 20;
  // Simulated time is the accelerated line until it meets the real one: min(start + (r − r0)·speed, r).
  const now = () => {
    const r = realNow();
    return Math.min(start + (r - r0) * speed, r);
  };
  return {
    now,
    rate: () => (now() < realNow() ? speed : 1),
    setTimer(delayMs, fn) {
      const target = now() + Math.max(0, delayMs);
      // Real instant at which both lines have reached the target: max(on the accelerated line, on the real one).
      const realAt = Math.max(r0 + (target - start) / speed, target);
      // Node's timers may fire a millisecond early by the wall clock; at ×600 that is 0.6 simulated seconds,
      // so re-arm until the simulated target is really reached.
      let timer: NodeJS.Timeout;
      const arm = () => {
        timer = setTimeout(() => (now() >= target ? fn() : arm()), Math.max(minReal, realAt - realNow()));
      };
      arm();
      return { cancel: () => clearTimeout(timer) };
    },
  };
}

export type FakeClock = Clock & {
  /** Moves simulated time forward, running due timers in time order and letting their promises settle. */
  advance(ms: number): Promise<void>;
  /** Timers still waiting. */
  pending(): number;
};

export function createFakeClock(startMs: number): FakeClock {
  let current = startMs;
  let nextId = 0;
  const timers = new Map<number, { at: number; id: number; fn: () => void }>();
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => current,
    rate: () => 1,
    pending: () => timers.size,
    setTimer(delayMs, fn) {
      const id = nextId++;
      timers.set(id, { at: current + Math.max(0, delayMs), id, fn });
      return { cancel: () => timers.delete(id) };
    },
    async advance(ms) {
      const end = current + ms;
      for (;;) {
        let due: { at: number; id: number; fn: () => void } | undefined;
        for (const t of timers.values()) {
          if (t.at <= end && (!due || t.at < due.at || (t.at === due.at && t.id < due.id))) due = t;
        }
        if (!due) break;
        timers.delete(due.id);
        current = Math.max(current, due.at);
        due.fn();
        await settle();
      }
      current = end;
      await settle();
    },
  };
}
