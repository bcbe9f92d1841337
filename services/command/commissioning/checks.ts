// The commissioning checks (design of issue 3), in the order they run, what each needs to have passed first,
// and the small helpers their pure evaluations share. A failed check fails the run, but every check that does
// not depend on it still runs, so the engineer at the pole sees everything at once.
import type { DeviceKind } from "../../contract/topics.ts";
import type { CheckOutcome } from "../../registry/commissioning.ts";

export type { CheckOutcome };

export const CHECKS = {
  connection: {
    needs: [],
    about: "The device is online through the broker's presence, with its current credential.",
  },
  state: { needs: ["connection"], about: 'Its retained state {"online":true} was seen.' },
  readings: {
    needs: ["connection"],
    about: "N valid readings stored in InfluxDB since the run started, gaps near report_interval_s.",
  },
  plausibility: { needs: ["readings"], about: "The readings are plausible for the device's kind." },
  location: { needs: [], about: "Its registered position lies in its registered district, in the city." },
  identify: { needs: ["connection"], about: "Streetlights: an identify command is acknowledged ok." },
  test_dim: {
    needs: ["connection"],
    about:
      "Streetlights: a 30 % test dim is acknowledged ok and the next readings show it in level and power.",
  },
} as const satisfies Record<string, { needs: readonly string[]; about: string }>;

export type CheckName = keyof typeof CHECKS;
export const CHECK_NAMES = Object.keys(CHECKS) as CheckName[];

export function checksFor(kind: DeviceKind): CheckName[] {
  return kind === "streetlight"
    ? CHECK_NAMES
    : CHECK_NAMES.filter((c) => c !== "identify" && c !== "test_dim");
}

/** A stored reading as InfluxDB returns it: `time` (epoch ms), the tags, the fields. */
export type ReadingRow = { time: number } & Record<string, unknown>;

export const passed = (detail: string, data?: Record<string, unknown>): CheckOutcome => ({
  status: "passed",
  detail,
  ...(data ? { data } : {}),
});
export const failed = (detail: string, data?: Record<string, unknown>): CheckOutcome => ({
  status: "failed",
  detail,
  ...(data ? { data } : {}),
});

/** 9.8, 10, 0.25: at most `digits` decimals, no trailing zeros. */
export function fmt(n: number, digits = 1): string {
  return String(Number(n.toFixed(digits)));
}

/** "9.8–10.2" or "10" when both ends agree. */
export function range(values: readonly number[], digits = 1): string {
  const lo = fmt(Math.min(...values), digits);
  const hi = fmt(Math.max(...values), digits);
  return lo === hi ? lo : `${lo}–${hi}`;
}

export function num(row: ReadingRow, field: string): number | undefined {
  const v = row[field];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** HH:MM:SS UTC of an epoch ms, for details an engineer reads. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
