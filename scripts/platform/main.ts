// `npm start`: the whole platform on one machine, from a fresh clone with nothing done first.
//   1. InfluxDB: INFLUX_URL if set; else a local influxd in .data/influxdb (Debian's package installed if absent).
//   2. Secrets: API tokens for a local admin, a local engineer, the demo fleet and each service, made once in
//      .data/secrets/ (scripts/platform/secrets.ts); .data/platform.json says where everything is (the CLI reads it).
//   3. The command service (device registry), the broker, the ingest: each its own process, logs in .data/logs/.
//   4. A demo fleet from the simulators (hundreds of devices), registered and commissioned through the API. On the
//      first start of a data dir it first backfills history from the day before the 1st of last month
//      (scripts/platform/history.ts), so last month's energy report has data; later starts skip that.
// Prints where everything is and, every few seconds, how many readings have landed. Ctrl-C stops it all in
// order (devices first, the ingest flushing its spool, then the broker, the registry and InfluxDB).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureLocalSecrets } from "../../services/command/bootstrap-secrets.ts";
import { INGEST_NODE_FLAGS } from "../../services/ingest/runtime.ts";
import { createLogger } from "../../services/lib/log.ts";
import { type InfluxdHandle, startInfluxd } from "../influxd/influxd.ts";
import { describePlan, planHistory, watchHistory } from "./history.ts";
import { type Child, pickPort, startChild, waitForHttp } from "./processes.ts";
import { createStatusReporter, type StatusReporter } from "./status.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const { values: args } = parseArgs({
  options: {
    "data-dir": { type: "string", default: join(ROOT, ".data") },
    "no-fleet": { type: "boolean", default: false },
    "no-history": { type: "boolean", default: false },
    streetlights: { type: "string" },
    airquality: { type: "string" },
    traffic: { type: "string" },
    "status-every": { type: "string", default: "10" },
  },
});
const dataDir = resolve(args["data-dir"]);
mkdirSync(dataDir, { recursive: true });
const logDir = join(dataDir, "logs");
const log = createLogger("platform", process.env.LOG_LEVEL ?? "info");
const children: Child[] = [];
let influxd: InfluxdHandle | undefined;
let status: StatusReporter | undefined;
let stopping = false;
let historyWatch: ReturnType<typeof watchHistory> | undefined;
const t0 = Date.now();

