// How a simulated device answers the platform's commands (contract: services/contract/commands.ts):
//   city/v1/{kind}/{id}/cmd → one command → one ack on city/v1/{kind}/{id}/ack (QoS 1), naming the command's id.
// A pure decision over the payload, the device's kind, its lamp (streetlights) and the device's time; the
// device runtime publishes the ack. Outcomes, after the contract's ACK_REASONS:
//   identify  streetlight: blink cycle, ok | failed hardware_fault (lamp failure); other kinds: ok (the box's
//             status LED blinks, readings are unaffected)
//   dim       streetlight: override, ok with level_pct | failed hardware_fault; other kinds: rejected unsupported
//   a command the contract does not know (cmd "reboot")          rejected unsupported
//   a known command failing the contract's schema (level 150)    rejected invalid, detail naming the fields
//   during a backfill (the controller is uploading its history)  rejected busy
// A payload without a usable id cannot be answered (the ack must name it): it is dropped and logged.
import {
  type AckReason,
  type CommandAck,
  type CommandName,
  commandId,
  type DeviceCommand,
  deviceCommand,
} from "../services/contract/commands.ts";
import type { DeviceKind } from "../services/contract/topics.ts";
import type { Logger } from "../services/lib/log.ts";
import type { Clock } from "./clock.ts";
import type { LampControl } from "./models/model.ts";
import type { TruthAccumulator } from "./truth.ts";

/** The commands the contract defines (its discriminated union's tags). */
const KNOWN: readonly string[] = deviceCommand.options.map((o) => o.shape.cmd.value satisfies CommandName);

export type CommandOutcome =
  | { answered: true; ack: CommandAck; cmd: string }
  | { answered: false; detail: string };

export type CommandTarget = {
  kind: DeviceKind;
  /** The lamp of a streetlight. */
  lamp: LampControl | undefined;
  /** Refuse everything with `busy` (a backfill in progress). */
  busy: boolean;
};

export function handleCommand(payload: string, target: CommandTarget, nowMs: number): CommandOutcome {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { answered: false, detail: "not JSON" };
  }
  const id = commandId.safeParse((raw as { id?: unknown } | null)?.id);
  if (!id.success) return { answered: false, detail: "no command id to answer" };
  const cmdName = String((raw as { cmd?: unknown }).cmd ?? "").slice(0, 64);
  const answer = (status: CommandAck["status"], reason?: AckReason, detail?: string, levelPct?: number) => ({
    answered: true as const,
    cmd: cmdName,
    ack: {
      id: id.data,
      status,
      ...(reason ? { reason } : {}),
      ...(detail ? { detail: detail.slice(0, 500) } : {}),
      ts: nowMs,
      ...(levelPct === undefined ? {} : { level_pct: Math.round(levelPct * 10) / 10 }),
    },
  });
  if (target.busy) return answer("rejected", "busy", "uploading its history (backfill)");
  const parsed = deviceCommand.safeParse(raw);
  if (!parsed.success) {
    if (typeof (raw as { cmd?: unknown }).cmd === "string" && !KNOWN.includes(cmdName))
      return answer("rejected", "unsupported", `unknown command "${cmdName}"`);
    const fields = parsed.error.issues.map((i) => `${i.path.join(".") || "(command)"}: ${i.message}`);
    return answer("rejected", "invalid", fields.join("; "));
  }
  return carryOut(parsed.data, target, nowMs, answer);
}

type Answer = (
  status: CommandAck["status"],
  reason?: AckReason,
  detail?: string,
  levelPct?: number,
) => CommandOutcome;

function carryOut(cmd: DeviceCommand, target: CommandTarget, nowMs: number, answer: Answer): CommandOutcome {
  const { lamp } = target;
  if (target.kind !== "streetlight" || !lamp) {
    switch (cmd.cmd) {
      case "identify":
        return answer("ok");
      case "dim":
      case "override":
      case "cancel_override":
        return answer("rejected", "unsupported", `a ${target.kind} device has no lamp to dim`);
    }
  }
  if (lamp.failedAt(nowMs)) return answer("failed", "hardware_fault", "lamp or driver failure");
  switch (cmd.cmd) {
    case "identify":
      lamp.identify(nowMs, cmd.duration_s * 1000);
      return answer("ok");
    case "dim": {
      const level = lamp.dim({
        levelPct: cmd.level_pct,
        rampMs: cmd.ramp_s * 1000,
        fromMs: nowMs,
        untilMs: cmd.duration_s === undefined ? Number.POSITIVE_INFINITY : nowMs + cmd.duration_s * 1000,
      });
      return answer("ok", undefined, undefined, level);
    }
    case "override":
    case "cancel_override":
      // Issue 4: the schedule handler (simulators/schedule.ts) carries these out.
      return answer("rejected", "unsupported", "overrides are not implemented yet");
  }
}

export type ResponderDeps = {
  kind: DeviceKind;
  lamp: LampControl | undefined;
  clock: Clock;
  truth: Pick<TruthAccumulator, "command">;
  log: Logger;
};

/** The device runtime's side: decide, count, log with the command's id, publish the ack (QoS 1). */
export function createResponder(deps: ResponderDeps) {
  const { log } = deps;
  return (payload: string, busy: boolean, publish: (ack: string) => Promise<void>): void => {
    const out = handleCommand(payload, { kind: deps.kind, lamp: deps.lamp, busy }, deps.clock.now());
    if (!out.answered) {
      deps.truth.command("dropped");
      log.warn({ detail: out.detail, payload: payload.slice(0, 200) }, "command dropped");
      return;
    }
    const { ack } = out;
    deps.truth.command(ack.status);
    log.info(
      { commandId: ack.id, cmd: out.cmd, status: ack.status, reason: ack.reason, levelPct: ack.level_pct },
      `command ${out.cmd}: ${ack.status}`,
    );
    publish(JSON.stringify(ack)).catch((err: Error) => {
      log.debug({ err: err.message, commandId: ack.id }, "ack not acknowledged");
    });
  };
}
