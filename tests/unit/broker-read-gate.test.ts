// The read gate on a plain in-memory stream: pausing hides data from the reader, resuming asks it to read.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { gateReads, MAX_BITE } from "../../services/broker/read-gate.ts";

describe("read gate", () => {
  it("passes reads through and counts bytes both ways", () => {
    const s = new PassThrough();
    const gate = gateReads(s);
    s.write(Buffer.from("hello"));
    expect((s.read() as Buffer).toString()).toBe("hello");
    expect(gate.takeBytes()).toEqual({ read: 5, written: 5 }); // a PassThrough reads what it was written
    expect(gate.takeBytes()).toEqual({ read: 0, written: 0 });
  });

  it("returns nothing while paused and keeps the data for after resume", async () => {
    const s = new PassThrough();
    const gate = gateReads(s);
    gate.pause(123);
    expect(gate.paused).toBe(true);
    expect(gate.pausedAt).toBe(123);
    s.write(Buffer.from("queued"));
    expect(s.read()).toBeNull();
    const readable = new Promise<void>((ok) => s.once("readable", () => ok()));
    gate.resume();
    expect(gate.paused).toBe(false);
    await readable; // the reader (aedes) is asked to read again
    expect((s.read() as Buffer).toString()).toBe("queued");
  });

  it("hands over at most MAX_BITE bytes per read", () => {
    const s = new PassThrough({ highWaterMark: 4 * MAX_BITE });
    gateReads(s);
    s.write(Buffer.alloc(MAX_BITE * 2 + 10));
    expect((s.read() as Buffer).length).toBe(MAX_BITE);
    expect((s.read() as Buffer).length).toBe(MAX_BITE);
    expect((s.read() as Buffer).length).toBe(10);
  });
});
