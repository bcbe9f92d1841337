// Time for the command service's timers (liveness sweep, commissioning waits), injected so that unit tests drive
// them with a manual clock instead of waiting (STYLE.md, habit 8).

export type Clock = {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export type ManualClock = Clock & {
  /** Moves time forward, firing due timers in order and letting the code they wake run before the next. */
  advance(ms: number): Promise<void>;
  /** Timers waiting to fire. */
  pending(): number;
};

/** A clock that moves only when told to (tests). */
export function manualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void; every?: number }>();
  const settle = () => new Promise<void>((r) => setImmediate(r));
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const id = nextId++;
        timers.set(id, {
          at: now + ms,
          fn: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        });
        const onAbort = () => {
          timers.delete(id);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    every(ms, fn) {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn, every: ms });
      return () => timers.delete(id);
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        let due: [number, { at: number; fn: () => void; every?: number }] | undefined;
        for (const entry of timers)
          if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        const [id, timer] = due;
        now = Math.max(now, timer.at);
        if (timer.every) timer.at += timer.every;
        else timers.delete(id);
        timer.fn();
        await settle();
      }
      now = target;
      await settle();
    },
    pending: () => timers.size,
  };
}
