// Commands to devices and their acknowledgements (wire contract; see docs/contract.md).
//   city/v1/{kind}/{deviceId}/cmd  platform → device, QoS 1, one command object
//   city/v1/{kind}/{deviceId}/ack  device → platform, QoS 1, one ack object naming the command's id
// After TALQ's command model: a command sets a level (0–100 %) with an optional ramp and, for an override, a
// duration after which the lamp returns to its program; `identify` is TALQ's blink cycle for finding a lamp.
// Issue 4 adds `override` and `cancel_override` (dimming schedules' overrides; calendars travel retained on
// their own channel, contract/schedule.ts).
import { z } from "zod";

/** A command id: unique per command, echoed by the ack (the platform uses a UUID). */
export const commandId = z.string().min(1).max(64);

export const identifyCommand = z.object({
  id: commandId,
  cmd: z.literal("identify"),
  /** How long to blink, seconds. */
  duration_s: z.number().int().min(1).max(600).default(10),
  /** Platform time the command was issued, ISO 8601. */
  issued_at: z.string(),
});

export const dimCommand = z.object({
  id: commandId,
  cmd: z.literal("dim"),
  /** Light level to set, % of full output (0 = off). */
  level_pct: z.number().min(0).max(100),
  /** Ramp from the current level, seconds (0 = at once). */
  ramp_s: z.number().min(0).max(3600).default(0),
  /** Override duration: after it the lamp returns to its program; absent = until the next command. */
  duration_s: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
  /** Why (shown in audit trails): "commissioning test dim", "maintenance", … */
  reason: z.string().max(200).optional(),
  issued_at: z.string(),
});

/**
 * A scheduled override (TALQ override): `level_pct` from `starts_at` until `expires_at`, then back to the
 * program. The lamp holds one override: a newer one replaces the older at once (even one that starts later);
 * it refuses one whose `expires_at` has passed (`expired`) and is never late to end one.
 */
export const overrideCommand = z.object({
  id: commandId,
  cmd: z.literal("override"),
  /** The platform's override id (several lamps share it; `cancel_override` names it). */
  override_id: z.string().min(1).max(64),
  level_pct: z.number().min(0).max(100),
  ramp_s: z.number().int().min(0).max(3600).default(0),
  /** ISO 8601; the lamp applies the level from then (at once if it has passed). */
  starts_at: z.iso.datetime({ offset: true }),
  expires_at: z.iso.datetime({ offset: true }),
  reason: z.string().min(1).max(200),
  issued_at: z.string(),
});

/** Ends the lamp's override `override_id` now (ignored, acked ok, if the lamp holds another one or none). */
export const cancelOverrideCommand = z.object({
  id: commandId,
  cmd: z.literal("cancel_override"),
  override_id: z.string().min(1).max(64),
  issued_at: z.string(),
});

export const deviceCommand = z.discriminatedUnion("cmd", [
  identifyCommand,
  dimCommand,
  overrideCommand,
  cancelOverrideCommand,
]);
export type DeviceCommand = z.infer<typeof deviceCommand>;
export type DeviceCommandInput = z.input<typeof deviceCommand>;
export type CommandName = DeviceCommand["cmd"];

/** Why a device refused or failed a command. */
export const ACK_REASONS = {
  unsupported: "The device does not implement this command (e.g. a dim sent to an air-quality sensor).",
  invalid: "The command failed the device's own validation (bad level, duration, …).",
  hardware_fault:
    "The device accepted the command but its hardware could not carry it out (lamp or driver failure).",
  busy: "The device is in a state where it cannot act now (firmware update, …).",
  expired: "An override whose expires_at had passed when it arrived (never applied late).",
} as const;
export type AckReason = keyof typeof ACK_REASONS;

export const commandAck = z.object({
  /** The command's id. */
  id: commandId,
  /** `ok` = carried out (or started, for identify and ramps); otherwise the command had no effect. */
  status: z.enum(["ok", "rejected", "failed"]),
  reason: z.enum(Object.keys(ACK_REASONS) as [AckReason, ...AckReason[]]).optional(),
  detail: z.string().max(500).optional(),
  /** Device time of the ack, epoch ms. */
  ts: z.number(),
  /** For dim and override: the level now in effect, %. */
  level_pct: z.number().min(0).max(100).optional(),
});
export type CommandAck = z.infer<typeof commandAck>;
