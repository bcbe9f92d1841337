// Shared by the simulated lamps' schedule tests (sim-schedule, sim-overrides): one winter night in
// Casablanca, a test calendar with fixed switch instants, and one streetlight on the in-memory broker and the
// fake clock with helpers to send it calendars and commands and read its acks and readings.
import type { StreetlightReading } from "../../services/contract/readings.ts";
import {
  type CalendarDocument,
  calendarDocument,
  type SwitchPointInput,
} from "../../services/contract/schedule.ts";
import { localInstant } from "../../services/schedule/zone.ts";
import { NO_FAULTS } from "../../simulators/faults.ts";
import { simDevice } from "./sim-harness.ts";

export const NIGHT = "2025-01-14"; // winter: Africa/Casablanca is UTC+1
export const NOON = localInstant(NIGHT, "12:00");
export const at = (hhmm: string, night = NIGHT) =>
  localInstant(hhmm >= "12:00" ? night : nextDay(night), hhmm);
const nextDay = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
export const MIN = 60_000;
export const HOUR = 3_600_000;

/** Sunset 100 %, 21:00 30 %, 05:00 80 %, sunrise 0 %: fixed instants easy to check against. */
const NIGHT_POINTS: SwitchPointInput[] = [
  { at: "sunset", level_pct: 100 },
  { at: "21:00", level_pct: 30 },
  { at: "05:00", level_pct: 80 },
  { at: "sunrise", level_pct: 0 },
];

export function calendar(version: number, points: SwitchPointInput[] = NIGHT_POINTS): CalendarDocument {
  return calendarDocument.parse({
    version,
    calendar: { id: "test-night", name: "Test night", revision: 1 },
    time_zone: "Africa/Casablanca",
    issued_at: new Date(NOON).toISOString(),
    rules: [],
    default_program: "night",
    programs: { night: { name: "Night", switch_points: points } },
  });
}
export const json = (d: unknown) => JSON.stringify(d);

export async function lampOnMemoryBroker(faults = NO_FAULTS, seed = "sched") {
  const setup = simDevice({ seed, kind: "streetlight", startMs: NOON, idPrefix: "s", faults, intervalS: 10 });
  const { broker, device, runtime, clock } = setup;
  runtime.startLive();
  await clock.advance(0);
  const base = `city/v1/streetlight/${device.id}`;
  const sendCalendar = (doc: CalendarDocument) => broker.deliver(`${base}/calendar`, json(doc));
  const sendCmd = (cmd: Record<string, unknown>) =>
    broker.deliver(`${base}/cmd`, json({ issued_at: new Date(clock.now()).toISOString(), ...cmd }));
  const acks = () =>
    broker.sent
      .filter((s) => s.topic === `${base}/ack`)
      .map((s) => JSON.parse(s.payload) as Record<string, unknown>);
  const readings = () =>
    broker.sent
      .filter((s) => s.topic === `${base}/telemetry`)
      .flatMap((s) => [JSON.parse(s.payload)].flat() as StreetlightReading[]);
  /** The first reading at or after `ms`. */
  const readingAt = (ms: number) => readings().find((r) => Number(r.ts) >= ms) as StreetlightReading;
  /** The last reading before `ms`. */
  const readingBefore = (ms: number) => readings().findLast((r) => Number(r.ts) < ms) as StreetlightReading;
  const iso = (ms: number) => new Date(ms).toISOString();
  return { ...setup, base, sendCalendar, sendCmd, acks, readings, readingAt, readingBefore, iso };
}

/** starts_at / expires_at relative to the fake clock's start (NOON). */
export function window(startOffsetMs: number, expiresOffsetMs: number, base = NOON) {
  return {
    starts_at: new Date(base + startOffsetMs).toISOString(),
    expires_at: new Date(base + expiresOffsetMs).toISOString(),
  };
}
