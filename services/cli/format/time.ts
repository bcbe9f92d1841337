// Times as a field engineer in Casablanca reads them: local wall-clock time (Africa/Casablanca, which
// switches between UTC+1 and UTC+0 around Ramadan, so an Intl time zone, never a fixed offset) and how long ago.
import { CITY } from "../../contract/city.ts";

const dateTime = new Intl.DateTimeFormat("en-GB", {
  timeZone: CITY.timeZone,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function parts(date: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of dateTime.formatToParts(date)) out[p.type] = p.value;
  return out;
}

function toDate(value: string | number | Date): Date | null {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2025-03-14 21:05:09" in Casablanca time. */
export function localDateTime(value: string | number | Date): string {
  const d = toDate(value);
  if (!d) return String(value);
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** "21:05:09" in Casablanca time. */
export function localTime(value: string | number | Date): string {
  const d = toDate(value);
  if (!d) return String(value);
  const p = parts(d);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** Today's date in Casablanca, "YYYY-MM-DD" (a device installed at 00:30 local time was installed that day). */
export function localDate(now: Date): string {
  const p = parts(now);
  return `${p.year}-${p.month}-${p.day}`;
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "in 4 s" for a time ahead of `now` (clock skew). */
export function relative(value: string | number | Date, now: Date): string {
  const d = toDate(value);
  if (!d) return "";
  const diffS = Math.round((now.getTime() - d.getTime()) / 1000);
  const abs = Math.abs(diffS);
  const span =
    abs < 60
      ? `${abs} s`
      : abs < 3600
        ? `${Math.floor(abs / 60)} min`
        : abs < 86_400
          ? `${Math.floor(abs / 3600)} h`
          : `${Math.floor(abs / 86_400)} d`;
  if (abs === 0) return "just now";
  return diffS > 0 ? `${span} ago` : `in ${span}`;
}

/** "2025-03-14 21:05:09 (12 s ago)", or "never" when there is no time. */
export function when(value: string | number | null | undefined, now: Date): string {
  if (value === null || value === undefined || value === "") return "never";
  const d = toDate(value);
  if (!d) return String(value);
  return `${localDateTime(d)} (${relative(d, now)})`;
}

/** "1 min 05 s" for a duration in milliseconds. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/**
 * A --seen-after / --seen-before value: an ISO time, a date, or a span back from now ("15m", "2h", "3d",
 * "90s"). Returns the ISO time to send, or null when the value is none of these.
 */
export function parseSince(value: string, now: Date): string | null {
  const span = /^(\d+)\s*(s|m|min|h|d)$/.exec(value.trim());
  if (span) {
    const n = Number(span[1]);
    const unit = span[2] as "s" | "m" | "min" | "h" | "d";
    const seconds = { s: 1, m: 60, min: 60, h: 3600, d: 86_400 }[unit];
    return new Date(now.getTime() - n * seconds * 1000).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
