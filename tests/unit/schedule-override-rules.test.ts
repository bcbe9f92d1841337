// Pure parts of overrides and acks: when an override runs (or which field is wrong), its status, and what a
// lamp's ack means for its delivery.
import { describe, expect, it } from "vitest";
import { parseAck } from "../../services/command/schedules/acks.ts";
import { overrideWindow, statusOf } from "../../services/command/schedules/overrides.ts";

const now = Date.parse("2026-06-01T20:00:00Z");

describe("overrideWindow", () => {
  it("starts now by default and ends after duration_min or at expires_at", () => {
    expect(overrideWindow({ duration_min: 90 }, now)).toEqual({
      ok: true,
      startsMs: now,
      expiresMs: now + 5_400_000,
    });
    expect(
      overrideWindow(
        { starts_at: "2026-06-01T22:00:00+01:00", expires_at: "2026-06-02T01:00:00+01:00" },
        now,
      ),
    ).toEqual({
      ok: true,
      startsMs: Date.parse("2026-06-01T21:00:00Z"),
      expiresMs: Date.parse("2026-06-02T00:00:00Z"),
    });
  });

  it.each([
    [{}, "expires_at", "required"],
    [{ duration_min: 5, expires_at: "2026-06-02T00:00:00Z" }, "duration_min", "not both"],
    [{ expires_at: "2026-06-01T19:00:00Z" }, "expires_at", "after starts_at"],
    [
      { starts_at: "2026-06-01T10:00:00Z", expires_at: "2026-06-01T19:00:00Z" },
      "expires_at",
      "in the future",
    ],
    [{ expires_at: "2026-06-09T20:00:01Z" }, "expires_at", "7 days"],
    [{ starts_at: "2026-06-05T00:00:00Z", duration_min: 7 * 1440 + 1 }, "duration_min", "7 days"],
  ])("%j → %s %s", (req, field, words) => {
    const r = overrideWindow(req, now);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message).toContain(words);
    }
  });

  it("tells scheduled, active, expired and cancelled apart", () => {
    const o = {
      starts_at: "2026-06-01T21:00:00.000Z",
      expires_at: "2026-06-01T23:00:00.000Z",
      cancelled_at: null as string | null,
    };
    const row = (over: Partial<typeof o>) => ({ ...o, ...over }) as Parameters<typeof statusOf>[0];
    expect(statusOf(row({}), now)).toBe("scheduled");
    expect(statusOf(row({}), Date.parse("2026-06-01T22:00:00Z"))).toBe("active");
    expect(statusOf(row({}), Date.parse("2026-06-01T23:00:00Z"))).toBe("expired");
    expect(statusOf(row({ cancelled_at: "2026-06-01T20:30:00Z" }), now)).toBe("cancelled");
  });
});

describe("parseAck", () => {
  it("reads calendar acks by version, with the lamp's reason when it refuses", () => {
    expect(parseAck({ id: "calendar-12", version: 12, status: "applied", ts: 1 })).toEqual({
      ok: true,
      channel: "calendar",
      version: 12,
      state: "applied",
    });
    expect(
      parseAck({
        id: "calendar-12",
        version: 12,
        status: "rejected",
        reason: "stale",
        detail: "holds 14",
        ts: 1,
      }),
    ).toMatchObject({ channel: "calendar", state: "rejected", reason: "stale", detail: "holds 14" });
    expect(parseAck({ id: "calendar-12", version: 13, status: "applied", ts: 1 })).toMatchObject({
      ok: false,
    });
  });

  it("reads override and cancel acks: ok → applied, expired → expired, otherwise rejected with the reason", () => {
    expect(parseAck({ id: "ovr-a", status: "ok", ts: 1 })).toEqual({
      ok: true,
      channel: "cmd",
      id: "ovr-a",
      state: "applied",
    });
    expect(parseAck({ id: "ovr-a", status: "rejected", reason: "expired", ts: 1 })).toMatchObject({
      state: "expired",
    });
    expect(parseAck({ id: "cxl-a", status: "failed", ts: 1 })).toMatchObject({
      state: "rejected",
      reason: "failed",
    });
    expect(parseAck({ id: "ovr-a", status: "maybe", ts: 1 })).toMatchObject({ ok: false });
    expect(parseAck("junk")).toMatchObject({ ok: false });
  });
});
