// Structured logs (pino), one child logger per module carrying the ids that matter (STYLE.md, habit 7).
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(service: string, level = "info"): Logger {
  return pino({ name: service, level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that drops everything: for unit tests of pure logic. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
