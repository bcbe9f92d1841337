// A connected LED streetlight: burns from sunset to sunrise at its own position under its dimming program,
// draws about its rated watts times the level (plus a driver's fixed loss and a controller's standby), and
// integrates the power into a cumulative energy meter. The first reading after a (re)start carries
// meter_reset: true — a restarted controller counts from zero, and the contract says so explicitly.
//
// Commands (issue 3, after TALQ; decided in commands.ts, carried out here through `lamp`):
// - dim: an override of the program's level, day or night, optionally ramped, for duration_s or until the
//   next command; a newer override replaces the older one; at its end the program's level returns.
// - identify: a blink cycle, 1 s at 100 % and 1 s off, for duration_s. A reading taken during it shows the
//   instant it samples (dim_pct 100 and full power, or dim_pct 0 and standby), as a real controller reporting
//   its instantaneous state would; the energy meter counts the cycle's average (half full power).
// - override (issue 4, contract commands.ts): the same single slot as a dim (TALQ: one override per lamp),
//   with the platform's id, a start that may lie ahead and an expiry; cancel_override empties the slot.
// The meter integrates piecewise: a command, an override's start or end splits the interval between two
// readings, so the energy (and the truth file, which adds the same increments) follows overridden levels.
// The program's level is sampled at each reading (a calendar's switch point inside an interval shows from the
// next reading on, as a meter reading the controller's state would).
//
// Program: the lamp's calendar (schedule.ts keeps it, program.ts follows it), FACTORY_CALENDAR until one arrives.
import { chance, episode, FAULT_DURATIONS } from "../faults.ts";
import { localTime } from "../localtime.ts";
import type { StreetlightDevice } from "../plan.ts";
import { clamp, normal, rngFor, round } from "../prng.ts";
import { ambientTempC } from "../profiles.ts";
import { createProgramTimeline } from "../program.ts";
import type { DeviceModel, DimOverride, ModelOptions } from "./model.ts";

/** Controller and driver standby draw when the lamp is off, W. */
export const STANDBY_W = 0.5;
/** Share of rated power a driver draws at any non-zero level (its losses do not dim). */
const DRIVER_FLOOR = 0.04;
const NOMINAL_V = 230;
/** Identify: the lamp alternates this long on, this long off. */
export const BLINK_HALF_PERIOD_MS = 1000;

/** Power drawn at a level (0–100 %) by a luminaire of `ledWatts`, without noise. */
export function nominalPowerW(ledWatts: number, levelPct: number): number {
  if (levelPct <= 0) return STANDBY_W;
  return STANDBY_W + ledWatts * (DRIVER_FLOOR + (1 - DRIVER_FLOOR) * (levelPct / 100));
}

/** The override slot: startPct is the level its ramp starts from, known once it has started. */
type Override = DimOverride & { overrideId?: string; startPct: number | undefined };

