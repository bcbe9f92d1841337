// Streetlight evaluations, pure: does the power follow the dim level (plausibility, test dim)?
// A LED driver draws about its rated power times the level, plus a fixed loss that does not dim (a few % of the
// rating) and the controller's standby; so the band is 0.8 × nominal … 1.2 × nominal + 10 % of the rating + 2 W.
// Off (0 %), only standby and the controller remain: under 5 W.
import { type CheckOutcome, clockTime, failed, fmt, num, passed, type ReadingRow } from "./checks.ts";

/** Share of the rating a driver may draw on top of the dimmed power (its losses and floor). */
export const DRIVER_FLOOR_SHARE = 0.1;
export const STANDBY_MAX_W = 5;
/** The commissioning test dim level; dim_pct within this many points of it counts as applied. */
export const TEST_DIM_PCT = 30;
export const DIM_TOLERANCE_PCT = 2;

export function powerRange(ledWatts: number, levelPct: number): { min: number; max: number } {
  if (levelPct <= 0) return { min: 0, max: STANDBY_MAX_W };
  const nominal = (ledWatts * levelPct) / 100;
  return { min: 0.8 * nominal, max: 1.2 * nominal + DRIVER_FLOOR_SHARE * ledWatts + 2 };
}

type Seen = { time: number; dim: number; power: number; lampOk: boolean };

function seen(row: ReadingRow): Seen | undefined {
  const dim = num(row, "dim_pct");
  const power = num(row, "power_w");
  if (dim === undefined || power === undefined) return undefined;
  return { time: row.time, dim, power, lampOk: row.lamp_ok !== false };
}

/** Why one reading is implausible, or undefined. */
function problem(s: Seen, ledWatts: number): string | undefined {
  if (!s.lampOk) return `lamp_ok false at ${clockTime(s.time)} (lamp or driver failure)`;
  const { min, max } = powerRange(ledWatts, s.dim);
  if (s.power >= min && s.power <= max) return undefined;
  const expected =
    s.dim <= 0 ? `< ${STANDBY_MAX_W} W when off` : `${fmt(min)}–${fmt(max)} W for a ${fmt(ledWatts)} W LED`;
  return `${fmt(s.power)} W at ${fmt(s.dim)} % at ${clockTime(s.time)} (expected ${expected})`;
}

export function streetlightPlausibility(rows: readonly ReadingRow[], ledWatts: number | null): CheckOutcome {
  if (ledWatts === null) return failed("led_watts is not registered: the expected power is unknown");
  const all = rows.map(seen);
  if (all.some((s) => s === undefined)) return failed("a reading lacks dim_pct or power_w");
  const readings = all as Seen[];
  const problems = readings.map((s) => problem(s, ledWatts)).filter((p) => p !== undefined);
  const data = {
    readings: readings.map((s) => ({ dim_pct: s.dim, power_w: s.power, lamp_ok: s.lampOk })),
    led_watts: ledWatts,
  };
  if (problems.length > 0) return failed(problems.join("; "), data);
  const levels = [...new Set(readings.map((s) => s.dim))];
  const parts = levels.map((l) => {
    const p = readings.filter((s) => s.dim === l).map((s) => s.power);
    const { min, max } = powerRange(ledWatts, l);
    return `${fmt(l)} % → ${fmt(Math.min(...p))}–${fmt(Math.max(...p))} W (expected ${fmt(min)}–${fmt(max)} W)`;
  });
  return passed(`${readings.length} readings: ${parts.join(", ")}; lamp ok`, data);
}

/** Readings after the ack that may show the old level (sampled before the dim took effect) before failing. */
export const TEST_DIM_READINGS = 3;

/**
 * The test dim's readings (stored after the ack): passes on the first whose dim_pct is the test level and whose
 * power follows it; fails once TEST_DIM_READINGS readings came and none did; undefined meanwhile (keep waiting).
 */
export function evaluateTestDim(
  rows: readonly ReadingRow[],
  ledWatts: number | null,
): CheckOutcome | undefined {
  if (ledWatts === null) return failed("led_watts is not registered: the expected power is unknown");
  const { min, max } = powerRange(ledWatts, TEST_DIM_PCT);
  for (const row of rows) {
    const s = seen(row);
    if (!s || Math.abs(s.dim - TEST_DIM_PCT) > DIM_TOLERANCE_PCT || !s.lampOk) continue;
    if (s.power < min || s.power > max) continue;
    return passed(
      `reading at ${clockTime(s.time)}: ${fmt(s.dim)} % → ${fmt(s.power)} W (expected ${fmt(min)}–${fmt(max)} W)`,
      { time: new Date(s.time).toISOString(), dim_pct: s.dim, power_w: s.power, expected_w: { min, max } },
    );
  }
  if (rows.length >= TEST_DIM_READINGS)
    return testDimNotSeen(rows, ledWatts, `none of the ${rows.length} readings after the ack`);
  return undefined;
}

/** The failure: no reading showed the test dim (`lead`: "none of the 3 readings after the ack", …). */
export function testDimNotSeen(
  rows: readonly ReadingRow[],
  ledWatts: number | null,
  lead: string,
): CheckOutcome {
  const { min, max } = powerRange(ledWatts ?? 0, TEST_DIM_PCT);
  const shown = rows
    .map(seen)
    .filter((s) => s !== undefined)
    .slice(-TEST_DIM_READINGS)
    .map((s) => `${fmt(s.dim)} % → ${fmt(s.power)} W${s.lampOk ? "" : " (lamp_ok false)"}`);
  const followed = rows.map(seen).some((s) => s && Math.abs(s.dim - TEST_DIM_PCT) <= DIM_TOLERANCE_PCT);
  const why =
    shown.length === 0
      ? ""
      : followed
        ? ": the level changed, the power did not follow"
        : ": the level did not change";
  return failed(
    `${lead} showed ${TEST_DIM_PCT} % with ${fmt(min)}–${fmt(max)} W${why}` +
      (shown.length > 0 ? `; seen: ${shown.join(", ")}` : "; no reading was stored after the ack"),
    { readings_after_ack: rows.length },
  );
}
