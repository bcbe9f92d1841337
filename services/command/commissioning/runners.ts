// The waiting and I/O of each check: watch device_activity, query InfluxDB, send commands; the judging is done
// by the pure functions of readings.ts, plausibility.ts, streetlight.ts and location.ts.
import type { DeviceRecord } from "../../contract/devices.ts";
import { deviceTopic } from "../../contract/topics.ts";
import type { Logger } from "../../lib/log.ts";
import type { ActivityStore } from "../../registry/activity.ts";
import type { CredentialStore } from "../../registry/credentials.ts";
import type { CommandRequest, CommandResult, DeviceMqtt } from "../device-mqtt.ts";
import type { Clock } from "../liveness/clock.ts";
import {
  type CheckName,
  type CheckOutcome,
  clockTime,
  failed,
  fmt,
  passed,
  type ReadingRow,
} from "./checks.ts";
import { checkLocation } from "./location.ts";
import { plausibility } from "./plausibility.ts";
import type { ReadingsProbe } from "./probe.ts";
import { evaluateReadings, tooFewReadings } from "./readings.ts";
import { evaluateTestDim, TEST_DIM_PCT, TEST_DIM_READINGS, testDimNotSeen } from "./streetlight.ts";

export type RunContext = {
  runId: string;
  device: DeviceRecord;
  /** Platform time the run started, epoch ms. */
  startedMs: number;
  /** device_activity.accepted_total when the run started (readings counted by the ingest's digests since). */
  baseAccepted: number;
  /** The readings the readings check found (for plausibility). */
  readings: ReadingRow[];
  /** Polls `attempt` until it gives a value or `timeoutMs` passes (undefined); throws if the run is cancelled. */
  waitFor<T>(
    timeoutMs: number,
    everyMs: number,
    attempt: () => T | undefined | Promise<T | undefined>,
  ): Promise<T | undefined>;
};

export type RunnerDeps = {
  activity: ActivityStore;
  credentials: Pick<CredentialStore, "current">;
  /** Writes queued presence/state/digest events, so that a wait sees the newest. */
  flushActivity(): void;
  probe: ReadingsProbe;
  commands: Pick<DeviceMqtt, "sendCommand">;
  config: { readings: number; connectTimeoutS: number; ackTimeoutS: number };
  clock: Clock;
  log: Logger;
};

/** How long the state check waits for the retained state after the connection passed. */
export const STATE_TIMEOUT_S = 30;
/** Slack for a reading to travel device → broker → ingest spool → InfluxDB. */
const STORE_SLACK_S = 30;
/** Without digests saying readings arrived, InfluxDB is still asked this often (a fallback, not the path). */
const FALLBACK_QUERY_MS = 15_000;
const IDENTIFY_S = 10;

