// `commission`, `watch`, `sign-off` and `identify` run as child processes against a real command service (its own
// process, a real SQLite registry, tokens from a COMMAND_TOKEN_FILE). It has no broker, so the device never
// connects: the connection check fails after COMMISSIONING_CONNECT_TIMEOUT_S (5 s) while the location check
// passes, which is enough to see the watch print each transition as it happens and end with exit code 1.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Child, pickPort, startChild, waitForHttp } from "../../scripts/platform/processes.ts";
import { generateToken, sha256Hash } from "../../services/lib/secrets.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "services/cli/main.ts");
const run = Math.random().toString(36).slice(2, 8);
const dir = mkdtempSync(join(tmpdir(), "cli-commissioning-"));
const tokens = { admin: generateToken(), engineer: generateToken(), operator: generateToken() };
let url = "";
let service: Child | undefined;

type Result = { code: number; stdout: string; stderr: string };

/** Runs `node services/cli/main.ts …` from the temp dir with the given token. */
function cli(
  args: string[],
  token: string | null = tokens.engineer,
  env: Record<string, string> = {},
): Promise<Result> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          CITY_API_URL: url,
          ...(token ? { CITY_API_TOKEN: token } : {}),
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

const sl = `sl-cli-${run}`;

beforeAll(async () => {
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
  url = `http://127.0.0.1:${port}`;
  const influx = inject("influx");
  service = startChild({
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
      COMMISSIONING_CONNECT_TIMEOUT_S: "5",
      MQTT_URL: "",
      INFLUX_URL: influx.url,
      INFLUX_TOKEN: influx.token,
      INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket,
      LOG_LEVEL: "info",
    },
  });
  await waitForHttp(`${url}/health`, 60_000);
  const registered = await cli([
    "register",
    ...["--id", sl, "--kind", "streetlight", "--district", "Anfa", "--lat", "33.5905", "--lon", "-7.6512"],
    ...["--led-watts", "60", "--legacy-watts", "150"],
  ]);
  expect(registered.code).toBe(0);
});

afterAll(async () => {
  await service?.stop(10_000);
  rmSync(dir, { recursive: true, force: true });
});

describe("commissioning from the CLI", () => {
  it("commissions and watches live: each check's transition, exit 1 when one fails", async () => {
    const r = await cli(["commission", sl]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}run [0-9a-f]{8} started by cli-engineer$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}… connection\s+running$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}✗ connection\s+failed\s+not connected within 5 s/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}✓ location\s+passed/m);
    expect(r.stdout).toMatch(/Commissioning failed: 1 of \d checks failed/);

    const again = await cli(["watch", sl]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("Commissioning failed");
    const page = await cli(["show", sl]);
    expect(page.stdout).toMatch(/✗ connection\s+failed\s+\d\d:\d\d:\d\d\s+\d\d:\d\d:\d\d\s+not connected/);

    const signOff = await cli(["sign-off", sl]);
    expect(signOff.code).toBe(1);
    expect(signOff.stderr).toContain("not_passed (HTTP 409)");
    const identify = await cli(["identify", sl]);
    expect(identify.code).toBe(1);
    expect(identify.stderr).toContain("ack_timeout (HTTP 504)");

    const started = await cli(["commission", sl, "--no-watch"]);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/run [0-9a-f]{8} · running/);
    const busy = await cli(["commission", sl]);
    expect(busy.stdout).toContain(`A run is already in progress for ${sl}; watching it.`);
    expect(busy.code).toBe(1);
  });

  it("Ctrl-C stops watching with 130; the run goes on", async () => {
    expect((await cli(["commission", sl, "--no-watch"])).code).toBe(0);
    const child = spawn(process.execPath, [CLI, "watch", sl], {
      cwd: dir,
      env: { PATH: process.env.PATH, CITY_API_URL: url, CITY_API_TOKEN: tokens.engineer },
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    await new Promise<void>((done) =>
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes("connection")) done();
      }),
    );
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain(
      `Stopped watching; the run goes on. Resume with: npm run devices -- watch ${sl}`,
    );
    const page = JSON.parse((await cli(["show", sl, "--json"])).stdout);
    expect(page.commissioning.status).not.toBe("cancelled");
  });
});