function onExit(name: string, code: number | null, signal: string | null): void {
  if (stopping) return;
  console.error(
    `\n${name} exited unexpectedly (code ${code}, signal ${signal}); see ${join(logDir, `${name}.log`)}. Stopping.`,
  );
  void shutdown(1);
}

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping: simulators, ingest (flushing its spool), broker, command service, InfluxDB…");
  for (const name of ["simulator", "ingest", "broker", "command"]) {
    await children.find((c) => c.name === name)?.stop(name === "ingest" ? 20_000 : 10_000);
  }
  // A backfill that ended just before Ctrl-C is recorded all the same (its truth file says it completed).
  historyWatch?.check();
  historyWatch?.stop();
  await status?.close();
  await influxd?.stop();
  console.log("stopped.");
  process.exit(exitCode);
}
// Should `npm start` itself end abruptly, take the services (in their own process groups) with it.
process.on("exit", () => {
  for (const c of children)
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
});
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  let influxUrl = process.env.INFLUX_URL ?? "";
  if (!influxUrl) {
    console.log("InfluxDB: INFLUX_URL is not set; starting a local influxd in", join(dataDir, "influxdb"));
    influxd = await startInfluxd({
      dataDir: join(dataDir, "influxdb"),
      port: await pickPort(8086),
      database: process.env.INFLUX_BUCKET ?? "telemetry",
      log: log.child({ module: "influxd" }),
    });
    influxUrl = influxd.url;
  }
  const ports = {
    command: await pickPort(Number(process.env.COMMAND_PORT ?? 8080)),
    mqtt: await pickPort(Number(process.env.BROKER_MQTT_PORT ?? 1883)),
    ws: await pickPort(Number(process.env.BROKER_WS_PORT ?? 9001)),
    brokerOps: await pickPort(Number(process.env.BROKER_OPS_PORT ?? 9102)),
    ingestOps: await pickPort(Number(process.env.INGEST_OPS_PORT ?? 9103)),
  };
  const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
  const commandUrl = `http://127.0.0.1:${ports.command}`;
  const common = {
    INFLUX_URL: influxUrl,
    MQTT_URL: mqttUrl,
    REGISTRY_URL: commandUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  };
  const start = (name: string, script: string, env: Record<string, string>, extra: string[] = []) => {
    const child = startChild({
      name,
      script: join(ROOT, script),
      args: extra,
      nodeArgs: name === "ingest" ? INGEST_NODE_FLAGS : [],
      env: { ...common, ...env },
      logDir,
      cwd: ROOT,
      onExit,
    });
    children.push(child);
    return child;
  };

  const secrets = ensureLocalSecrets(join(dataDir, "secrets"));
  const platformFile = join(dataDir, "platform.json");
  writeFileSync(
    platformFile,
    `${JSON.stringify(
      {
        command_url: commandUrl,
        mqtt_url: mqttUrl,
        ws_url: `ws://127.0.0.1:${ports.ws}/mqtt`,
        influx_url: influxUrl,
        secrets_dir: secrets.dir,
      },
      null,
      2,
    )}\n`,
  );
  // The registry first: the broker admits nobody until it has read the access feed (who may connect).
  start("command", "services/command/main.ts", {
    COMMAND_PORT: String(ports.command),
    REGISTRY_DB: join(dataDir, "registry.sqlite"),
    COMMAND_TOKEN_FILE: secrets.tokenFile,
    COMMAND_MQTT_USERNAME: "svc-command",
    COMMAND_MQTT_PASSWORD: secrets.token("svc-command"),
  });
  await waitForHttp(`${commandUrl}/health`, 30_000);
  start("broker", "services/broker/main.ts", {
    BROKER_MQTT_PORT: String(ports.mqtt),
    BROKER_WS_PORT: String(ports.ws),
    BROKER_OPS_PORT: String(ports.brokerOps),
    BROKER_API_TOKEN: secrets.token("svc-broker"),
    BROKER_ACCESS_SNAPSHOT: join(dataDir, "broker-access.json"),
  });
  await waitForHttp(`http://127.0.0.1:${ports.brokerOps}/health`, 30_000);
  start("ingest", "services/ingest/main.ts", {
    INGEST_OPS_PORT: String(ports.ingestOps),
    INGEST_SPOOL_DIR: join(dataDir, "ingest-spool"),
    INGEST_API_TOKEN: secrets.token("svc-ingest"),
  });
  // The ingest answers /health with 503 until InfluxDB is reachable; answering at all means it is up.
  await waitForHttp(`http://127.0.0.1:${ports.ingestOps}/health`, 60_000, () => true);
  if (!args["no-fleet"]) {
    const fleetArgs: string[] = [];
    const fleetSize = { streetlights: 240, airquality: 40, traffic: 40 };
    for (const k of ["streetlights", "airquality", "traffic"] as const) {
      if (args[k]) fleetArgs.push(`--${k}`, args[k] as string);
      fleetSize[k] = Number(args[k] ?? process.env[`SIM_${k.toUpperCase()}`] ?? fleetSize[k]);
    }
    const devices = fleetSize.streetlights + fleetSize.airquality + fleetSize.traffic;
    const history = planHistory({ dataDir, nowMs: t0, enabled: !args["no-history"], env: process.env });
    console.log(describePlan(history, devices));
    if (history.kind === "backfill")
      historyWatch = watchHistory(history, devices, t0, (r) =>
        console.log(
          `Demo history sent after ${r.seconds} s (${r.from} → ${r.to}, every ${r.interval_s} s; the ingest ` +
            `stores the rest of it within a minute) and the fleet is live. What really happened: ` +
            `npm run truth -- --file ${r.truth_file} --period <YYYY-MM> [--district NAME]`,
        ),
      );
    start(
      "simulator",
      "simulators/main.ts",
      {
        SIM_API_TOKEN: secrets.token("simulator"),
        SIM_CREDENTIALS_FILE: join(dataDir, "simulator", "credentials.json"),
        ...(history.kind === "backfill" ? history.env : {}),
      },
      fleetArgs,
    );
  }

  console.log(`
Casablanca city telemetry platform is running.
  MQTT broker       ${mqttUrl}   (WebSocket ws://127.0.0.1:${ports.ws}/mqtt)
  Broker ops        http://127.0.0.1:${ports.brokerOps}/health  /metrics
  Command service   ${commandUrl}/v1/devices   (API docs ${commandUrl}/docs)
  API tokens        ${secrets.dir}/admin.token, engineer.token, energy-manager.token   (the CLI uses them: npm run devices -- --help)
  Ingest ops        http://127.0.0.1:${ports.ingestOps}/health  /metrics
  InfluxDB          ${influxUrl}   database "${process.env.INFLUX_BUCKET ?? "telemetry"}"${influxd ? ` (local influxd ${influxd.version}, data in ${join(dataDir, "influxdb")})` : ""}
  Logs              ${logDir}/<service>.log
Press Ctrl-C to stop.
`);
  const everyMs = Number(args["status-every"]) * 1000;
  status = createStatusReporter({
    influxUrl,
    ingestOps: `http://127.0.0.1:${ports.ingestOps}`,
    env: process.env,
  });
  const reporter = status;
  const timer = setInterval(() => {
    void reporter.line().then((s) => {
      if (!stopping) console.log(`[${Math.round((Date.now() - t0) / 1000)}s] ${s}`);
    });
  }, everyMs);
  timer.unref();
} catch (err) {
  console.error(`npm start failed: ${(err as Error).message}`);
  await shutdown(1);
}
