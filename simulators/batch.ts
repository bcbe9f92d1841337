// Readings waiting to be published, and how they are cut into MQTT messages: one reading as an object, more as
// an array of at most MAX_BATCH_READINGS that stays under MAX_MESSAGE_BYTES (the contract's two limits).
import { MAX_BATCH_READINGS, MAX_MESSAGE_BYTES } from "../services/contract/readings.ts";

export type QueuedReading = {
  ts: number;
  seq: number;
  /** The reading, serialised once when it is generated. */
  json: string;
  /** Truth bookkeeping carried with the reading and counted when its message is acknowledged. */
  energyWh: number;
  burnS: number;
  /** Seconds under a dim override (commands) since the previous reading. */
  overrideS: number;
};

/** Headroom under the size limit for the brackets and for a future envelope. */
const MAX_PAYLOAD_BYTES = MAX_MESSAGE_BYTES - 1024;

/** Removes and returns the next message's worth of readings from the front of the queue. */
export function takeChunk(
  queue: QueuedReading[],
  maxCount = MAX_BATCH_READINGS,
  maxBytes = MAX_PAYLOAD_BYTES,
): QueuedReading[] {
  let n = 0;
  let bytes = 2;
  for (const item of queue) {
    if (n >= maxCount) break;
    // JSON from JSON.stringify of numbers and booleans is ASCII, so length is the byte count.
    if (n > 0 && bytes + item.json.length + 1 > maxBytes) break;
    bytes += item.json.length + 1;
    n++;
  }
  return queue.splice(0, n);
}

/** One reading is sent as an object, several as an array (contract: "one reading or an array of ≤ 500"). */
export function encodeChunk(chunk: readonly QueuedReading[]): string {
  if (chunk.length === 1 && chunk[0]) return chunk[0].json;
  return `[${chunk.map((r) => r.json).join(",")}]`;
}
