// Stops aedes reading from one connection, so that TCP flow control slows the client down.
//
// aedes pulls packets with `conn.read()` whenever the stream emits 'readable' and after each parsed batch.
// While the gate is closed that read returns nothing: bytes stay in the stream's buffer, the stream stops
// reading from the kernel at its high-water mark, the kernel's receive window closes and the client's
// writes block. Nothing is lost and no QoS 1 PUBLISH is acknowledged that the broker has not taken in.
// (aedes' own client.pause() is not usable mid-batch: its batch counter is never decremented while paused,
// so the connection would not read again after resume.)
//
// The gate also counts MQTT bytes in and out (for WebSocket: the MQTT bytes inside the frames).
import type { Duplex } from "node:stream";

export type ReadGate = {
  readonly paused: boolean;
  /** When the current pause began (ms, the controller's clock), or 0. */
  readonly pausedAt: number;
  pause(now: number): void;
  resume(): void;
  /** Bytes read / written since the last call; resets the counters. */
  takeBytes(): { read: number; written: number };
};

/** Most bytes handed to aedes per read. */
export const MAX_BITE = 16 * 1024;

/**
 * The end of the last whole MQTT packet within `buf` at or after `min` bytes (or of all whole packets if there
 * are fewer), so that a bite never splits a packet. 0 when `buf` does not start with a whole packet.
 * [MQTT-2.2] fixed header: one byte of type and flags, then the remaining length in 1–4 bytes of 7 bits.
 */
export function packetBoundary(buf: Buffer, min: number): number {
  let pos = 0;
  while (pos < buf.length) {
    let len = 0;
    let mul = 1;
    let i = pos + 1;
    for (;;) {
      if (i >= buf.length) return pos; // header not complete yet
      const byte = buf[i] as number;
      len += (byte & 0x7f) * mul;
      i++;
      if ((byte & 0x80) === 0) break;
      mul *= 128;
      if (mul > 128 ** 3) return buf.length; // malformed: let aedes' parser reject it
    }
    const end = i + len;
    if (end > buf.length) return pos;
    pos = end;
    if (pos >= min) return pos;
  }
  return pos;
}

export function gateReads(stream: Duplex): ReadGate {
  let pausedAt = 0;
  let paused = false;
  let read = 0;
  let written = 0;

  const originalRead = stream.read.bind(stream);
  // Bytes taken from the stream but not yet handed to aedes. It always starts at a packet boundary.
  let held: Buffer = Buffer.alloc(0);
  stream.read = (size?: number | null) => {
    if (paused) return null;
    if (size !== undefined && size !== null) return countRead(originalRead(size)); // aedes reads with null
    // aedes asks for everything buffered (up to the 64 KiB high-water mark, ~400 small PUBLISHes) and starts
    // all of it at once; bites of about MAX_BITE bound what one connection has in flight when it is paused.
    // A bite always ends on a packet boundary: aedes parses one read per batch and, given a partial packet,
    // would wait for a 'readable' event that never comes when the rest is already buffered.
    // Take more from the stream only when less than a bite of whole packets is held, so that what is taken
    // off the socket stays bounded (held ≤ a bite + the stream's high-water mark) and TCP backpressure holds.
    let cut = packetBoundary(held, MAX_BITE);
    if (cut < MAX_BITE) {
      const fresh = originalRead() as Buffer | null;
      if (fresh) {
        held = held.length === 0 ? fresh : Buffer.concat([held, fresh]);
        cut = packetBoundary(held, MAX_BITE);
      }
    }
    if (cut === 0) return null; // an incomplete packet: its remaining bytes will raise 'readable'
    const bite = held.subarray(0, cut);
    held = held.subarray(cut);
    // Whatever is still held is whole packets (or the start of one whose rest has not arrived): aedes reads
    // again when this bite's packets are handled, and the stream raises 'readable' when new bytes arrive.
    return countRead(bite);
  };
  const countRead = (chunk: unknown) => {
    if (chunk) read += (chunk as Buffer).length;
    return chunk;
  };
  const originalWrite = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  // aedes writes each packet (often in several pieces) as it goes: corking the stream for the rest of the tick
  // turns the writes of one tick into one writev syscall instead of one per piece.
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    written += typeof chunk === "string" ? Buffer.byteLength(chunk) : (chunk as Buffer).length;
    if (!corked && !stream.writableCorked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return originalWrite(chunk, ...rest);
  }) as Duplex["write"];

  return {
    get paused() {
      return paused;
    },
    get pausedAt() {
      return pausedAt;
    },
    pause(now) {
      if (paused) return;
      paused = true;
      pausedAt = now;
    },
    resume() {
      if (!paused) return;
      paused = false;
      pausedAt = 0;
      // A 'readable' event may have been swallowed while closed: ask the reader (aedes) to read again.
      setImmediate(() => {
        if (!stream.destroyed && !paused) stream.emit("readable");
      });
    },
    takeBytes() {
      const taken = { read, written };
      read = 0;
      written = 0;
      return taken;
    },
  };
}
