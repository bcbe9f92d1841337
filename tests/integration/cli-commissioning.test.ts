// `commission`, `watch`, `sign-off` and `identify` run as child processes against a real command service (its own
// process, a real SQLite registry, tokens from a COMMAND_TOKEN_FILE: harness/cli.ts). It has no broker, so the
// device never connects: the connection check fails after COMMISSIONING_CONNECT_TIMEOUT_S (5 s) while the
// location check passes, which is enough to see the watch print each transition as it happens and end with
// exit code 1.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, type CliService, startCliService } from "./harness/cli.ts";

const run = Math.random().toString(36).slice(2, 8);
let svc: CliService;
const cli: CliService["cli"] = (...args) => svc.cli(...args);

const sl = `sl-cli-${run}`;

beforeAll(async () => {
  svc = await startCliService({
    tmpPrefix: "cli-commissioning-",
    env: { COMMISSIONING_CONNECT_TIMEOUT_S: "5" },
  });
  const registered = await cli([
    "register",
    ...["--id", sl, "--kind", "streetlight", "--district", "Anfa", "--lat", "33.5905", "--lon", "-7.6512"],
    ...["--led-watts", "60", "--legacy-watts", "150"],
  ]);
  expect(registered.code).toBe(0);
});

afterAll(async () => {
  await svc?.stop();
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
      cwd: svc.dir,
      env: svc.cliEnv(svc.tokens.engineer),
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
