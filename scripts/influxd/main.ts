// CLI: `npm run influxd -- [--data-dir D] [--port P] [--database NAME]`
// Runs a local InfluxDB 1.x in the foreground (see influxd.ts) until SIGINT/SIGTERM and prints its URL,
// e.g. to point INFLUX_URL at it from another shell.
import { parseArgs } from "node:util";
import { createLogger } from "../../services/lib/log.ts";
import { startInfluxd } from "./influxd.ts";

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string", default: ".data/influxdb" },
    port: { type: "string", default: "0" },
    database: { type: "string", default: "telemetry" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(
    "usage: node scripts/influxd/main.ts [--data-dir .data/influxdb] [--port 0] [--database telemetry]",
  );
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer 0..65535, got "${values.port}"`);
  process.exit(2);
}

const log = createLogger("influxd");
try {
  const influxd = await startInfluxd({
    dataDir: values["data-dir"],
    port,
    database: values.database,
    log,
    onCrash: () => process.exit(1),
  });
  console.log(influxd.url);
  const shutdown = (signal: string) => {
    log.info({ signal }, "stopping influxd");
    influxd.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "stopping influxd failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
} catch (err) {
  log.error({ err }, "influxd failed to start");
  process.exit(1);
}
