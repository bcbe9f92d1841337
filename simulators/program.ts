// Dimming programs (after TALQ: a program switches levels at fixed local times and at astronomical times).
// A streetlight holds one program object and asks it for the level in effect; issue 4 will build programs
// from calendars pushed over MQTT and swap them in with `setProgram`, so the program stays a plain object.
import { localTime } from "./localtime.ts";
import type { SunTracker } from "./sun.ts";

export type ProgramContext = { sun: SunTracker };

export type DimmingProgram = {
  readonly name: string;
  /** Commanded level in percent (0 = off) at `tsMs` for the pole whose sun times are given. */
  levelAt(tsMs: number, ctx: ProgramContext): number;
};

export type NightProgramOptions = {
  name: string;
  /** Level from sunset until the dimming window, and from its end until sunrise. */
  fullPct: number;
  /** Level inside the dimming window. */
  dimPct: number;
  /** Local hours [from, to) of the dimming window, after midnight. */
  dimFromHour: number;
  dimToHour: number;
};

/** On from sunset to sunrise, dimmed between two local hours after midnight. */
export function nightProgram(opts: NightProgramOptions): DimmingProgram {
  return {
    name: opts.name,
    levelAt(tsMs, { sun }) {
      if (!sun.isDark(tsMs)) return 0;
      const { hour } = localTime(tsMs);
      return hour >= opts.dimFromHour && hour < opts.dimToHour ? opts.dimPct : opts.fullPct;
    },
  };
}

/** The default until calendars arrive: 100 % at dusk, 50 % from 00:00 to 05:00 local time, 100 % until dawn. */
export const DEFAULT_PROGRAM: DimmingProgram = nightProgram({
  name: "default-night-50",
  fullPct: 100,
  dimPct: 50,
  dimFromHour: 0,
  dimToHour: 5,
});
