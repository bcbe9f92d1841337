// Programs, calendars, groups and assignments on screen. Switch points and rules are printed in the same short
// forms the flags take (commands/schedule-syntax.ts), so what `show` prints can be typed back.
import type {
  Assignment,
  Calendar,
  Group,
  GroupMember,
  PreviewNight,
  Program,
  SwitchInstant,
} from "../api-types.ts";
import { formatRule, formatSwitchPoint } from "../commands/schedule-syntax.ts";
import { fields, oneLine, table, truncate } from "./table.ts";
import { localDateTime, localTime } from "./time.ts";

const changed = (r: { updated_at: string; updated_by?: string }) =>
  `${localDateTime(r.updated_at)}${r.updated_by ? ` by ${r.updated_by}` : ""}`;

export function formatProgramList(list: readonly Program[]): string {
  return table(
    ["id", "name", "switch points", "rev", "updated"],
    list.map((p) => [
      p.id,
      truncate(p.name, 40),
      p.switch_points.map(formatSwitchPoint).join("  "),
      String(p.revision),
      changed(p),
    ]),
  );
}

/** "sunset+10" → "sunset + 10 min", "00:00" as is: the AT column of a program. */
function atText(p: Program["switch_points"][number]): string {
  if (!p.offset_min) return p.at;
  return `${p.at} ${p.offset_min > 0 ? "+" : "−"} ${Math.abs(p.offset_min)} min`;
}

export function formatProgram(p: Program & { calendars?: string[] }): string {
  return [
    `${p.id}  ${p.name}  (revision ${p.revision})`,
    fields([
      ["description", p.description ?? undefined],
      ["created", `${localDateTime(p.created_at)} by ${p.created_by}`],
      ["updated", changed(p)],
      ["used by", p.calendars ? p.calendars.join(", ") || "no calendar" : undefined],
    ]),
    table(
      ["at", "level", "ramp"],
      p.switch_points.map((s) => [atText(s), `${s.level_pct} %`, s.ramp_s ? `${s.ramp_s} s` : ""]),
    ),
    `As flags: ${p.switch_points.map((s) => `--point "${formatSwitchPoint(s)}"`).join(" ")}`,
  ].join("\n");
}

export function formatCalendarList(list: readonly Calendar[]): string {
  return table(
    ["id", "name", "rules", "default", "rev", "updated"],
    list.map((c) => [
      c.id,
      truncate(c.name, 40),
      String(c.rules.length),
      c.default_program,
      String(c.revision),
      changed(c),
    ]),
  );
}

export function formatCalendar(
  c: Calendar & { assignments?: { type: string; id: string }[]; lamps?: number },
): string {
  const lines = [
    `${c.id}  ${c.name}  (revision ${c.revision})`,
    fields([
      ["description", c.description ?? undefined],
      ["default", c.default_program],
      ["created", `${localDateTime(c.created_at)} by ${c.created_by}`],
      ["updated", changed(c)],
      [
        "assigned to",
        c.assignments ? c.assignments.map((a) => `${a.type} ${a.id}`).join(", ") || "nothing" : undefined,
      ],
      ["lamps", c.lamps === undefined ? undefined : `${c.lamps} resolved to it now`],
    ]),
  ];
  if (c.rules.length === 0) lines.push("No rules: every night runs the default program.");
  else {
    lines.push("Rules, first match wins:");
    lines.push(
      table(
        ["#", "program", "when", "name"],
        c.rules.map((r, i) => [
          String(i + 1),
          r.program,
          formatRule({ ...r, name: undefined }).replace(/^program=[^;]*;?/, ""),
          r.name ?? "",
        ]),
      ),
    );
  }
  return lines.join("\n");
}

/** "00:00 50%↘300s": a switch instant in local time, with its ramp. */
export function instant(s: SwitchInstant): string {
  const ramp = s.ramp_s ? `↘${s.ramp_s}s` : "";
  return `${localTime(s.at).slice(0, 5)} ${s.level_pct}%${ramp}`;
}

export function formatPreview(nights: readonly PreviewNight[]): string {
  return table(
    ["night", "rule", "program", "sunset", "sunrise", "switches (local time, level)"],
    nights.map((n) => [
      `${n.night} ${n.weekday ?? ""}`.trimEnd(),
      n.rule === null ? "default" : `${n.rule.index + 1}${n.rule.name ? ` ${n.rule.name}` : ""}`,
      n.program,
      n.sunset ? localTime(n.sunset.at).slice(0, 5) : "",
      n.sunrise ? localTime(n.sunrise.at).slice(0, 5) : "",
      n.switches.map(instant).join("  "),
    ]),
  );
}

export function formatGroupList(list: readonly Group[]): string {
  return table(
    ["id", "name", "members", "calendar", "updated"],
    list.map((g) => [
      g.id,
      truncate(g.name, 40),
      String(g.member_count),
      g.calendar_id ?? "",
      localDateTime(g.updated_at),
    ]),
  );
}

export function formatGroup(g: Group & { members?: GroupMember[] }): string {
  const lines = [
    `${g.id}  ${g.name}`,
    fields([
      ["description", g.description ? oneLine(g.description) : undefined],
      ["calendar", g.calendar_id ?? "none assigned"],
      ["created", `${localDateTime(g.created_at)} by ${g.created_by}`],
      ["members", String(g.members?.length ?? g.member_count)],
    ]),
  ];
  if (g.members && g.members.length > 0) {
    lines.push(
      table(
        ["device", "kind", "district", "status", "added"],
        g.members.map((m) => [
          m.device_id,
          m.kind,
          m.district,
          m.status,
          `${localDateTime(m.added_at)} by ${m.added_by}`,
        ]),
      ),
    );
  }
  return lines.join("\n");
}

export function formatAssignments(list: readonly Assignment[]): string {
  return table(
    ["target", "id", "calendar", "assigned"],
    list.map((a) => [
      a.target.type,
      a.target.id,
      a.calendar,
      `${localDateTime(a.assigned_at)} by ${a.assigned_by}`,
    ]),
  );
}
