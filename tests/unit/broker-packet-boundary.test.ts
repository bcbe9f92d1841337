// The read gate hands aedes whole MQTT packets only (a split packet stalled the connection: aedes reads once
// per batch and waits for a 'readable' event that does not come when the rest is already buffered).
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { packetBoundary } from "../../services/broker/read-gate.ts";

const publish = (size: number) =>
  mqttPacket.generate({
    cmd: "publish",
    topic: "city/v1/streetlight/sl-a-0001/telemetry",
    payload: Buffer.alloc(size, 120),
    qos: 1,
    messageId: 1,
    dup: false,
    retain: false,
  });

describe("packetBoundary", () => {
  it("cuts after whole packets once past the minimum", () => {
    const a = publish(100);
    const b = publish(100);
    const buf = Buffer.concat([a, b, publish(100)]);
    expect(packetBoundary(buf, 150)).toBe(a.length + b.length);
    expect(packetBoundary(buf, 1)).toBe(a.length);
    expect(packetBoundary(buf, 10_000)).toBe(buf.length);
  });

  it("never splits a packet larger than the bite (multi-byte remaining length)", () => {
    const big = publish(60_000);
    expect(packetBoundary(big, 16 * 1024)).toBe(big.length);
    expect(packetBoundary(Buffer.concat([big, publish(10)]), 16 * 1024)).toBe(big.length);
  });

  it("returns 0 for an incomplete packet or header", () => {
    const big = publish(60_000);
    expect(packetBoundary(big.subarray(0, 20_000), 16 * 1024)).toBe(0);
    expect(packetBoundary(big.subarray(0, 2), 16 * 1024)).toBe(0);
    const a = publish(10);
    expect(packetBoundary(Buffer.concat([a, big.subarray(0, 100)]), 16 * 1024)).toBe(a.length);
  });
});
