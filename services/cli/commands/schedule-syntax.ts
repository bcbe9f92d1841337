// The short forms an operator types for schedules, parsed to the API's shapes (services/contract/schedule.ts)
// and printed back the same way, so that `programs show` output can be pasted into `programs create`:
//   switch point  AT=LEVEL[@RAMP]      "sunset+10=100", "00:00=50@300" (ramp 300 s), "sunrise-15=0"
//   rule          key=value;key=value  "program=match;dates=2026-11-28,2026-12-05;name=match night"
//   duration      3h, 90m, 1h30m, 45s, 2d
// Pure functions; a refusal is a value naming what is wrong (STYLE.md, habit 6).
import {
  type CalendarRule,
  calendarRule,
  type SwitchPoint,
  WEEKDAYS,
  type Weekday,
} from "../../contract/schedule.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** TALQ-style limits the contract enforces too; checked here so the message names the part of the text. */
const MAX_OFFSET_MIN = 180;
const MAX_RAMP_S = 3600;

const POINT =
  /^(sunset|sunrise|\d{1,2}:\d{2})\s*(?:([+-])\s*(\d+)\s*(?:m|min)?)?\s*=\s*([\d.]+)\s*%?\s*(?:@\s*(\S+))?$/i;

/** "sunset+10=100" → {at:"sunset", offset_min:10, level_pct:100, ramp_s:0}. */
export function parseSwitchPoint(text: string): Parsed<SwitchPoint> {
  const m = POINT.exec(text.trim());
  if (!m) {
    return bad(
      `"${text}" is not a switch point: write AT=LEVEL[@RAMP_S], AT being sunset, sunrise (with +/- minutes) or HH:MM, e.g. sunset+10=100, 00:00=50@300, sunrise-15=0`,
    );
  }
  const [, atRaw, sign, offsetRaw, levelRaw, rampRaw] = m as unknown as [
    string,
    string,
    string | undefined,
    string | undefined,
    string,
    string | undefined,
  ];
  const astro = /^sun(set|rise)$/i.test(atRaw);
  let at: string;
  if (astro) at = atRaw.toLowerCase();
  else {
    const [h, min] = atRaw.split(":").map(Number) as [number, number];
    if (h > 23 || min > 59) return bad(`"${text}": ${atRaw} is not a time of day (00:00 to 23:59)`);
    at = `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}`;
  }
  if (!astro && sign) return bad(`"${text}": an offset (+/- minutes) is only for sunset or sunrise`);
  const level = Number(levelRaw);
  if (!Number.isFinite(level) || level < 0 || level > 100)
    return bad(`"${text}": the level must be 0 to 100 (%), got ${levelRaw}`);
  const point: SwitchPoint = { at, level_pct: level, ramp_s: 0 };
  if (sign && offsetRaw !== undefined) {
    const offset = Number(offsetRaw) * (sign === "-" ? -1 : 1);
    if (Math.abs(offset) > MAX_OFFSET_MIN)
      return bad(`"${text}": the offset must be within ±${MAX_OFFSET_MIN} minutes, got ${offset}`);
    if (offset !== 0) point.offset_min = offset;
  }
  if (rampRaw !== undefined) {
    const ramp = /^\d+$/.test(rampRaw) ? Number(rampRaw) * 1000 : durationMs(rampRaw);
    if (ramp === null || ramp % 1000 !== 0)
      return bad(
        `"${text}": the ramp after @ must be whole seconds (300) or a duration (5m), got "${rampRaw}"`,
      );
    if (ramp / 1000 > MAX_RAMP_S)
      return bad(`"${text}": the ramp must be at most ${MAX_RAMP_S} s, got ${ramp / 1000} s`);
    point.ramp_s = ramp / 1000;
  }
  return ok(point);
}

