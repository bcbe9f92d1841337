// Overrides on screen: what level, for which lamps, from when to when (local time), why, and whether it is in
// effect now.
import type { Override, OverrideTarget, Rollout } from "../api-types.ts";
import { formatCounts } from "./rollout.ts";
import { fields, oneLine, table, truncate } from "./table.ts";
import { localDateTime } from "./time.ts";

export function targetText(t: OverrideTarget | null): string {
  if (!t) return "";
  if (t.type === "devices") return t.ids.length === 1 ? `device ${t.ids[0]}` : `${t.ids.length} devices`;
  return `${t.type} ${t.id}`;
}

/** What a progress line of the override's delivery is about: "Anfa", "bd-anfa", "sl-anfa-0042", "3 devices". */
export function overrideLabel(o: Override): string {
  const t = o.target;
  if (!t) return `override ${o.id}`;
  if (t.type === "devices") return t.ids.length === 1 ? (t.ids[0] as string) : `${t.ids.length} devices`;
  return t.id;
}

/** The API's status at the time of the answer; worked out from the times when it is missing. */
export function overrideState(
  o: Pick<Override, "status" | "cancelled_at" | "starts_at" | "expires_at">,
  now: Date,
): Override["status"] {
  if (o.status) return o.status;
  if (o.cancelled_at) return "cancelled";
  const t = now.getTime();
  if (Date.parse(o.expires_at) <= t) return "expired";
  return Date.parse(o.starts_at) <= t ? "active" : "scheduled";
}

const progressText = (r: Rollout | null | undefined) =>
  r?.counts ? `rollout ${r.id}: ${formatCounts(r.counts)}${r.done ? " (done)" : ""}` : undefined;

/** "2026-11-28 21:00 → 23:30" (the end's date only when it differs). */
function window(o: Override): string {
  const a = localDateTime(o.starts_at).slice(0, 16);
  const b = localDateTime(o.expires_at).slice(0, 16);
  return `${a} → ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b}`;
}

/**
 * `short`: the line printed when it was just set ("ab12: 100 % on group bd-anfa, 2026-11-28 21:00 → 23:30, …");
 * else the override's page with its delivery.
 */
export function formatOverride(
  o: Override & { progress?: Rollout | null; rollout?: Rollout | null },
  now: Date,
  short: boolean,
): string {
  const head = `${o.id}: ${o.level_pct} % on ${targetText(o.target)}, ${window(o)} local${o.ramp_s ? `, ramp ${o.ramp_s} s` : ""}`;
  if (short) return `${head} (${overrideState(o, now)}): ${oneLine(o.reason)}`;
  return [
    head,
    fields([
      ["state", overrideState(o, now)],
      ["reason", oneLine(o.reason)],
      ["set", `${localDateTime(o.created_at)} by ${o.created_by}`],
      [
        "cancelled",
        o.cancelled_at
          ? `${localDateTime(o.cancelled_at)}${o.cancelled_by ? ` by ${o.cancelled_by}` : ""}`
          : undefined,
      ],
      ["delivery", progressText(o.progress)],
      ["cancel", progressText(o.cancel_progress)],
    ]),
  ].join("\n");
}

export function formatOverrideList(list: readonly Override[], now: Date): string {
  return table(
    ["id", "target", "level", "from → until (local)", "state", "by", "reason"],
    list.map((o) => [
      o.id,
      targetText(o.target),
      `${o.level_pct} %`,
      window(o),
      overrideState(o, now),
      o.created_by,
      truncate(oneLine(o.reason), 50),
    ]),
  );
}
