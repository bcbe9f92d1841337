// Starts the broker the way a user does: `npm run broker`. The only file of the broker that reads
// configuration (config/broker.json + environment, see config.ts) and listens.
import { loadConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import { httpAccessFeed } from "./access/feed.ts";
import { createBroker } from "./broker.ts";
import { BROKER_ENV, brokerConfigSchema } from "./config.ts";

const config = loadConfig("broker", brokerConfigSchema, BROKER_ENV, { env: process.env });
const log = createLogger("broker", config.logLevel);
if (!config.access.token) {
  // Not fatal (the compose file and old set-ups start the broker first), but nobody will get in.
  log.error(
    "BROKER_API_TOKEN is not set: the access feed will refuse the broker, and so will the broker everyone",
  );
}
const feed = httpAccessFeed(config.access.registryUrl, config.access.token);
const broker = createBroker({ config, log, feed });

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
