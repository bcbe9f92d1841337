// A counting semaphore: bounds the publishes awaiting their PUBACK across the whole fleet, so that a backfill
// or a reconnect wave does not overrun the broker.

export type Limiter = {
  acquire(): Promise<void>;
  release(): void;
  readonly inUse: number;
  readonly waiting: number;
};

export function createLimiter(max: number): Limiter {
  let inUse = 0;
  const waiters: (() => void)[] = [];
  return {
    acquire() {
      if (inUse < max) {
        inUse++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    release() {
      const next = waiters.shift();
      // The slot passes straight to the next waiter; inUse only drops when nobody waits.
      if (next) next();
      else inUse = Math.max(0, inUse - 1);
    },
    get inUse() {
      return inUse;
    },
    get waiting() {
      return waiters.length;
    },
  };
}