export function createStreetlightModel(device: StreetlightDevice, opts: ModelOptions): DeviceModel {
  const noise = rngFor(opts.seed, device.id, "noise");
  const faults = rngFor(opts.seed, device.id, "faults");
  const lampFailure = episode(faults, opts.faults.lampFailurePerDay, FAULT_DURATIONS.lampFailure);
  const program = createProgramTimeline(device, opts.calendar);
  const tempOffset = normal(noise, 0, 1);
  let seq = 0;
  let prevTs: number | undefined;
  let failed = false;
  let meterWh = 0;
  let voltage = NOMINAL_V + normal(noise, 0, 2);
  let override: Override | undefined;
  let blink: { fromMs: number; untilMs: number } | undefined;
  // The interval since the previous reading, as segments of constant power: [segStart, next change).
  let segStart: number | undefined;
  let segPowerW = STANDBY_W;
  let segBurn = 0; // share of the segment the lamp burns (identify: half)
  let segOverride = false;
  let acc = { wh: 0, burnS: 0, overrideS: 0 };

  const overridden = (ts: number) => override !== undefined && ts >= override.fromMs && ts < override.untilMs;
  const blinking = (ts: number) => blink !== undefined && ts >= blink.fromMs && ts < blink.untilMs;

  /** The commanded level at `ts`: an override in force (ramping linearly at first), else the program. */
  function levelAt(ts: number): number {
    if (override && overridden(ts)) {
      const { fromMs, rampMs, levelPct } = override;
      // An override that started later than it arrived ramps from the program's level at its start.
      override.startPct ??= programLevel(fromMs);
      const { startPct } = override;
      if (rampMs > 0 && ts < fromMs + rampMs)
        return startPct + ((levelPct - startPct) * (ts - fromMs)) / rampMs;
      return levelPct;
    }
    return programLevel(ts);
  }

  function programLevel(ts: number): number {
    return clamp(program.levelAt(ts), 0, 100);
  }

  /** Fills the override slot at `at` (the older one ends there) and ends a blink if it starts now. */
  function fill(o: Omit<Override, "startPct">, at: number): number {
    const startsNow = o.fromMs <= at;
    override = { ...o, fromMs: Math.max(o.fromMs, at), startPct: startsNow ? levelAt(at) : undefined };
    if (startsNow) blink = undefined; // a level command ends a blink cycle: the engineer has found the lamp
    resegment(at);
    return levelAt(at);
  }

  function accrue(to: number): void {
    if (segStart === undefined || to <= segStart) return;
    const dtMs = to - segStart;
    acc.wh += (segPowerW * dtMs) / 3_600_000;
    acc.burnS += (segBurn * dtMs) / 1000;
    if (segOverride) acc.overrideS += dtMs / 1000;
    segStart = to;
  }

  /** Closes the segment at `t` and starts one at the (noise-free) power in effect from `t` on. */
  function resegment(t: number): void {
    accrue(t);
    if (segStart === undefined) return;
    segOverride = overridden(t);
    if (blinking(t)) {
      segPowerW = failed ? STANDBY_W : (nominalPowerW(device.ledWatts, 100) + STANDBY_W) / 2;
      segBurn = failed ? 0 : 0.5;
      return;
    }
    // In a ramp, the mean of the rest of it (power is linear in the level above zero).
    const ramping = override && overridden(t) && t < override.fromMs + override.rampMs;
    const level = ramping && override ? (levelAt(t) + override.levelPct) / 2 : levelAt(t);
    const burning = level > 0 && !failed;
    segPowerW = burning ? nominalPowerW(device.ledWatts, level) : STANDBY_W;
    segBurn = burning ? 1 : 0;
  }

  /** Instants between readings where the power changes by command: an override's ramp or end, a blink's end. */
  function changesBefore(ts: number): number[] {
    const points: number[] = [];
    if (override) points.push(override.fromMs, override.fromMs + override.rampMs, override.untilMs);
    if (blink) points.push(blink.untilMs);
    return points.filter((p) => segStart !== undefined && p > segStart && p < ts).sort((a, b) => a - b);
  }

  return {
    lamp: {
      levelAt,
      failedAt: (ts) => ts < lampFailure.until,
      identify(fromMs, durationMs) {
        const at = Math.max(fromMs, segStart ?? fromMs);
        blink = { fromMs: at, untilMs: at + durationMs };
        resegment(at);
      },
      dim(o) {
        const at = Math.max(o.fromMs, segStart ?? o.fromMs);
        return fill({ ...o, fromMs: at, untilMs: at + (o.untilMs - o.fromMs) }, at);
      },
      override(o, atMs) {
        return fill(o, Math.max(atMs, segStart ?? atMs));
      },
      cancelOverride(overrideId, atMs) {
        if (override?.overrideId !== overrideId || atMs >= override.untilMs) return false;
        const at = Math.max(atMs, segStart ?? atMs);
        if (at < override.fromMs) override = undefined;
        else override = { ...override, untilMs: at };
        resegment(at);
        return true;
      },
      followCalendar(doc, fromMs) {
        program.follow(doc, fromMs);
      },
    },
    next(ts) {
      const dtMs = prevTs === undefined ? 0 : Math.max(0, ts - prevTs);
      for (const t of changesBefore(ts)) resegment(t);
      accrue(ts);
      const step = acc;
      acc = { wh: 0, burnS: 0, overrideS: 0 };
      const meterReset = seq === 0 || chance(faults, opts.faults.meterResetPerDay, dtMs);
      meterWh = meterReset ? step.wh : meterWh + step.wh;
      if (override && ts >= override.untilMs) override = undefined;
      if (blink && ts >= blink.untilMs) blink = undefined;

      const blinkOn =
        blink && blinking(ts) ? Math.floor((ts - blink.fromMs) / BLINK_HALF_PERIOD_MS) % 2 === 0 : undefined;
      const level = blinkOn === undefined ? levelAt(ts) : blinkOn ? 100 : 0;
      failed = lampFailure.at(ts, dtMs);
      const burning = level > 0 && !failed;
      const powerW = burning
        ? nominalPowerW(device.ledWatts, level) * (1 + normal(noise, 0, 0.01))
        : STANDBY_W + normal(noise, 0, 0.02);
      // Supply voltage wanders slowly around 230 V (AR(1)), and sags a little under the evening load.
      voltage = NOMINAL_V + 0.97 * (voltage - NOMINAL_V) + normal(noise, 0, 0.5) - (burning ? 0.05 : 0);
      const powerFactor = burning ? 0.96 - 0.12 * (1 - level / 100) : 0.3;
      const ambient = ambientTempC(localTime(ts)) + tempOffset;
      const tempC = ambient + (burning ? 20 * (powerW / device.ledWatts) : 1) + normal(noise, 0, 0.3);

      const reading = {
        ts,
        seq,
        power_w: round(Math.max(0, powerW)),
        energy_wh: round(meterWh),
        dim_pct: round(level, 1),
        lamp_ok: !failed,
        voltage_v: round(clamp(voltage, 190, 260), 1),
        current_a: round(Math.max(0, powerW) / (voltage * powerFactor), 3),
        temp_c: round(tempC, 1),
        ...(meterReset ? { meter_reset: true } : {}),
      };
      prevTs = ts;
      seq++;
      program.forgetBefore(ts);
      // The power of this reading holds until the next one or the next change (a blink: its average).
      segStart = ts;
      segPowerW = Math.max(0, powerW);
      segBurn = burning ? 1 : 0;
      segOverride = overridden(ts);
      if (blinkOn !== undefined) resegment(ts);
      return { reading, energyWh: step.wh, burnS: step.burnS, overrideS: step.overrideS };
    },
  };
}
