// The broker's table of recent denials (GET /denials): one row per principal, action, topic and reason, counted,
// most recent first, bounded.
import { describe, expect, it } from "vitest";
import { createDenialTable } from "../../services/broker/denials.ts";
import type { Denial } from "../../services/broker/hooks/adapter.ts";

const denial = (over: Partial<Denial> = {}): Denial => ({
  action: "publish",
  clientId: "sl-0001",
  principal: "sl-0001",
  topic: "city/v1/streetlight/sl-0002/telemetry",
  reason: "topic_not_permitted",
  ...over,
});

describe("denial table", () => {
  it("counts repeats in one row with the first and last time", () => {
    let t = Date.parse("2026-01-01T00:00:00Z");
    const table = createDenialTable(10, () => t);
    table.record(denial());
    t += 1000;
    table.record(denial());
    expect(table.list()).toEqual([
      {
        action: "publish",
        principal: "sl-0001",
        client_id: "sl-0001",
        topic: "city/v1/streetlight/sl-0002/telemetry",
        reason: "topic_not_permitted",
        count: 2,
        first_at: "2026-01-01T00:00:00.000Z",
        last_at: "2026-01-01T00:00:01.000Z",
      },
    ]);
  });

  it("lists the most recent first, keys CONNECTs without a topic, and falls back to the client id", () => {
    const table = createDenialTable(10);
    table.record(denial({ topic: "a" }));
    table.record(denial({ action: "connect", topic: undefined, reason: "bad_secret" }));
    table.record(denial({ principal: undefined, clientId: "anon", action: "connect", topic: undefined }));
    table.record(denial({ topic: "a" })); // seen again: first now
    expect(table.list().map((r) => [r.action, r.principal, r.topic, r.count])).toEqual([
      ["publish", "sl-0001", "a", 2],
      ["connect", "anon", null, 1],
      ["connect", "sl-0001", null, 1],
    ]);
  });

  it("keeps at most maxRows, dropping the least recently seen", () => {
    const table = createDenialTable(3);
    for (let i = 0; i < 10; i++) table.record(denial({ topic: `t/${i}` }));
    expect(table.list().map((r) => r.topic)).toEqual(["t/9", "t/8", "t/7"]);
  });
});
