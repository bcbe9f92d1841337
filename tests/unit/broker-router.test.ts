// The broker's message router (aedes' `mq`): matching, concurrency, order, accounting, and no recursion.
import { describe, expect, it } from "vitest";
import { createRouter, Fifo, type Listener } from "../../services/broker/router.ts";

const msg = (topic: string, payload = Buffer.alloc(3)) => ({ topic, payload });

describe("Fifo", () => {
  it("keeps order across compactions", () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(i);
      if (i % 3 === 0) out.push(q.shift() as number);
    }
    while (q.length > 0) out.push(q.shift() as number);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
  });
});

describe("router", () => {
  it("delivers to every matching listener, '+' matching an empty level [MQTT-4.7.1-3]", () => {
    const r = createRouter({ concurrency: 10 });
    const got: string[] = [];
    const listen =
      (name: string): Listener =>
      (m, done) => {
        got.push(`${name}:${m.topic}`);
        done();
      };
    r.on("city/v1/+/+/telemetry", listen("telemetry"));
    r.on("city/#", listen("all"));
    r.on("other/x", listen("other"));
    const done: string[] = [];
    r.emit(msg("city/v1/streetlight/sl-1/telemetry"), () => done.push("a"));
    r.emit(msg("city/v1/streetlight//telemetry"), () => done.push("b"));
    expect(got.sort()).toEqual([
      "all:city/v1/streetlight//telemetry",
      "all:city/v1/streetlight/sl-1/telemetry",
      "telemetry:city/v1/streetlight//telemetry",
      "telemetry:city/v1/streetlight/sl-1/telemetry",
    ]);
    expect(done).toEqual(["a", "b"]);
  });

  it("runs at most `concurrency` messages at once, the rest in order, and counts what it holds", () => {
    const r = createRouter({ concurrency: 2 });
    const pending: (() => void)[] = [];
    const seen: string[] = [];
    r.on("t/+", (m, done) => {
      seen.push(m.topic);
      pending.push(done);
    });
    const completed: string[] = [];
    for (const t of ["t/1", "t/2", "t/3", "t/4"]) r.emit(msg(t), () => completed.push(t));
    expect(seen).toEqual(["t/1", "t/2"]);
    expect(r.inFlight()).toEqual({ messages: 4, bytes: 12 });
    pending.shift()?.();
    expect(seen).toEqual(["t/1", "t/2", "t/3"]);
    while (pending.length > 0) pending.shift()?.();
    expect(completed).toEqual(["t/1", "t/2", "t/3", "t/4"]);
    expect(r.inFlight()).toEqual({ messages: 0, bytes: 0 });
    expect(r.completed()).toBe(4);
  });

  it("drains a large backlog of unmatched messages without growing the stack", () => {
    const r = createRouter({ concurrency: 1 });
    const pending: (() => void)[] = [];
    r.on("busy", (_m, done) => pending.push(done));
    r.emit(msg("busy")); // occupies the only slot
    let completed = 0;
    for (let i = 0; i < 200_000; i++) r.emit(msg("nobody/listens"), () => completed++);
    expect(completed).toBe(0);
    pending.shift()?.(); // mqemitter 7 would recurse once per queued message here
    expect(completed).toBe(200_000);
  });

  it("stops matching a removed listener and refuses messages once closed", async () => {
    const r = createRouter({ concurrency: 5 });
    let calls = 0;
    const l: Listener = (_m, done) => {
      calls++;
      done();
    };
    await new Promise<void>((ok) => r.on("a", l, ok));
    r.emit(msg("a"));
    await new Promise<void>((ok) => r.removeListener("a", l, ok));
    r.emit(msg("a"));
    expect(calls).toBe(1);
    await new Promise<void>((ok) => r.close(ok));
    const err = await new Promise<Error | undefined>((ok) => r.emit(msg("a"), ok));
    expect(err?.message).toMatch(/closed/);
  });
});
