// Section N's platform: its own influxd (or INFLUX_URL), the command service with the energy rollups on, the broker
// (access control on, following the command service's feed) and the ingest, each its own process, as `npm start`
// runs them. The command service starts once without MQTT so that the broker can read its access feed, then again
// on MQTT with its own account (it takes the ingest's activity digests there), as section K does.
import { join } from "node:path";
import { type InfluxdHandle, startInfluxd } from "../scripts/influxd/influxd.ts";
import type { InfluxClient } from "../services/lib/influx/index.ts";
import { silentLogger } from "../services/lib/log.ts";
import type { EnergyTokens } from "./energy-fleet.ts";
import {
  type Broker,
  type InfluxTarget,
  type Ingest,
  influxFor,
  type Service,
  startBroker,
  startCommand,
  startIngest,
} from "./stack.ts";

export type EnergyStack = {
  /** The command service's base URL. */
  url: string;
  brokerPort: number;
  influx: InfluxClient;
  command: Service;
  stop(): Promise<void>;
};

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
    // The rollups run at their production cadence (a cycle every 15 s after 5 s of settling).
    const commandOpts = {
      logDir: join(dir, "logs"),
      dataDir: dir,
      tokenFile: tokens.file,
      env: {
        COMMAND_RATE_LIMIT_PER_TOKEN: "100000",
        INFLUX_URL: target.url,
        INFLUX_TOKEN: target.token,
        INFLUX_ORG: target.org,
        INFLUX_BUCKET: bucket,
      },
      timeoutMs: 60_000,
    };
    const setup = await startCommand({ ...commandOpts, name: "command-n-setup" });
    command = setup.svc;
    const { port, url } = setup;
    broker = await startBroker(join(dir, "logs"), { registryUrl: url, token: tokens.broker }, "broker-n");
    await command.stop();
    command = (
      await startCommand({
        ...commandOpts,
        name: "command-n",
        port,
        mqtt: { url: `mqtt://127.0.0.1:${broker.port}`, password: tokens.command },
      })
    ).svc;
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
