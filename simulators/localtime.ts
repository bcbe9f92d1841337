// Local civil time in Casablanca for the behaviour models (traffic peaks, dimming at midnight).
// Africa/Casablanca is UTC+1 most of the year and UTC+0 during Ramadan (shared/DOMAIN.md), on dates the IANA
// database knows, so the offset comes from Intl rather than a constant. Intl is slow per call; the offset is
// cached per UTC hour (zone changes happen on the hour).
import { CITY } from "../services/contract/city.ts";

const HOUR_MS = 3_600_000;
const formatter = new Intl.DateTimeFormat("en-US", {
  timeZone: CITY.timeZone,
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
});
const offsets = new Map<number, number>();

/** Offset of Casablanca's civil time from UTC at `tsMs`, in milliseconds. */
export function utcOffsetMs(tsMs: number): number {
  const hour = Math.floor(tsMs / HOUR_MS);
  const cached = offsets.get(hour);
  if (cached !== undefined) return cached;
  const at = hour * HOUR_MS;
  const parts: Record<string, number> = {};
  for (const p of formatter.formatToParts(at)) if (p.type !== "literal") parts[p.type] = Number(p.value);
  const local = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
  );
  const offset = local - at;
  if (offsets.size > 50_000) offsets.clear();
  offsets.set(hour, offset);
  return offset;
}

export type LocalTime = {
  /** Hour of the local day as a fraction, 0 ≤ hour < 24. */
  hour: number;
  /** Local weekday, 0 = Sunday … 5 = Friday, 6 = Saturday. */
  weekday: number;
  /** Local day of the year, 0-based. */
  dayOfYear: number;
};

export function localTime(tsMs: number): LocalTime {
  const local = new Date(tsMs + utcOffsetMs(tsMs));
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60 + local.getUTCSeconds() / 3600;
  const dayOfYear = Math.floor((local.getTime() - Date.UTC(local.getUTCFullYear(), 0, 1)) / (24 * HOUR_MS));
  return { hour, weekday: local.getUTCDay(), dayOfYear };
}

/** Epoch ms of a local wall-clock time (for tests and schedules), e.g. localInstant("2025-01-17", 13). */
export function localInstant(date: string, hour: number, minute = 0): number {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d, hour, minute);
  return guess - utcOffsetMs(guess - utcOffsetMs(guess));
}
