// A device on screen: its page (`show`), the fleet table (`list`), its history, and its credentials.
import type { Credentials, DevicePage, DeviceRecord, HistoryEvent, ListedDevice } from "../api-types.ts";
import { formatRun } from "./run.ts";
import { fields, oneLine, table, truncate } from "./table.ts";
import { localDateTime, when } from "./time.ts";

const LIVENESS_WORDS: Record<string, string> = {
  never_seen: "never seen (has not connected yet)",
  online: "online",
  silent: "silent (connected, but no reading for three of its intervals)",
  offline: "offline",
};

function deviceFacts(d: DeviceRecord): [string, string | undefined][] {
  const watts =
    d.kind === "streetlight"
      ? `LED ${d.led_watts ?? "?"} W, replaced lamp ${d.legacy_watts ?? "?"} W`
      : undefined;
  return [
    ["position", `${d.lat}, ${d.lon} (${d.district})`],
    ["installed", d.installed_at],
    ["interval", `${d.report_interval_s} s`],
    ["luminaire", watts],
    ["serial", d.serial ?? undefined],
  ];
}

export function formatDevicePage(page: DevicePage, now: Date): string {
  const d = page.device;
  const l = page.liveness;
  const out: string[] = [`${d.id}  ${d.kind} in ${d.district}  [${d.status}]`, ""];
  let liveness = LIVENESS_WORDS[l.state] ?? l.state;
  if (l.state === "offline" && l.disconnected_at) {
    liveness += ` since ${when(l.disconnected_at, now)}${l.disconnect_reason ? `: ${l.disconnect_reason}` : ""}`;
  } else if (l.online && l.connected_at) liveness += `, connected ${when(l.connected_at, now)}`;
  // last_reading is null both when there is none and when InfluxDB could not be asked (then listed in unavailable).
  const reading = page.last_reading
    ? `${when(page.last_reading.time, now)}  ${formatFields(page.last_reading.fields)}`
    : l.last_reading_at
      ? when(l.last_reading_at, now)
      : "none";
  const retained = l.state_online === null ? undefined : l.state_online ? "online" : "offline (last will)";
  const { generation, created_at } = page.credential;
  out.push(
    fields([
      ["status", d.status],
      ["liveness", liveness],
      ["last seen", when(l.last_seen_at, now)],
      ["last reading", reading],
      ["retained state", retained],
      ...deviceFacts(d),
      [
        "credential",
        generation > 0
          ? `generation ${generation}${created_at ? `, issued ${when(created_at, now)}` : ""}`
          : "none live (revoked or decommissioned)",
      ],
      ["registered", localDateTime(d.created_at)],
    ]),
  );
  out.push("", "Commissioning");
  out.push(page.commissioning ? indent(formatRun(page.commissioning)) : "  no run yet");
  out.push("", "Rejected readings");
  out.push(page.rejects ? indent(formatRejects(page.rejects, now)) : "  not available");
  if (page.unavailable && page.unavailable.length > 0) {
    out.push("", "Not available right now:", ...page.unavailable.map((u) => `  ${u}`));
  }
  return out.join("\n");
}

function formatRejects(rejects: NonNullable<DevicePage["rejects"]>, now: Date): string {
  if (rejects.total === 0) return `none since ${when(rejects.since, now)}`;
  const reasons = Object.entries(rejects.by_reason)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(", ");
  const lines = [`${rejects.total} since ${when(rejects.since, now)}${reasons ? `: ${reasons}` : ""}`];
  if (rejects.latest.length > 0) {
    lines.push(
      table(
        ["at", "reason", "excerpt"],
        rejects.latest.map((r) => [localDateTime(r.at), r.reason, truncate(oneLine(r.excerpt), 70)]),
      ),
    );
  }
  return lines.join("\n");
}

/** "power_w=42.1 dim_pct=100" */
export function formatFields(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === "number" ? String(Math.round(v * 100) / 100) : String(v)}`)
    .join(" ");
}

export function formatDeviceList(devices: readonly ListedDevice[], now: Date): string {
  return table(
    ["id", "kind", "district", "status", "liveness", "last seen"],
    devices.map((d) => [
      d.id,
      d.kind,
      d.district,
      d.status,
      d.liveness ?? "",
      d.last_seen_at ? when(d.last_seen_at, now) : "never",
    ]),
  );
}

export function formatHistory(events: readonly HistoryEvent[]): string {
  if (events.length === 0) return "no events";
  return table(
    ["at", "actor", "action", "detail"],
    events.map((e) => [
      localDateTime(e.at),
      e.actor,
      e.action,
      truncate(e.detail === null || e.detail === undefined ? "" : JSON.stringify(e.detail), 100),
    ]),
  );
}

/** The credentials block, shown once. `secretShown: false` when the secret went to a file instead. */
export function formatCredentials(c: Credentials, secretShown = true): string {
  return [
    `Credentials of ${c.id} (generation ${c.generation})${secretShown ? ", shown once: store the secret now" : ""}`,
    fields([
      ["mqtt url", c.mqtt_url],
      ["client id", c.client_id],
      ["username", c.username],
      ["secret", secretShown ? c.secret : "(written to the file, not shown)"],
      ["publish", c.topics.publish.join(`\n${" ".repeat(13)}`)],
      ["subscribe", c.topics.subscribe.join(", ")],
    ]),
  ].join("\n");
}

export function formatDeviceLine(d: DeviceRecord): string {
  return `${d.id}: ${d.kind} in ${d.district}, status ${d.status}, credential generation ${d.credential_generation}`;
}

function indent(text: string, by = "  "): string {
  return text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");
}
