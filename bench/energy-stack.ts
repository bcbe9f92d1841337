// Section N's platform: its own influxd (or INFLUX_URL), the command service with the energy rollups on, the broker
// (access control on, following the command service's feed) and the ingest, each its own process, as `npm start`
// runs them. The command service starts once without MQTT so that the broker can read its access feed, then again
// on MQTT with its own account (it takes the ingest's activity digests there), as section K does.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, type InfluxdHandle, startInfluxd } from "../scripts/influxd/influxd.ts";
import type { InfluxClient } from "../services/lib/influx/index.ts";
import { silentLogger } from "../services/lib/log.ts";
import type { EnergyTokens } from "./energy-fleet.ts";
import {
  type Broker,
  type InfluxTarget,
  type Ingest,
  influxFor,
  logTail,
  type Service,
  startBroker,
  startIngest,
  startService,
} from "./stack.ts";

export type EnergyStack = {
  /** The command service's base URL. */
  url: string;
  brokerPort: number;
  influx: InfluxClient;
  command: Service;
  stop(): Promise<void>;
};

function commandService(
  dir: string,
  port: number,
  tokens: EnergyTokens,
  influx: InfluxTarget,
  bucket: string,
  mqttUrl: string | undefined,
): Service {
  return startService({
    name: mqttUrl ? "command-n" : "command-n-setup",
    script: "services/command/main.ts",
    logDir: join(dir, "logs"),
    env: {
      COMMAND_HOST: "127.0.0.1",
      COMMAND_PORT: String(port),
      REGISTRY_DB: join(dir, "registry.sqlite"),
      COMMAND_TOKEN_FILE: tokens.file,
      COMMAND_RATE_LIMIT_PER_TOKEN: "100000",
      MQTT_URL: mqttUrl ?? "",
      COMMAND_MQTT_USERNAME: "svc-command",
      COMMAND_MQTT_PASSWORD: tokens.command,
      INFLUX_URL: influx.url,
      INFLUX_TOKEN: influx.token,
      INFLUX_ORG: influx.org,
      INFLUX_BUCKET: bucket,
      // The rollups at their production cadence (a cycle every 15 s after 5 s of settling). A faster cycle gives
      // up sooner on lamps whose announced readings are still in the ingest's spool (12 attempts), and a month
      // uploaded at 100,000 readings/s keeps InfluxDB about a minute behind the digests.
      LOG_LEVEL: "warn",
    },
  });
}

async function healthy(svc: Service, url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  const up = () =>
    fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
  while (!(await up())) {
    if (svc.exited() || Date.now() > deadline)
      throw new Error(`${svc.name} did not come up\n${logTail(svc.logFile)}`);
    await sleep(100);
  }
}

/** Starts the section's services in `dir` (registry already seeded there); `lamps` for the ingest's readiness. */
export async function startEnergyStack(
  dir: string,
  tokens: EnergyTokens,
  lamps: number,
): Promise<EnergyStack> {
  let influxd: InfluxdHandle | undefined;
  let command: Service | undefined;
  let broker: Broker | undefined;
  let ingest: Ingest | undefined;
  let influx: InfluxClient | undefined;
  const stop = async () => {
    await ingest?.svc.stop();
    await broker?.svc.stop();
    await command?.stop();
    await influx?.close();
    await influxd?.stop();
  };
  try {
    let target: InfluxTarget;
    if (process.env.INFLUX_URL)
      target = {
        url: process.env.INFLUX_URL,
        token: process.env.INFLUX_TOKEN ?? "",
        org: process.env.INFLUX_ORG ?? "city",
      };
    else {
      influxd = await startInfluxd({ dataDir: join(dir, "influxdb"), log: silentLogger() });
      target = { url: influxd.url, token: "", org: "city" };
    }
    const bucket = `bench_energy_${Math.random().toString(36).slice(2, 8)}`;
    influx = await influxFor(target, bucket);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    command = commandService(dir, port, tokens, target, bucket, undefined);
    await healthy(command, url);
    broker = await startBroker(join(dir, "logs"), { registryUrl: url, token: tokens.broker }, "broker-n");
    await command.stop();
    command = commandService(dir, port, tokens, target, bucket, `mqtt://127.0.0.1:${broker.port}`);
    await healthy(command, url);
    ingest = await startIngest({
      logDir: join(dir, "logs"),
      name: "ingest-n",
      influx: target,
      bucket,
      mqttPort: broker.port,
      registryUrl: url,
      token: tokens.ingest,
      spoolDir: join(dir, "spool"),
      devices: lamps,
    });
    return { url, brokerPort: broker.port, influx, command, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
