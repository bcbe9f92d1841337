// `schedule DEVICE`: one lamp's schedule as the platform sees it — which calendar applies and why (the most
// specific assignment, and the ones it shadows), whether the lamp has it, the override in effect, the level it
// should burn at now, and tonight's switch times in local time.
import type { DeviceSchedule } from "../api-types.ts";
import { flag } from "../args.ts";
import { type Command, devicePath, EXIT, failure, printJson } from "../context.ts";
import { formatOverride } from "../format/override.ts";
import { fields, table } from "../format/table.ts";
import { localDateTime, localTime, when } from "../format/time.ts";

/** "assigned to district Anfa (2026-11-20 10:02 by eng-fatima)", "factory default (no assignment)". */
function why(r: DeviceSchedule["resolution"]): string {
  if (r.level === "factory" || r.calendar_id === null)
    return "no assignment reaches it: the lamp's factory default";
  const by = [r.assigned_at ? localDateTime(r.assigned_at) : "", r.assigned_by ? `by ${r.assigned_by}` : ""]
    .filter(Boolean)
    .join(" ");
  return `assigned to ${r.level === "device" ? "the device itself" : `${r.level} ${r.target_id ?? ""}`}${by ? ` (${by})` : ""}`;
}

function source(f: DeviceSchedule["expected_from"]): string {
  return f.kind === "override" ? `override ${f.id}` : `calendar version ${f.version}, program ${f.program}`;
}

export function formatDeviceSchedule(s: DeviceSchedule, now: Date): string {
  const r = s.resolution;
  const d = s.delivery;
  const lines = [
    `${s.device_id}: calendar ${r.calendar_id ?? "factory default"}`,
    fields([
      ["why", why(r)],
      [
        "shadowed",
        r.shadowed?.length
          ? r.shadowed.map((x) => `${x.level} ${x.target_id} → ${x.calendar_id}`).join("; ")
          : undefined,
      ],
      ["lamp", s.online ? "online" : "offline"],
      [
        "calendar sent",
        d
          ? `version ${d.version} ${d.state} since ${when(d.state_at, now)}${d.reason ? ` (${d.reason}${d.detail ? `: ${d.detail}` : ""})` : ""}, rollout ${d.rollout_id}`
          : "never: the lamp runs its factory default",
      ],
      ["override", s.override ? formatOverride(s.override, now, true) : "none"],
      ["level now", `${s.level_now} % expected at ${localTime(now)}, from ${source(s.expected_from)}`],
    ]),
  ];
  const t = s.tonight;
  if (t) {
    const rule =
      t.rule_index === null
        ? "no rule matched: default program"
        : `rule ${t.rule_index + 1}${t.rule_name ? ` "${t.rule_name}"` : ""}`;
    lines.push("", `Night of ${t.night}: program ${t.program} (${rule})`);
    lines.push(
      table(
        ["local time", "level", "ramp", "point"],
        t.switches.map((x) => [
          localDateTime(x.at).slice(0, 16),
          `${x.level_pct} %`,
          x.ramp_s ? `${x.ramp_s} s` : "",
          x.label ?? "",
        ]),
      ),
    );
  }
  return lines.join("\n");
}

const schedule: Command = {
  name: "schedule",
  summary:
    "a lamp's schedule: which calendar and why, its delivery, override, level now, tonight's switch times",
  positionals: ["DEVICE"],
  json: true,
  details: "Example: schedule sl-anfa-0042",
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<DeviceSchedule>(
      "GET",
      devicePath(positionals[0] as string, "/schedule"),
    );
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatDeviceSchedule(res.body, ctx.now()));
    return EXIT.ok;
  },
};

export const deviceScheduleCommands: readonly Command[] = [schedule];
