// Runs the simulated fleet: `node simulators/main.ts [--streetlights N] [--backfill-days D] [--speed X] …`,
// or one registered device: `node simulators/main.ts --device <id> --secret <secret>`.
// The only simulator file that reads configuration (config/simulator.json, .data/platform.json, environment,
// CLI flags) and the API token file. Order: register the fleet and keep its secrets → connect → backfill (if
// asked) → live, commissioning the devices not commissioned yet → until SIGINT/SIGTERM or --duration →
// graceful stop (offline state, disconnect) → truth file (written also when the backfill ends).
import { existsSync, readFileSync } from "node:fs";
import { ConfigError, loadConfig } from "../services/lib/config.ts";
import { createLogger, type Logger } from "../services/lib/log.ts";
import { type Api, createApi, type RetryPolicy } from "./api.ts";
import { type Clock, createSimClock } from "./clock.ts";
import { commissionFleet } from "./commission.ts";
import {
  parseCli,
  resolveStart,
  SIMULATOR_ENV,
  type SimulatorConfig,
  simulatorConfigSchema,
  USAGE,
} from "./config.ts";
import { openCredentialStore } from "./credentials.ts";
import { NO_FAULTS } from "./faults.ts";
import { createFleet, type Fleet } from "./fleet.ts";
import { mergeOverrides, platformDefaults } from "./platform.ts";
import { provisionFleet } from "./provision.ts";
import { fetchRegisteredDevice } from "./single.ts";