export function createRunners(
  deps: RunnerDeps,
): Record<CheckName, (ctx: RunContext) => Promise<CheckOutcome>> {
  const { activity, probe, config, clock } = deps;
  const pollMs = (intervalS: number) => Math.min(5000, Math.max(500, (intervalS * 1000) / 4));
  const accepted = (id: string) => {
    deps.flushActivity();
    return activity.get(id)?.accepted_total ?? 0;
  };

  /** Stored readings after `sinceMs`, asked of InfluxDB only once digests counted `expect` new readings (or rarely). */
  function storedReadings(ctx: RunContext, sinceMs: number, base: number, expect: number, limit: number) {
    let lastQuery = Number.NEGATIVE_INFINITY;
    const state = { rows: [] as ReadingRow[], error: undefined as string | undefined };
    const fetch = async (): Promise<boolean> => {
      const now = clock.now();
      if (accepted(ctx.device.id) - base < expect && now - lastQuery < FALLBACK_QUERY_MS) return false;
      lastQuery = now;
      try {
        state.rows = await probe.readingsSince(ctx.device.kind, ctx.device.id, sinceMs, limit);
        state.error = undefined;
        return true;
      } catch (err) {
        state.error = (err as Error).message;
        return false;
      }
    };
    return { state, fetch };
  }

  function ackFailure(r: CommandResult): CheckOutcome | undefined {
    const data = { command_id: r.command.id };
    if (!r.ok) return failed(`${r.command.cmd}: ${r.detail} (command ${r.command.id})`, data);
    if (r.ack.status === "ok") return undefined;
    const why = [r.ack.reason, r.ack.detail].filter(Boolean).join(": ");
    return failed(`${r.command.cmd} ${r.ack.status}${why ? ` (${why})` : ""}`, { ...data, ack: r.ack });
  }

  const send = (ctx: RunContext, req: CommandRequest) =>
    deps.commands.sendCommand(ctx.device, req, config.ackTimeoutS * 1000);

  return {
    async connection(ctx) {
      const id = ctx.device.id;
      if (!deps.credentials.current(id))
        return failed("the device has no live credential (revoked): rotate its credentials first");
      const found = await ctx.waitFor(config.connectTimeoutS * 1000, 500, () => {
        deps.flushActivity();
        const cred = deps.credentials.current(id);
        const a = activity.get(id);
        if (!cred || !a?.online || !a.connected_at) return undefined;
        // A session older than the live credential used a previous secret (the broker cuts those at once).
        return Date.parse(a.connected_at) >= Date.parse(cred.created_at) ? { a, cred } : undefined;
      });
      if (found) {
        const { a, cred } = found;
        return passed(
          `online since ${clockTime(Date.parse(a.connected_at as string))}${a.remote_address ? ` from ${a.remote_address}` : ""} with credential generation ${cred.generation}`,
          { connected_at: a.connected_at, remote_address: a.remote_address, generation: cred.generation },
        );
      }
      const a = activity.get(id);
      const cred = deps.credentials.current(id);
      if (!cred) return failed("the device's credential was revoked during the check");
      const last = a?.disconnected_at
        ? `; last disconnected at ${a.disconnected_at} (${a.disconnect_reason ?? "unknown"})`
        : a?.connected_at
          ? ""
          : "; it has never connected";
      return failed(
        `not connected within ${config.connectTimeoutS} s with credential generation ${cred.generation}${last}` +
          ` (MQTT client id and username must both be ${id}, the password its secret)`,
      );
    },

    async state(ctx) {
      const id = ctx.device.id;
      const seen = await ctx.waitFor(STATE_TIMEOUT_S * 1000, 500, () => {
        deps.flushActivity();
        return activity.get(id)?.state_online === 1 ? true : undefined;
      });
      const a = activity.get(id);
      if (seen)
        return passed(`retained state {"online":true} at ${a?.state_at ?? "?"}`, { state_at: a?.state_at });
      return failed(
        a?.state_online === 0
          ? 'the retained state says {"online":false}'
          : `no state message within ${STATE_TIMEOUT_S} s: publish {"online":true} retained on ${deviceTopic(ctx.device.kind, id, "state")} when connected, with {"online":false} as the last will`,
      );
    },

    async readings(ctx) {
      const { device } = ctx;
      const needed = config.readings;
      const timeoutS = (needed + 1) * device.report_interval_s + STORE_SLACK_S;
      const stored = storedReadings(ctx, ctx.startedMs, ctx.baseAccepted, needed, needed + 10);
      const outcome = await ctx.waitFor(timeoutS * 1000, pollMs(device.report_interval_s), async () =>
        (await stored.fetch())
          ? evaluateReadings(stored.state.rows, device.report_interval_s, needed)
          : undefined,
      );
      if (outcome) {
        ctx.readings = [...stored.state.rows].sort((a, b) => a.time - b.time).slice(0, needed);
        return outcome;
      }
      const rejects = await probe.rejectsSince(device.id, ctx.startedMs).catch(() => undefined);
      return tooFewReadings(stored.state.rows.length, needed, timeoutS, rejects, stored.state.error);
    },

    async plausibility(ctx) {
      return plausibility(ctx.device, ctx.readings);
    },

    async location(ctx) {
      return checkLocation(ctx.device);
    },

    async identify(ctx) {
      const r = await send(ctx, { cmd: "identify", duration_s: IDENTIFY_S });
      const failure = ackFailure(r);
      if (failure || !r.ok) return failure as CheckOutcome;
      // issued_at and duration_s let the compliance check (services/command/schedules/) excuse the blink.
      return passed(`ack ok in ${r.latencyMs} ms: the lamp blinks for ${IDENTIFY_S} s`, {
        command_id: r.command.id,
        latency_ms: r.latencyMs,
        issued_at: r.command.issued_at,
        duration_s: IDENTIFY_S,
      });
    },

    async test_dim(ctx) {
      const { device } = ctx;
      // Long enough for about three readings at the test level. The override's duration returns the lamp to
      // its program by itself when it ends (TALQ override semantics, DOMAIN.md "Streetlight control"), so
      // nothing is sent afterwards, and a run cut short leaves nothing to undo.
      const durationS = 3 * device.report_interval_s + 30;
      const base = accepted(device.id);
      const r = await send(ctx, {
        cmd: "dim",
        level_pct: TEST_DIM_PCT,
        duration_s: durationS,
        reason: "commissioning test dim",
      });
      const failure = ackFailure(r);
      if (failure || !r.ok) return failure as CheckOutcome;
      // Readings carry device time, and so does the ack; a device clock far off the platform's uses the receipt.
      const ackMs = Math.abs(r.ack.ts - r.receivedAt) < 5 * 60_000 ? r.ack.ts : r.receivedAt;
      const stored = storedReadings(ctx, ackMs + 1, base, 1, TEST_DIM_READINGS);
      const outcome = await ctx.waitFor(durationS * 1000, pollMs(device.report_interval_s), async () =>
        (await stored.fetch()) ? evaluateTestDim(stored.state.rows, device.led_watts) : undefined,
      );
      const level = r.ack.level_pct === undefined ? "" : `level ${fmt(r.ack.level_pct)} %, `;
      const acked = `ack ok in ${r.latencyMs} ms (${level}for ${durationS} s)`;
      if (!outcome) {
        const f = testDimNotSeen(
          stored.state.rows,
          device.led_watts,
          `no reading within ${durationS} s of the ack`,
        );
        return {
          ...f,
          detail: `${acked}; ${f.detail}${stored.state.error ? `; ${stored.state.error}` : ""}`,
        };
      }
      return {
        ...outcome,
        detail: `${acked}; ${outcome.detail}`,
        // The test dim is an override of the lamp's schedule: the compliance check reads it back from here.
        data: {
          ...outcome.data,
          command_id: r.command.id,
          issued_at: r.command.issued_at,
          duration_s: durationS,
          level_pct: TEST_DIM_PCT,
        },
      };
    },
  };
}