/** The inverse of parseSwitchPoint: "sunrise-15=0", "00:00=50@300". */
export function formatSwitchPoint(p: Pick<SwitchPoint, "at" | "level_pct"> & Partial<SwitchPoint>): string {
  const offset = p.offset_min ? `${p.offset_min > 0 ? "+" : ""}${p.offset_min}` : "";
  return `${p.at}${offset}=${p.level_pct}${p.ramp_s ? `@${p.ramp_s}` : ""}`;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const RULE_KEYS = ["name", "program", "from", "to", "weekdays", "nth", "months", "dates"] as const;
type RuleKey = (typeof RULE_KEYS)[number];
const KEY_ALIASES: Record<string, RuleKey> = { days: "weekdays", date: "dates", until: "to" };

const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/** "fri,sat" or "mon-fri" → weekday names in the contract's spelling. */
export function parseWeekdays(value: string): Parsed<Weekday[]> {
  const out: Weekday[] = [];
  for (const part of list(value.toLowerCase())) {
    const range = part.split("-").map((d) => d.slice(0, 3));
    const idx = range.map((d) => (WEEKDAYS as readonly string[]).indexOf(d));
    if (range.length > 2 || idx.some((i) => i < 0))
      return bad(`weekdays: "${part}" is not a weekday (${WEEKDAYS.join(", ")}, or a range like mon-fri)`);
    const [a, b = a] = idx as [number, number?];
    for (let i = a; ; i = (i + 1) % 7) {
      const day = WEEKDAYS[i] as Weekday;
      if (!out.includes(day)) out.push(day);
      if (i === b) break;
    }
  }
  return out.length > 0 ? ok(out) : bad("weekdays: give at least one weekday");
}

function parseMonths(value: string): Parsed<number[]> {
  const out: number[] = [];
  for (const part of list(value.toLowerCase())) {
    const n = /^\d{1,2}$/.test(part) ? Number(part) : MONTHS.indexOf(part.slice(0, 3)) + 1;
    if (!(n >= 1 && n <= 12)) return bad(`months: "${part}" is not a month (1–12 or jan…dec)`);
    if (!out.includes(n)) out.push(n);
  }
  return out.length > 0 ? ok(out) : bad("months: give at least one month");
}

/** "1:sat", "last:fri", "-1:fri" → {n, weekday}. */
function parseNth(value: string): Parsed<{ n: number; weekday: Weekday }> {
  const m = /^(last|-1|[1-5])(?:st|nd|rd|th)?\s*[: ]\s*([a-z]+)$/i.exec(value.trim());
  const weekday = m ? (m[2] as string).toLowerCase().slice(0, 3) : "";
  if (!m || !(WEEKDAYS as readonly string[]).includes(weekday))
    return bad(`nth: "${value}" is not N:WEEKDAY (N 1–5 or last), e.g. 1:sat, last:fri`);
  const n = (m[1] as string).toLowerCase() === "last" ? -1 : Number(m[1]);
  return ok({ n, weekday: weekday as Weekday });
}

/**
 * "program=match;dates=2026-11-28,2026-12-05;name=match night" → a calendar rule. Keys: program (required),
 * name, from, to, weekdays (fri,sat or mon-fri), nth (1:sat, last:fri) with months (1,12 or jan,dec), dates.
 * The result is checked with the contract's own schema (e.g. `to` before `from`).
 */
export function parseRule(text: string): Parsed<CalendarRule> {
  const raw: Partial<Record<RuleKey, string>> = {};
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) return bad(`"${part.trim()}" is not key=value (keys: ${RULE_KEYS.join(", ")})`);
    const given = part.slice(0, eq).trim().toLowerCase();
    const key = (KEY_ALIASES[given] ?? given) as RuleKey;
    if (!RULE_KEYS.includes(key)) return bad(`unknown key "${given}" (keys: ${RULE_KEYS.join(", ")})`);
    if (raw[key] !== undefined) return bad(`${key} is given twice`);
    raw[key] = part.slice(eq + 1).trim();
  }
  if (!raw.program) return bad("program=… is required: the program for the nights the rule matches");
  const rule: Record<string, unknown> = { program: raw.program };
  if (raw.name) rule.name = raw.name;
  if (raw.from) rule.from = raw.from;
  if (raw.to) rule.to = raw.to;
  if (raw.dates !== undefined) rule.dates = list(raw.dates);
  if (raw.weekdays !== undefined) {
    const w = parseWeekdays(raw.weekdays);
    if (!w.ok) return w;
    rule.weekdays = w.value;
  }
  if (raw.months !== undefined && raw.nth === undefined)
    return bad("months only restrict nth (e.g. nth=last:fri;months=6,7); for a season use from/to");
  if (raw.nth !== undefined) {
    const nth = parseNth(raw.nth);
    if (!nth.ok) return nth;
    const nthRule: Record<string, unknown> = { ...nth.value };
    if (raw.months !== undefined) {
      const months = parseMonths(raw.months);
      if (!months.ok) return months;
      nthRule.months = months.value;
    }
    rule.nth_weekday = nthRule;
  }
  const checked = calendarRule.safeParse(rule);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const path = issue?.path.join(".") ?? "";
    return bad(`${path ? `${path}: ` : ""}${issue?.message ?? "invalid rule"}`);
  }
  return ok(checked.data);
}

/** The inverse of parseRule, keys in a fixed order. */
export function formatRule(r: CalendarRule): string {
  const parts = [`program=${r.program}`];
  if (r.from) parts.push(`from=${r.from}`);
  if (r.to) parts.push(`to=${r.to}`);
  if (r.weekdays) parts.push(`weekdays=${r.weekdays.join(",")}`);
  if (r.nth_weekday) {
    const { n, weekday, months } = r.nth_weekday;
    parts.push(`nth=${n === -1 ? "last" : n}:${weekday}`);
    if (months) parts.push(`months=${months.join(",")}`);
  }
  if (r.dates) parts.push(`dates=${r.dates.join(",")}`);
  if (r.name) parts.push(`name=${r.name}`);
  return parts.join(";");
}

const UNIT_MS = { s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** "3h", "90m", "1h30m", "1h30" (minutes implied after hours), "45s", "2d" → milliseconds; null if not one. */
export function durationMs(text: string): number | null {
  const t = text.trim().toLowerCase();
  const hm = /^(\d+)h(\d{1,2})$/.exec(t);
  if (hm) return Number(hm[1]) * UNIT_MS.h + Number(hm[2]) * UNIT_MS.m;
  if (!/^(\d+(?:\.\d+)?(?:d|h|min|m|s))+$/.test(t)) return null;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(d|h|min|m|s)/g))
    ms += Number(n) * UNIT_MS[unit as Unit];
  return Math.round(ms);
}

/** A duration flag (--for, --timeout): a refusal names the flag and shows the accepted forms. */
export function parseDuration(flag: string, text: string, maxMs?: number): Parsed<number> {
  const ms = durationMs(text);
  if (ms === null) {
    const hint = /^\d+$/.test(text.trim()) ? " (give a unit)" : "";
    return bad(`--${flag} must be a duration like 90m, 3h, 1h30m or 2d${hint} (got "${text}")`);
  }
  if (ms <= 0) return bad(`--${flag} must be longer than 0 (got "${text}")`);
  if (maxMs !== undefined && ms > maxMs)
    return bad(`--${flag} must be at most ${maxMs / 3_600_000} h (got "${text}")`);
  return ok(ms);
}
