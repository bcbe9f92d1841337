// Rollouts on screen: the one-line progress of a delivery to many lamps ("Anfa: 1,204 lamps — applied 1,180 ·
// pending 20 · rejected 4"), the list of recent rollouts, one rollout's page, and its deliveries.
import { type DeliveryState, zeroDeliveryCounts } from "../../contract/schedule.ts";
import type { Delivery, DeliveryCounts, Rollout, RolloutSummary } from "../api-types.ts";
import { fields, oneLine, table, truncate } from "./table.ts";
import { localDateTime } from "./time.ts";

/** 1204 → "1,204": thousands are what an operator counts lamps in. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** "1 lamp", "1,204 lamps". */
export function lamps(n: number): string {
  return `${count(n)} ${n === 1 ? "lamp" : "lamps"}`;
}

/** Always shown, then the others only when some lamp is in them. */
const ALWAYS: readonly DeliveryState[] = ["applied", "pending", "rejected"];
const ORDER: readonly DeliveryState[] = [
  "applied",
  "delivered",
  "pending",
  "rejected",
  "expired",
  "superseded",
];

export function sumCounts(list: readonly Pick<Rollout, "counts">[]): DeliveryCounts {
  const sum = zeroDeliveryCounts();
  for (const r of list) for (const s of ORDER) sum[s] += r.counts?.[s] ?? 0;
  return sum;
}

/** "applied 1,180 · pending 20 · rejected 4" (delivered, expired, superseded when not 0). */
export function formatCounts(c: DeliveryCounts): string {
  return ORDER.filter((s) => ALWAYS.includes(s) || c[s] > 0)
    .map((s) => `${s} ${count(c[s])}`)
    .join(" · ");
}

/** "Anfa: 1,204 lamps — applied 1,180 · pending 20 · rejected 4", summed over the rollouts of one change. */
export function progressLine(label: string, list: readonly Rollout[]): string {
  const total = list.reduce((n, r) => n + r.total, 0);
  const many = list.length > 1 ? ` in ${list.length} rollouts` : "";
  return `${label}: ${lamps(total)}${many} — ${formatCounts(sumCounts(list))}`;
}

/** The lamps a rollout has not reached for good yet: waiting to be sent, or sent without an ack. */
export function openCount(c: DeliveryCounts): number {
  return c.pending + c.delivered;
}

/** "rollout 12: calendar midnight-dim v37 to 1,204 lamps". */
export function summaryLine(r: RolloutSummary): string {
  const what =
    r.kind === "calendar"
      ? `calendar ${r.calendar_id ?? "factory default"}${r.version !== null ? ` v${r.version}` : ""}`
      : `${r.kind === "override" ? "override" : "cancel of override"} ${r.override_id ?? ""}`.trimEnd();
  return `rollout ${r.id}: ${what} to ${lamps(r.total)}`;
}

function targetText(t: Rollout["target"]): string {
  if (!t) return "";
  if (t.ids) return t.ids.length === 1 ? `device ${t.ids[0]}` : `${t.ids.length} devices`;
  return `${t.type} ${t.id ?? ""}`.trim();
}

function carries(r: Rollout): string {
  if (r.kind === "calendar")
    return `${r.calendar_id ?? "factory default"}${r.version !== null ? ` v${r.version}` : ""}`;
  return r.override_id ?? "";
}

/** The rollouts list, newest first as the API sends them. */
export function formatRolloutList(list: readonly Rollout[]): string {
  return table(
    ["id", "created", "kind", "carries", "cause", "target", "lamps", "progress", "by"],
    list.map((r) => [
      String(r.id),
      localDateTime(r.created_at),
      r.kind,
      carries(r),
      r.cause ?? "",
      targetText(r.target),
      count(r.total),
      r.done ? `done: ${formatCounts(r.counts)}` : formatCounts(r.counts),
      r.created_by ?? "",
    ]),
  );
}

/** One rollout's page: what, for whom, how far, and a sample of the refusals. */
export function formatRollout(r: Rollout): string {
  const lines = [
    `Rollout ${r.id}: ${r.kind} ${carries(r)}`.trimEnd(),
    fields([
      ["cause", r.cause],
      ["target", targetText(r.target) || undefined],
      ["created", `${localDateTime(r.created_at)}${r.created_by ? ` by ${r.created_by}` : ""}`],
      ["lamps", count(r.total)],
      ["progress", `${formatCounts(r.counts)}${r.done ? " (done)" : ""}`],
    ]),
  ];
  if (r.rejected_sample?.length) lines.push("Rejected (sample):", formatRejected(r.rejected_sample));
  return lines.join("\n");
}

export function formatRejected(sample: Rollout["rejected_sample"]): string {
  return table(
    ["device", "reason", "detail"],
    sample.map((s) => [s.device_id, s.reason ?? "", s.detail ? truncate(oneLine(s.detail), 80) : ""]),
  );
}

/** A page of deliveries: device, state and since when, how many sends, the lamp's reason. */
export function formatDeliveries(list: readonly Delivery[]): string {
  return table(
    ["device", "state", "since", "sends", "reason", "detail"],
    list.map((d) => [
      d.device_id,
      d.state,
      localDateTime(d.state_at),
      String(d.attempts),
      d.reason ?? "",
      d.detail ? truncate(oneLine(d.detail), 60) : "",
    ]),
  );
}
