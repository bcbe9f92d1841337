// Entry point of the ingest: reads config, connects InfluxDB and the registry cache, starts, serves ops.
import { join } from "node:path";
import { loadConfig } from "../lib/config.ts";
import { connectInflux } from "../lib/influx/client.ts";
import { createLogger } from "../lib/log.ts";
import { startOpsServer } from "../lib/ops-server.ts";
import { createRegistryCache, httpChangeFeed } from "../registry/cache.ts";
import { ingestConfigSchema, ingestEnv } from "./config.ts";
import { createIngest } from "./ingest.ts";
import { createIngestMetrics } from "./metrics.ts";

const config = loadConfig("ingest", ingestConfigSchema, ingestEnv, { env: process.env });
const log = createLogger("ingest", config.logLevel);
const metrics = createIngestMetrics();
const influx = await connectInflux(config.influx, log);
// The database may not exist yet, or InfluxDB may not be up: the spool holds readings meanwhile.
void (async () => {
  for (let attempt = 1; ; attempt++) {
    try {
      log.info({ result: await influx.ensureDatabase() }, "InfluxDB database ready");
      return;
    } catch (err) {
      if (attempt === 1 || attempt % 20 === 0)
        log.warn({ err: (err as Error).message }, "InfluxDB not ready; spooling meanwhile");
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
    }
  }
})();
const registry = createRegistryCache({
  feed: httpChangeFeed(config.registry.url, config.registry.token),
  log: log.child({ module: "registry" }),
  pollMs: config.registry.pollMs,
  snapshotPath: join(config.spool.dir, "registry-snapshot.json"),
});
await registry.start();
const ingest = await createIngest({
  config,
  log,
  metrics,
  registry,
  write: (lines) => influx.writeLines(lines, "ns"),
  writeBody: (body) => influx.writeBody(body, "ns"),
});
await ingest.start();
const ops = await startOpsServer({
  host: config.ops.host,
  port: config.ops.port,
  registry: metrics.registry,
  health: () => {
    const s = ingest.status();
    return {
      status: s.mqttConnected && s.influxUp && !s.paused && !s.spoolError ? "ok" : "degraded",
      checks: s,
    };
  },
});
log.info(
  { ops: ops.url, mqtt: config.mqtt.url, influx: config.influx.url, spool: config.spool.dir },
  "ingest running",
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping: flushing the spool and acknowledging what is on disk");
  await ingest.stop();
  // After the ingest, which may still be holding a reading until a refresh; this waits for the last snapshot write.
  await registry.stop();
  await ops.close();
  await influx.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
