// The delivery engine's memory: every open delivery (pending | delivered), at most one per lamp and family
// (calendar; override with its cancels), and the payload of each rollout that still has open rows (counted, so a
// finished rollout's document leaves memory with its last row).
import { type Family, familyOf } from "../../registry/schedules/rollouts.ts";
import type { RolloutPayload } from "./payloads.ts";

export type OpenRow = {
  rolloutId: number;
  deviceId: string;
  family: Family;
  state: "pending" | "delivered";
  /** Sends so far (this process counts them at publish; the stored row at PUBACK). */
  attempts: number;
  lastSendMs: number | null;
  inFlight: boolean;
};

export type OpenRows = ReturnType<typeof createOpenRows>;

export function createOpenRows() {
  const byDevice = new Map<string, { calendar?: OpenRow; override?: OpenRow }>();
  const payloads = new Map<number, { p: RolloutPayload; refs: number }>();

  function drop(row: OpenRow): void {
    const slots = byDevice.get(row.deviceId);
    if (!slots || slots[row.family] !== row) return;
    delete slots[row.family];
    if (!slots.calendar && !slots.override) byDevice.delete(row.deviceId);
    const held = payloads.get(row.rolloutId);
    if (held && --held.refs <= 0) payloads.delete(row.rolloutId);
  }

  return {
    get: (deviceId: string, family: Family) => byDevice.get(deviceId)?.[family],
    /** Whether `row` is still the lamp's open row of its family (not finished or replaced since). */
    isCurrent: (row: OpenRow) => byDevice.get(row.deviceId)?.[row.family] === row,
    has: (deviceId: string) => byDevice.has(deviceId),
    payloadOf: (row: OpenRow) => payloads.get(row.rolloutId)?.p,
    cachedPayload: (rolloutId: number) => payloads.get(rolloutId)?.p,
    /** A lamp's open rows. */
    ofDevice(deviceId: string): OpenRow[] {
      const slots = byDevice.get(deviceId);
      return slots ? ([slots.calendar, slots.override].filter(Boolean) as OpenRow[]) : [];
    },
    *all(): Generator<OpenRow> {
      for (const slots of byDevice.values()) {
        if (slots.calendar) yield slots.calendar;
        if (slots.override) yield slots.override;
      }
    },
    /** Makes a new pending row the lamp's open row of the payload's family (replacing an older one). */
    place(p: RolloutPayload, deviceId: string, init: Partial<OpenRow> = {}): OpenRow {
      const family = familyOf(p.kind);
      const old = byDevice.get(deviceId)?.[family];
      if (old) drop(old);
      const slots = byDevice.get(deviceId) ?? {};
      byDevice.set(deviceId, slots);
      const row: OpenRow = {
        rolloutId: p.rolloutId,
        deviceId,
        family,
        state: "pending",
        attempts: 0,
        lastSendMs: null,
        inFlight: false,
        ...init,
      };
      slots[family] = row;
      const held = payloads.get(p.rolloutId);
      if (held) held.refs++;
      else payloads.set(p.rolloutId, { p, refs: 1 });
      return row;
    },
    /** Forgets a row (its stored row is closed by whoever calls this). */
    drop,
    counts(): Record<"pending" | "delivered", number> {
      const out = { pending: 0, delivered: 0 };
      for (const slots of byDevice.values())
        for (const row of [slots.calendar, slots.override]) if (row) out[row.state]++;
      return out;
    },
  };
}
