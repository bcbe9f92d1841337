// Starts the broker the way a user does: `npm run broker`. The only file of the broker that reads
// configuration (config/broker.json + environment, see config.ts) and listens.
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { createBroker } from "./broker.ts";
import { BROKER_ENV, brokerConfigSchema } from "./config.ts";

const config = loadConfig("broker", brokerConfigSchema, BROKER_ENV, { env: process.env });
const log = createLogger("broker", config.logLevel);
const broker = createBroker({ config, log });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  // A second signal, or a shutdown that hangs, ends the process anyway.
  if (stopping) process.exit(1);
  stopping = true;
  log.info({ signal }, "shutting down");
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  try {
    await broker.stop();
    process.exit(0);
  } catch (err) {
    log.error({ err }, "shutdown failed");
    process.exit(1);
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void shutdown(signal));
}

try {
  await broker.start();
} catch (err) {
  log.fatal({ err }, "broker failed to start");
  process.exit(1);
}
