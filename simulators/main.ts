// Runs the simulated fleet: `node simulators/main.ts [--streetlights N] [--backfill-days D] [--speed X] …`
// The only simulator file that reads configuration (config/simulator.json, environment, CLI flags).
// Order: register the fleet → connect → backfill (if asked) → live until SIGINT/SIGTERM or --duration →
// graceful stop (offline state, disconnect) → truth file.

import { ConfigError, loadConfig } from "../services/lib/config.ts";
import { createLogger } from "../services/lib/log.ts";
import { createSimClock } from "./clock.ts";
import {
  parseCli,
  resolveStart,
  SIMULATOR_ENV,
  type SimulatorConfig,
  simulatorConfigSchema,
  USAGE,
} from "./config.ts";
import { createFleet } from "./fleet.ts";
import { toRegistration } from "./plan.ts";
import { registerFleet } from "./register.ts";

function readConfig(): SimulatorConfig {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (cli.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  try {
    return loadConfig("simulator", simulatorConfigSchema, SIMULATOR_ENV, {
      env: process.env,
      overrides: cli.overrides,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const log = createLogger("simulator", config.logLevel);
  const clock = createSimClock({
    speed: config.clock.speed,
    startMs: resolveStart(config.clock, Date.now()),
  });
  const fleet = createFleet({ config, log, clock });
  const { streetlights, airquality, traffic, seed } = config.fleet;
  log.info(
    {
      streetlights,
      airquality,
      traffic,
      seed,
      speed: config.clock.speed,
      start: new Date(clock.now()).toISOString(),
    },
    `simulating ${fleet.devices.length} devices`,
  );

  if (config.registry.register) {
    const result = await registerFleet(config.registry.url, fleet.devices.map(toRegistration), log, {
      retryForMs: config.registry.retryForMs,
    });
    if (!result.ok) {
      log.error(result, `registration failed: ${result.reason}`);
      process.exitCode = 1;
      return;
    }
  }

  let stopRequested = false;
  let stopping: Promise<void> | undefined;
  const status =
    config.statusIntervalS > 0
      ? setInterval(() => {
          const s = fleet.stats();
          log.info(
            s,
            `status: ${s.connected}/${s.devices} connected, published ${s.published} msgs, acked ${s.ackedReadings} readings, backlog ${s.backlog}`,
          );
        }, config.statusIntervalS * 1000)
      : undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopRequested = true;
    stopping ??= (async () => {
      log.info({ reason }, "stopping");
      if (status) clearInterval(status);
      await fleet.stop();
      if (config.truthFile) {
        await fleet.writeTruth(config.truthFile);
        log.info({ file: config.truthFile, ...fleet.truth().totals }, "truth written");
      }
    })();
    return stopping;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopRequested) {
        log.warn({ signal }, "second signal: exiting without a clean stop");
        process.exit(130);
      }
      void shutdown(signal);
    });
  }

  await fleet.connect();
  if (config.backfill.days > 0) await fleet.backfill(config.backfill.days);
  if (config.backfill.only) return shutdown("backfill done");
  if (stopRequested) return shutdown("signal");
  await fleet.start();
  if (config.durationS !== undefined)
    setTimeout(() => void shutdown("duration reached"), config.durationS * 1000);
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
