// Local civil time in Casablanca for the behaviour models (traffic peaks, ambient temperature, a lamp's day).
// The zone's offset comes from the schedule library (services/schedule/zone.ts: the IANA zone through luxon,
// memoised per UTC hour), the one place the platform converts Africa/Casablanca, which moves by an hour around
// Ramadan (shared/DOMAIN.md).
import { utcOffsetMin, localInstant as wallInstant } from "../services/schedule/zone.ts";

const HOUR_MS = 3_600_000;

export type LocalTime = {
  /** Hour of the local day as a fraction, 0 ≤ hour < 24. */
  hour: number;
  /** Local weekday, 0 = Sunday … 5 = Friday, 6 = Saturday. */
  weekday: number;
  /** Local day of the year, 0-based. */
  dayOfYear: number;
};

export function localTime(tsMs: number): LocalTime {
  const local = new Date(tsMs + utcOffsetMin(tsMs) * 60_000);
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60 + local.getUTCSeconds() / 3600;
  const dayOfYear = Math.floor((local.getTime() - Date.UTC(local.getUTCFullYear(), 0, 1)) / (24 * HOUR_MS));
  return { hour, weekday: local.getUTCDay(), dayOfYear };
}

/** Epoch ms of a local wall-clock time (for tests), e.g. localInstant("2025-01-17", 13). */
export function localInstant(date: string, hour: number, minute = 0): number {
  const hhmm = `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
  return wallInstant(date, hhmm);
}
