// Shared builders for the schedule unit tests (not a test file: vitest only collects *.test.ts).
import {
  type CalendarDocument,
  type CalendarRule,
  calendarDocument,
  type SwitchPointInput,
} from "../../../services/contract/schedule.ts";

export const CASABLANCA = { lat: 33.573, lon: -7.59 };
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const utc = (iso: string) => Date.parse(`${iso}Z`);

/** A calendar document validated by the contract schema (so ramp_s defaults like on the wire). */
export function doc(
  programs: Record<string, SwitchPointInput[]>,
  opts: { rules?: CalendarRule[]; defaultProgram?: string; version?: number } = {},
): CalendarDocument {
  return calendarDocument.parse({
    version: opts.version ?? 7,
    calendar: { id: "test", name: "Test", revision: 1 },
    time_zone: "Africa/Casablanca",
    issued_at: "2026-01-01T00:00:00.000Z",
    rules: opts.rules ?? [],
    default_program: opts.defaultProgram ?? Object.keys(programs)[0],
    programs: Object.fromEntries(
      Object.entries(programs).map(([id, switch_points]) => [id, { name: id, switch_points }]),
    ),
  });
}
