// The read gate on a plain in-memory stream carrying MQTT packets: pausing hides data from the reader, resuming
// asks it to read, bites are bounded and end on packet boundaries.
import { PassThrough } from "node:stream";
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { gateReads, MAX_BITE } from "../../services/broker/read-gate.ts";

/** aedes reads with `conn.read(null)` (Node's types only allow a number or nothing). */
const readNull = (s: PassThrough): unknown => (s.read as unknown as (size: null) => unknown).call(s, null);

const tick = () => new Promise((r) => setTimeout(r, 5));

const packet = (size: number) =>
  mqttPacket.generate({
    cmd: "publish",
    topic: "t",
    payload: Buffer.alloc(size, 97),
    qos: 0,
    dup: false,
    retain: false,
  });

describe("read gate", () => {
  it("passes reads through and counts bytes both ways", async () => {
    const s = new PassThrough();
    const gate = gateReads(s);
    const p = packet(5);
    s.write(p);
    await tick(); // writes are corked until the end of the tick
    expect((readNull(s) as Buffer).equals(p)).toBe(true);
    expect(gate.takeBytes()).toEqual({ read: p.length, written: p.length }); // a PassThrough reads what it was written
    expect(gate.takeBytes()).toEqual({ read: 0, written: 0 });
  });

  it("returns nothing while paused and keeps the data for after resume", async () => {
    const s = new PassThrough();
    const gate = gateReads(s);
    gate.pause(123);
    expect(gate.paused).toBe(true);
    expect(gate.pausedAt).toBe(123);
    const p = packet(6);
    s.write(p);
    await tick();
    expect(readNull(s)).toBeNull();
    const readable = new Promise<void>((ok) => s.once("readable", () => ok()));
    gate.resume();
    expect(gate.paused).toBe(false);
    await readable; // the reader (aedes) is asked to read again
    expect((readNull(s) as Buffer).equals(p)).toBe(true);
  });

  it("hands over bites of about MAX_BITE that end on packet boundaries", async () => {
    const s = new PassThrough({ highWaterMark: 8 * MAX_BITE });
    gateReads(s);
    const small = packet(1000);
    const all = Buffer.concat(Array.from({ length: 40 }, () => small));
    s.write(all);
    await tick();
    const bites: Buffer[] = [];
    for (let b = readNull(s) as Buffer | null; b; b = readNull(s) as Buffer | null) bites.push(b);
    expect(Buffer.concat(bites).equals(all)).toBe(true);
    for (const b of bites) expect(b.length % small.length).toBe(0);
    expect(bites.length).toBeGreaterThan(1);
    expect(Math.max(...bites.map((b) => b.length))).toBeLessThan(MAX_BITE + small.length);
  });

  it("hands over a packet larger than a bite whole, and a partial one not at all", async () => {
    const s = new PassThrough({ highWaterMark: 8 * MAX_BITE });
    gateReads(s);
    const big = packet(60_000);
    s.write(big.subarray(0, 30_000));
    await tick();
    expect(readNull(s)).toBeNull();
    s.write(big.subarray(30_000));
    await tick();
    expect((readNull(s) as Buffer).equals(big)).toBe(true);
  });
});

describe("read gate writes", () => {
  it("coalesces the writes of one tick into one write to the socket", async () => {
    const s = new PassThrough();
    const chunks: number[] = [];
    gateReads(s);
    s.on("data", (d: Buffer) => chunks.push(d.length));
    for (let i = 0; i < 10; i++) s.write(packet(10));
    expect(s.writableCorked).toBeGreaterThan(0);
    await tick();
    expect(s.writableCorked).toBe(0);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(10 * packet(10).length);
  });
});
