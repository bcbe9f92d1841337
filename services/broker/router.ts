// The router aedes publishes through (its `mq` option), in place of mqemitter 7: the same contract
// (on / removeListener / emit / close; a message is done once every matching listener called back; at most
// `concurrency` messages at once, the rest wait in order) with three differences that matter under load:
//
// 1. The backlog is a FIFO with O(1) shift. mqemitter keeps it in plain arrays and shift()s them; once an
//    array is large V8 cannot trim it in place and each shift copies the whole backlog. In the CPU profile
//    of vanilla aedes under a publisher flood that is ~45% of the time (bench/broker-overload.ts).
// 2. It never recurses: mqemitter completes a message that matches no listener synchronously and starts the
//    next one from inside that call, so a backlog of thousands of unmatched messages (the only subscriber
//    just disconnected) overflows the stack and kills the process. Here one loop drains the backlog.
// 3. It counts what it holds (messages and payload bytes, queued or being delivered): the first half of
//    the broker's queued work (overload.ts).
import { Qlobber } from "qlobber";

export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Compact once the consumed prefix dominates: amortised O(1) per shift.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

export type Message = { topic: string; payload?: unknown };
type Done = (err?: Error) => void;
export type Listener = (message: Message, done: () => void) => void;

export type Router = {
  on(topic: string, listener: Listener, done?: () => void): void;
  removeListener(topic: string, listener: Listener, done?: () => void): void;
  emit(message: Message, done?: Done): void;
  close(done: () => void): void;
  /** Messages and payload bytes inside the router (queued or being delivered). */
  inFlight(): { messages: number; bytes: number };
  /** Messages delivered to every matching listener since start (monotonic). */
  completed(): number;
};

const noop = () => {};

export function createRouter(opts: { concurrency: number }): Router {
  // [MQTT-4.7.1-3]: '+' also matches an empty level, as aedes configures mqemitter.
  const matcher = new Qlobber<Listener>({
    separator: "/",
    wildcard_one: "+",
    wildcard_some: "#",
    match_empty_levels: true,
  });
  const queue = new Fifo<{ message: Message; done: Done; size: number }>();
  const inFlight = { messages: 0, bytes: 0 };
  let current = 0;
  let completed = 0;
  let pumping = false;
  let closed = false;

  const deliver = (message: Message, done: Done, size: number): void => {
    current++;
    const listeners = matcher.match(message.topic);
    let pending = listeners.length || 1;
    const finished = () => {
      if (--pending > 0) return;
      current--;
      inFlight.messages--;
      inFlight.bytes -= size;
      completed++;
      done();
      pump();
    };
    if (listeners.length === 0) finished();
    else for (const listener of listeners) listener(message, finished);
  };

  // Re-entrant calls (a listener finishing synchronously) return at once; the outer loop carries on.
  const pump = (): void => {
    if (pumping) return;
    pumping = true;
    try {
      while (current < opts.concurrency && queue.length > 0) {
        const next = queue.shift() as { message: Message; done: Done; size: number };
        deliver(next.message, next.done, next.size);
      }
    } finally {
      pumping = false;
    }
  };

  return {
    on(topic, listener, done) {
      matcher.add(topic, listener);
      if (done) setImmediate(done);
    },
    removeListener(topic, listener, done) {
      setImmediate(() => {
        matcher.remove(topic, listener);
        done?.();
      });
    },
    emit(message, done = noop) {
      if (closed) return done(new Error("router is closed"));
      const size = Buffer.isBuffer(message.payload) ? message.payload.length : 0;
      inFlight.messages++;
      inFlight.bytes += size;
      queue.push({ message, done, size });
      pump();
    },
    close(done) {
      closed = true;
      setImmediate(done);
    },
    inFlight: () => ({ ...inFlight }),
    completed: () => completed,
  };
}
