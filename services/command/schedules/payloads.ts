// What a rollout puts on the wire: one payload per rollout, serialised once and sent as is to each of its lamps
// (re-sends included, so a lamp that gets it twice sees the same id and version and simply acks again).
//   calendar         …/calendar, retained: the calendar document; the lamp acks "calendar-{version}"
//   override         …/cmd: an override command with id "ovr-{overrideId}"
//   cancel_override  …/cmd: a cancel_override command with id "cxl-{overrideId}"
import type { DatabaseSync } from "node:sqlite";
import { type DeviceCommand, deviceCommand } from "../../contract/commands.ts";
import { type CalendarDocument, calendarAckId, type RolloutKind } from "../../contract/schedule.ts";
import { getDocument } from "../../registry/schedules/documents.ts";
import type { OverrideRow } from "../../registry/schedules/overrides.ts";

export type RolloutPayload = {
  rolloutId: number;
  kind: RolloutKind;
  /** The device channel it goes on. */
  channel: "calendar" | "cmd";
  retain: boolean;
  /** The JSON as sent. */
  payload: string;
  /** The id the lamp's ack names. */
  ackId: string;
  /** Calendars: the document version (an ack names it too). */
  version: number | null;
  /** Overrides and their cancels: never sent at or after this (epoch ms). */
  expiresAtMs: number | null;
};

export const overrideCommandId = (overrideId: string) => `ovr-${overrideId}`;
export const cancelCommandId = (overrideId: string) => `cxl-${overrideId}`;

export function calendarPayload(rolloutId: number, doc: CalendarDocument): RolloutPayload {
  return {
    rolloutId,
    kind: "calendar",
    channel: "calendar",
    // Retained, so that a lamp that was offline or reboots gets its calendar on subscribe [MQTT-3.3.1-6].
    retain: true,
    payload: JSON.stringify(doc),
    ackId: calendarAckId(doc.version),
    version: doc.version,
    expiresAtMs: null,
  };
}

/** The override command for its lamps (the same for all: it names the platform's override id). */
export function overrideCommand(o: OverrideRow): DeviceCommand {
  return deviceCommand.parse({
    id: overrideCommandId(o.id),
    cmd: "override",
    override_id: o.id,
    level_pct: o.level_pct,
    ramp_s: o.ramp_s,
    starts_at: o.starts_at,
    expires_at: o.expires_at,
    reason: o.reason,
    issued_at: o.created_at,
  });
}

export function overridePayload(rolloutId: number, o: OverrideRow): RolloutPayload {
  return {
    rolloutId,
    kind: "override",
    channel: "cmd",
    // Not retained: a command is for the session it reaches; a lamp that was away gets it when it reconnects.
    retain: false,
    payload: JSON.stringify(overrideCommand(o)),
    ackId: overrideCommandId(o.id),
    version: null,
    expiresAtMs: Date.parse(o.expires_at),
  };
}

export function cancelPayload(rolloutId: number, o: OverrideRow, cancelledAt: string): RolloutPayload {
  const command = deviceCommand.parse({
    id: cancelCommandId(o.id),
    cmd: "cancel_override",
    override_id: o.id,
    issued_at: cancelledAt,
  });
  return {
    rolloutId,
    kind: "cancel_override",
    channel: "cmd",
    retain: false,
    payload: JSON.stringify(command),
    ackId: command.id,
    version: null,
    // After the override's own expiry there is nothing left to cancel.
    expiresAtMs: Date.parse(o.expires_at),
  };
}

/** A stored rollout's payload (after a restart, for its open rows); undefined when its rows refer to nothing. */
export function loadPayload(db: DatabaseSync, rolloutId: number): RolloutPayload | undefined {
  const r = db
    .prepare("SELECT kind, version, override_id FROM schedule_rollouts WHERE id = ?")
    .get(rolloutId) as { kind: RolloutKind; version: number | null; override_id: string | null } | undefined;
  if (!r) return undefined;
  if (r.kind === "calendar") {
    const doc = r.version === null ? undefined : getDocument(db, r.version);
    return doc && calendarPayload(rolloutId, doc);
  }
  const o = r.override_id
    ? (db.prepare("SELECT * FROM schedule_overrides WHERE id = ?").get(r.override_id) as
        | OverrideRow
        | undefined)
    : undefined;
  if (!o) return undefined;
  return r.kind === "override"
    ? overridePayload(rolloutId, o)
    : cancelPayload(rolloutId, o, o.cancelled_at ?? o.created_at);
}
