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

export function gateReads(stream: Duplex): ReadGate {
  let pausedAt = 0;
  let paused = false;
  let read = 0;
  let written = 0;

  const originalRead = stream.read.bind(stream);
  stream.read = (size?: number) => {
    if (paused) return null;
    // aedes asks for everything buffered (up to the 64 KiB high-water mark, ~400 small PUBLISHes) and
    // starts all of it at once; smaller bites bound what one connection has in flight when it is paused.
    const n = size ?? (stream.readableLength > MAX_BITE ? MAX_BITE : undefined);
    const chunk: unknown = originalRead(n);
    if (chunk) read += (chunk as Buffer).length;
    return chunk;
  };
  const originalWrite = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    written += typeof chunk === "string" ? Buffer.byteLength(chunk) : (chunk as Buffer).length;
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