const PLATFORM_FILE = ".data/platform.json";

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
  let platform: unknown;
  try {
    if (existsSync(PLATFORM_FILE)) platform = JSON.parse(readFileSync(PLATFORM_FILE, "utf8"));
  } catch {
    platform = undefined; // a half-written file: the defaults will do
  }
  try {
    return loadConfig("simulator", simulatorConfigSchema, SIMULATOR_ENV, {
      env: process.env,
      overrides: mergeOverrides(platformDefaults(platform, process.env), cli.overrides),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

/** The API token: `registry.token` (SIM_API_TOKEN), else the token file `npm start` writes, else none. */
function readToken(registry: SimulatorConfig["registry"], log: Logger): string {
  if (registry.token) return registry.token;
  if (existsSync(registry.tokenFile)) {
    log.debug({ file: registry.tokenFile }, "API token from file");
    return readFileSync(registry.tokenFile, "utf8").trim();
  }
  log.warn(
    { file: registry.tokenFile },
    "no API token (SIM_API_TOKEN, or the file npm start writes): the command service will answer 401",
  );
  return "";
}

type Prepared = { fleet: Fleet; commission: string[] };

/** The demo fleet: register it, keep its secrets, connect each device with its own. */
async function prepareFleet(
  config: SimulatorConfig,
  log: Logger,
  api: Api,
  clock: Clock,
  retry: RetryPolicy,
) {
  const store = await openCredentialStore(config.credentialsFile, log.child({ module: "credentials" }));
  const fleet = createFleet({
    config,
    log,
    clock,
    credentials: (d) => ({ username: d.id, ...passwordOf(store.get(d.id)?.secret) }),
  });
  if (!config.registry.register) return { fleet, commission: [] };
  const result = await provisionFleet({ api, devices: fleet.devices, store, log, retry });
  if (!result.ok) {
    const hint =
      result.reason === "http_error" && (result.status === 401 || result.status === 403)
        ? ": the API refused the simulator's token (SIM_API_TOKEN, or .data/secrets/simulator.token from npm start)"
        : `: ${result.detail}`;
    log.error(result, `registration failed (${result.reason})${hint}`);
    return undefined;
  }
  // Not commissioned yet: registered or connected (a failed earlier run); all of them if the list was unreadable.
  const commission = fleet.devices
    .map((d) => d.id)
    .filter((id) => {
      const status = result.registry?.get(id)?.status;
      return status === undefined || status === "registered" || status === "connected";
    });
  return { fleet, commission };
}

/** One registered device, live, with its secret (--device, --secret). */
async function prepareSingle(
  config: SimulatorConfig,
  log: Logger,
  api: Api,
  clock: Clock,
  retry: RetryPolicy,
): Promise<Prepared | undefined> {
  const id = config.device.id as string;
  const found = await fetchRegisteredDevice(api, id, config.fleet.seed, log, retry);
  if (!found.ok) {
    log.error({ deviceId: id }, found.message);
    return undefined;
  }
  let secret = config.device.secret;
  if (secret === undefined)
    secret = (await openCredentialStore(config.credentialsFile, log.child({ module: "credentials" }))).get(
      id,
    )?.secret;
  if (secret === undefined) {
    log.error(
      { deviceId: id },
      "no secret: pass --secret (or SIM_DEVICE_SECRET) as the registration showed it",
    );
    return undefined;
  }
  const d = found.device;
  log.info(
    { deviceId: id, kind: d.kind, district: d.district, intervalS: d.intervalS },
    `simulating ${d.kind} ${id} in ${d.district}, a reading every ${d.intervalS} s`,
  );
  // A device on the bench behaves: no random faults while its engineer watches the commissioning.
  const fleet = createFleet({
    config: { ...config, faults: NO_FAULTS },
    log,
    clock,
    devices: [d],
    credentials: () => ({ username: id, password: secret }),
  });
  return { fleet, commission: [] };
}

const passwordOf = (secret: string | undefined) => (secret === undefined ? {} : { password: secret });

async function main(): Promise<void> {
  const config = readConfig();
  const log = createLogger("simulator", config.logLevel);
  const clock = createSimClock({
    speed: config.clock.speed,
    startMs: resolveStart(config.clock, Date.now()),
  });
  const single = config.device.id !== undefined;
  const needsApi = single || config.registry.register;
  const api = createApi({
    url: config.registry.url,
    token: needsApi ? readToken(config.registry, log) : "",
    log: log.child({ module: "api" }),
  });
  const retry: RetryPolicy = { forMs: config.registry.retryForMs };
  const prepared = single
    ? await prepareSingle(config, log, api, clock, retry)
    : await prepareFleet(config, log, api, clock, retry);
  if (!prepared) {
    process.exitCode = 1;
    return;
  }
  const { fleet } = prepared;
  if (!single) {
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
  }

  const abort = new AbortController();
  let stopRequested = false;
  let stopping: Promise<void> | undefined;
  const status =
    config.statusIntervalS > 0
      ? setInterval(() => {
          const s = fleet.stats();
          log.info(
            s,
            `status: ${s.connected}/${s.devices} connected${s.refused ? ` (${s.refused} refused)` : ""}, published ${s.published} msgs, acked ${s.ackedReadings} readings, backlog ${s.backlog}, commands ${s.commands}`,
          );
        }, config.statusIntervalS * 1000)
      : undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopRequested = true;
    stopping ??= (async () => {
      log.info({ reason }, "stopping");
      abort.abort();
      if (status) clearInterval(status);
      await fleet.stop();
      if (config.truthFile) {
        await fleet.writeTruth(config.truthFile, "final");
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
  if (config.backfill.days > 0) {
    await fleet.backfill(config.backfill.days);
    // The history's truth now, not only at the end: a platform that keeps running can be checked against it.
    if (config.truthFile && !stopRequested) {
      await fleet.writeTruth(config.truthFile, "backfill");
      log.info({ file: config.truthFile }, "truth of the backfill written");
    }
  }
  if (config.backfill.only) return shutdown("backfill done");
  if (stopRequested) return shutdown("signal");
  await fleet.start();
  if (config.durationS !== undefined) {
    const timer = setTimeout(() => void shutdown("duration reached"), config.durationS * 1000);
    abort.signal.addEventListener("abort", () => clearTimeout(timer));
  }
  if (config.commission.enabled && prepared.commission.length > 0) {
    const { concurrency, pollIntervalMs, maxRequestsPerS, timeoutMs } = config.commission;
    commissionFleet(api, prepared.commission, log.child({ module: "commission" }), {
      concurrency,
      pollIntervalMs,
      maxRequestsPerS,
      timeoutMs,
      note: "demo fleet",
      retry: { forMs: 60_000 },
      signal: abort.signal,
    }).catch((err: unknown) => {
      if (!abort.signal.aborted) log.error({ err }, "commissioning failed");
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`simulator failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
