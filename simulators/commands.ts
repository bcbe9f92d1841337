// How a simulated device answers the platform's commands (contract: services/contract/commands.ts):
//   city/v1/{kind}/{id}/cmd → one command → one ack on city/v1/{kind}/{id}/ack (QoS 1), naming the command's id.
// A pure decision over the payload, the device's kind, its lamp (streetlights) and the device's time; the
// device runtime publishes the ack. Outcomes, after the contract's ACK_REASONS:
//   identify  streetlight: blink cycle, ok | failed hardware_fault (lamp failure); other kinds: ok (the box's
//             status LED blinks, readings are unaffected)
//   dim       streetlight: override, ok with level_pct | failed hardware_fault; other kinds: rejected unsupported
//   override  streetlight (issue 4, TALQ override): fills the lamp's one override slot from starts_at (at once if
//             past) until expires_at, ok with the level now | rejected expired (never applied late) | rejected
//             invalid (expiry not after start) | failed hardware_fault; other kinds: rejected unsupported
//   cancel_override  streetlight: ends the override it names if the slot holds it, ok with the level now;
//             ok too if it holds another one or none (contract: ignored); other kinds: rejected unsupported
//   override and cancel_override are lost, no ack, for a share of messages (faults.scheduleMissRate): the
//   platform's retries recover them (firmware.ts)
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
import type { LampProfile } from "./firmware.ts";
import type { LampControl } from "./models/model.ts";
import { planOverride } from "./schedule.ts";
import type { OverrideEffect, TruthAccumulator } from "./truth.ts";

/** The commands the contract defines (its discriminated union's tags). */
const KNOWN: readonly string[] = deviceCommand.options.map((o) => o.shape.cmd.value satisfies CommandName);

export type CommandOutcome =
  | { answered: true; ack: CommandAck; cmd: string; override?: OverrideEffect }
  | { answered: false; detail: string; override?: Extract<OverrideEffect, "missed"> };

export type CommandTarget = {
  kind: DeviceKind;
  /** The lamp of a streetlight. */
  lamp: LampControl | undefined;
  /** Refuse everything with `busy` (a backfill in progress). */
  busy: boolean;
  /** A streetlight's message loss for override and cancel_override; none if absent. */
  profile?: LampProfile | undefined;
};

const SCHEDULE_COMMANDS: readonly string[] = ["override", "cancel_override"] satisfies CommandName[];

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
  // A lost message never reaches the controller's logic: no effect, no ack.
  if (SCHEDULE_COMMANDS.includes(cmdName) && target.profile?.miss())
    return { answered: false, detail: "message lost (simulated)", override: "missed" };
  const answer = (status: CommandAck["status"], reason?: AckReason, detail?: string, levelPct?: number) => ({
    answered: true as const,
    cmd: cmdName,
    ...(SCHEDULE_COMMANDS.includes(cmdName) ? { override: effectOf(cmdName, status, reason) } : {}),
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

/** How an override or cancel_override ended, for the truth file (carryOut refines a cancel). */
function effectOf(cmd: string, status: CommandAck["status"], reason: AckReason | undefined): OverrideEffect {
  if (status !== "ok") return reason === "expired" ? "expired" : "refused";
  return cmd === "override" ? "applied" : "cancelled";
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
  // A cancel is the controller's business (it empties the slot): the lamp's failure does not stop it.
  if (cmd.cmd !== "cancel_override" && lamp.failedAt(nowMs))
    return answer("failed", "hardware_fault", "lamp or driver failure");
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
    case "override": {
      const plan = planOverride(cmd, nowMs);
      if (!plan.ok) return answer("rejected", plan.reason, plan.detail);
      const level = lamp.override(plan.override, nowMs);
      const ahead = plan.override.fromMs > nowMs ? `starts at ${cmd.starts_at}` : undefined;
      return answer("ok", undefined, ahead, level);
    }
    case "cancel_override": {
      // Ignored (acked ok) when the slot holds another override or none: the platform's cancel is then moot.
      const ended = lamp.cancelOverride(cmd.override_id, nowMs);
      const detail = ended ? undefined : `no override ${cmd.override_id} held`;
      const out = answer("ok", undefined, detail, lamp.levelAt(nowMs));
      return out.answered && !ended ? { ...out, override: "cancel_ignored" } : out;
    }
  }
}

export type ResponderDeps = {
  kind: DeviceKind;
  lamp: LampControl | undefined;
  profile: LampProfile | undefined;
  clock: Clock;
  truth: Pick<TruthAccumulator, "command" | "override">;
  log: Logger;
};

/** The device runtime's side: decide, count, log with the command's id, publish the ack (QoS 1). */
export function createResponder(deps: ResponderDeps) {
  const { log } = deps;
  return (payload: string, busy: boolean, publish: (ack: string) => Promise<void>): void => {
    const target = {
      kind: deps.kind,
      lamp: deps.lamp,
      busy,
      profile: deps.profile,
    };
    const out = handleCommand(payload, target, deps.clock.now());
    if (out.override) deps.truth.override(out.override);
    if (!out.answered && out.override === "missed") {
      log.info({ payload: payload.slice(0, 200) }, "command lost (simulated)");
      return;
    }
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
