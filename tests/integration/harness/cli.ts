// The field CLI run as a child process, the way an engineer runs it, against a real command service: its own
// process (services/command/main.ts) on a free port, a real SQLite registry in a temp dir, static tokens from a
// COMMAND_TOKEN_FILE (0600) naming cli-admin, cli-engineer and cli-operator, no broker (MQTT_URL ""), the suite's
// InfluxDB. The CLI runs from the temp dir with nothing of the test's environment but PATH and CITY_*.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { inject } from "vitest";
import { pickPort, startChild, waitForHttp } from "../../../scripts/platform/processes.ts";
import { generateToken, sha256Hash } from "../../../services/lib/secrets.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
/** `npm run devices --` is `node services/cli/main.ts`. */
export const CLI = join(ROOT, "services/cli/main.ts");

export type CliResult = { code: number; stdout: string; stderr: string };

export type CliService = {
  url: string;
  /** The temp dir: the CLI's working directory, with the registry, the token file and the service's log. */
  dir: string;
  tokens: { admin: string; engineer: string; operator: string };
  /**
   * Runs `node services/cli/main.ts …` from the temp dir with `token` as CITY_API_TOKEN (the engineer's unless
   * told; null: none) and `env` on top. Exit code -1 when it did not exit with one (killed, timed out).
   */
  cli(args: string[], token?: string | null, env?: Record<string, string>): Promise<CliResult>;
  /** The whole environment the CLI gets: PATH, CITY_API_URL and, unless null, CITY_API_TOKEN. */
  cliEnv(token: string | null): Record<string, string | undefined>;
  stop(): Promise<void>;
};

export async function startCliService(opts: {
  tmpPrefix: string;
  /** More of the command service's environment, e.g. COMMISSIONING_CONNECT_TIMEOUT_S. */
  env?: Record<string, string>;
}): Promise<CliService> {
  const dir = mkdtempSync(join(tmpdir(), opts.tmpPrefix));
  const tokens = { admin: generateToken(), engineer: generateToken(), operator: generateToken() };
  const tokenFile = join(dir, "tokens.csv");
  writeFileSync(
    tokenFile,
    [
      "name,role,token_sha256",
      `cli-admin,admin,${sha256Hash(tokens.admin)}`,
      `cli-engineer,engineer,${sha256Hash(tokens.engineer)}`,
      `cli-operator,operator,${sha256Hash(tokens.operator)}`,
    ].join("\n"),
    { mode: 0o600 },
  );
  const port = await pickPort(0);
  const url = `http://127.0.0.1:${port}`;
  const influx = inject("influx");
  const service = startChild({
    name: "command",
    script: join(ROOT, "services/command/main.ts"),
    cwd: ROOT,
    logDir: join(dir, "logs"),
    echo: () => undefined,
    onExit: () => undefined,
    env: {
      COMMAND_HOST: "127.0.0.1",
      COMMAND_PORT: String(port),
      REGISTRY_DB: join(dir, "registry.sqlite"),
      COMMAND_TOKEN_FILE: tokenFile,
      COMMAND_PUBLIC_MQTT_URL: "mqtt://127.0.0.1:1883",
      COMMAND_RATE_LIMIT_PER_TOKEN: "100000",
      MQTT_URL: "",
      INFLUX_URL: influx.url,
      INFLUX_TOKEN: influx.token,
      INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket,
      LOG_LEVEL: "info",
      ...opts.env,
    },
  });
  const stop = async () => {
    await service.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/health`, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }

  const cliEnv = (token: string | null) => ({
    PATH: process.env.PATH,
    CITY_API_URL: url,
    ...(token ? { CITY_API_TOKEN: token } : {}),
  });
  const cli: CliService["cli"] = (args, token = tokens.engineer, env = {}) =>
    new Promise((done) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { cwd: dir, env: { ...cliEnv(token), ...env }, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
          done({ code, stdout, stderr });
        },
      );
    });
  return { url, dir, tokens, cli, cliEnv, stop };
}
