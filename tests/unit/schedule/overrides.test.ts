// The override slot rule: one per lamp; a newer one (by creation) replaces the older at its creation even if it
// starts later; cancel and expiry end it; nothing is in force before it was issued.
import { describe, expect, it } from "vitest";
import { clipOverrides, type OverrideRecord } from "../../../services/schedule/overrides.ts";

const MIN = 60_000;
const ov = (id: string, o: Partial<OverrideRecord>): OverrideRecord => ({
  id,
  createdMs: 0,
  startsMs: 0,
  expiresMs: 60 * MIN,
  cancelledMs: null,
  levelPct: 100,
  rampMs: 0,
  ...o,
});

describe("clipOverrides", () => {
  it("keeps a lone override from its start to its expiry", () => {
    expect(clipOverrides([ov("a", { startsMs: 10 * MIN })])).toEqual([
      { id: "a", fromMs: 10 * MIN, untilMs: 60 * MIN, levelPct: 100, rampMs: 0 },
    ]);
  });

  it("a newer override ends the older at its creation, even when it starts later", () => {
    const spans = clipOverrides([
      ov("old", { createdMs: 0, startsMs: 0, expiresMs: 120 * MIN, levelPct: 100 }),
      ov("new", { createdMs: 30 * MIN, startsMs: 60 * MIN, expiresMs: 90 * MIN, levelPct: 20 }),
    ]);
    expect(spans.map((s) => [s.id, s.fromMs / MIN, s.untilMs / MIN])).toEqual([
      ["old", 0, 30],
      ["new", 60, 90],
    ]);
  });

  it("replacement follows creation, not start, and not the input order", () => {
    const spans = clipOverrides([
      ov("newer", { createdMs: 20 * MIN, startsMs: 20 * MIN, expiresMs: 40 * MIN }),
      ov("older", { createdMs: 10 * MIN, startsMs: 30 * MIN, expiresMs: 50 * MIN }),
    ]);
    // "older" was replaced at 20 min, before it would have started: it never takes effect.
    expect(spans.map((s) => s.id)).toEqual(["newer"]);
  });

  it("cancel ends an override; cancelled before its start it never takes effect", () => {
    const spans = clipOverrides([
      ov("a", { createdMs: 0, startsMs: 0, expiresMs: 60 * MIN, cancelledMs: 25 * MIN }),
      ov("b", { createdMs: 30 * MIN, startsMs: 45 * MIN, expiresMs: 90 * MIN, cancelledMs: 40 * MIN }),
    ]);
    expect(spans.map((s) => [s.id, s.fromMs / MIN, s.untilMs / MIN])).toEqual([["a", 0, 25]]);
  });

  it("an override is not in force before it was issued", () => {
    const [span] = clipOverrides([ov("a", { createdMs: 10 * MIN, startsMs: 0, expiresMs: 60 * MIN })]);
    expect(span?.fromMs).toBe(10 * MIN);
  });

  it("an expired replacement does not bring the older one back", () => {
    const spans = clipOverrides([
      ov("a", { createdMs: 0, expiresMs: 120 * MIN }),
      ov("b", { createdMs: 10 * MIN, startsMs: 10 * MIN, expiresMs: 20 * MIN }),
    ]);
    expect(spans.map((s) => [s.id, s.fromMs / MIN, s.untilMs / MIN])).toEqual([
      ["a", 0, 10],
      ["b", 10, 20],
    ]);
  });

  it("names the field of bad input", () => {
    expect(() => clipOverrides([ov("a", { levelPct: 120 })])).toThrow(
      /overrides\.0\.levelPct: must be within/,
    );
    expect(() => clipOverrides([ov("a", { expiresMs: Number.NaN })])).toThrow(/overrides\.0\.expiresMs/);
  });
});
