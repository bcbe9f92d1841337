// Flags several schedule verbs share: where (--district | --group | --device), when (a local time in Casablanca),
// and id lists. Times without a zone are Casablanca wall-clock time, because that is
// what an operator means by "until 23:30"; the zone comes from the IANA database via luxon (it moves by an
// hour around Ramadan, so never a fixed offset).
import { DateTime } from "luxon";
import { CITY, DISTRICT_NAMES } from "../../contract/city.ts";
import type { AssignmentTarget } from "../../contract/schedule.ts";
import { type OptionSpec, str, type Values } from "../args.ts";
import type { Parsed } from "./schedule-syntax.ts";

const ZONE = CITY.timeZone;

/** --district / --group / --device, exactly one of them. */
export const TARGET_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  district: { type: "string", value: "<name>", description: `district (${DISTRICT_NAMES.join(", ")})` },
  group: { type: "string", value: "<id>", description: "group id" },
  device: { type: "string", value: "<id>", description: "streetlight id" },
};

/** "anfa" → "Anfa": district names are matched without regard to case, sent as the contract spells them. */
export function districtName(text: string): string | null {
  const t = text.trim().toLowerCase();
  return DISTRICT_NAMES.find((d) => d.toLowerCase() === t) ?? null;
}

/** "a, b,,a" → ["a", "b"]. */
export function idList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    ),
  ];
}

/** The one target of assign / unassign / compliance (and of override, where --device may list several). */
export function parseTarget(values: Values, opts: { manyDevices?: boolean } = {}): Parsed<AssignmentTarget> {
  const given = (["district", "group", "device"] as const).filter((k) => str(values, k) !== undefined);
  if (given.length !== 1) {
    return {
      ok: false,
      message:
        given.length === 0
          ? "give one of --district, --group, --device"
          : `give only one of --district, --group, --device (got ${given.map((g) => `--${g}`).join(", ")})`,
    };
  }
  const type = given[0] as AssignmentTarget["type"];
  const raw = (str(values, type) as string).trim();
  if (type === "district") {
    const name = districtName(raw);
    if (!name)
      return { ok: false, message: `--district must be one of ${DISTRICT_NAMES.join(", ")} (got "${raw}")` };
    return { ok: true, value: { type, id: name } };
  }
  if (type === "device" && !opts.manyDevices && raw.includes(","))
    return { ok: false, message: `--device takes one id here (got "${raw}")` };
  return { ok: true, value: { type, id: raw } };
}

/** "district Anfa", "group rue-ibnou-rochd", "device sl-anfa-0042". */
export function describeTarget(t: { type: string; id?: string; ids?: readonly string[] }): string {
  if (t.ids) return t.ids.length === 1 ? `device ${t.ids[0]}` : `${t.ids.length} devices`;
  return `${t.type} ${t.id ?? ""}`.trim();
}

/**
 * A time flag: an ISO time with a zone (2026-11-28T22:30:00Z, …+01:00) as is; a local date-time
 * (2026-11-28T22:30, "2026-11-28 22:30") in Casablanca; a bare HH:MM as its next occurrence after `now`.
 */
export function parseLocalTime(flag: string, text: string, now: Date): Parsed<Date> {
  const t = text.trim();
  const badTime: Parsed<Date> = {
    ok: false,
    message: `--${flag} must be an ISO time (2026-11-28T23:30, local Casablanca time unless it has a zone) or HH:MM (got "${text}")`,
  };
  const hhmm = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (hhmm) {
    const [h, m] = [Number(hhmm[1]), Number(hhmm[2])];
    if (h > 23 || m > 59) return badTime;
    const today = DateTime.fromJSDate(now, { zone: ZONE }).set({
      hour: h,
      minute: m,
      second: 0,
      millisecond: 0,
    });
    const next = today.toMillis() <= now.getTime() ? today.plus({ days: 1 }) : today;
    return { ok: true, value: next.toJSDate() };
  }
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}/.test(t)) return badTime;
  const iso = t.replace(" ", "T");
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(iso);
  const dt = hasZone ? DateTime.fromISO(iso, { setZone: true }) : DateTime.fromISO(iso, { zone: ZONE });
  return dt.isValid ? { ok: true, value: dt.toJSDate() } : badTime;
}
