// The whole platform started the way a user starts it (`npm start` runs scripts/platform/main.ts), with its own
// local InfluxDB, a small demo fleet that registers with its own credentials and comes up commissioned, readings
// of every kind landing, and Ctrl-C stopping everything cleanly.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connectInflux } from "../../services/lib/influx/index.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { eventually } from "../integration/harness/stack.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(join(tmpdir(), "platform-e2e-"));
let proc: ChildProcess | undefined;
let out = "";

afterAll(async () => {
  // After a failure the platform is still up: Ctrl-C first, so that it stops its services (each in its own
  // process group) and InfluxDB; SIGKILL only if that hangs, which would leave them behind.
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc?.once("exit", r));
    proc.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("runs InfluxDB, broker, registry, ingest and a commissioned demo fleet; readings land; Ctrl-C stops it all", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, SIM_INTERVAL_S: "5", LOG_LEVEL: "info" };
    delete env.INFLUX_URL; // as on a fresh machine: the platform starts its own influxd
    proc = spawn(
      process.execPath,
      [
        "scripts/platform/main.ts",
        "--data-dir",
        dataDir,
        "--streetlights",
        "12",
        "--airquality",
        "4",
        "--traffic",
        "4",
        "--status-every",
        "2",
      ],
      { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    proc.stdout?.on("data", (d) => {
      out += d.toString();
    });
    proc.stderr?.on("data", (d) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => proc?.once("exit", (code) => r(code)));

    await eventually(
      async () => out.includes("Press Ctrl-C to stop."),
      120_000,
      `the start banner; output so far:\n${out}`,
    );
    const influxUrl = /InfluxDB\s+(http:\/\/\S+)/.exec(out)?.[1];
    const commandUrl = /Command service\s+(http:\/\/\S+)\/v1\/devices/.exec(out)?.[1];
    expect(influxUrl).toBeDefined();
    expect(commandUrl).toBeDefined();

    // The API wants a token: npm start made the local engineer's in the data folder.
    const token = readFileSync(join(dataDir, "secrets", "engineer.token"), "utf8").trim();
    const devices = async (query = "") =>
      (
        (await (
          await fetch(`${commandUrl}/v1/devices?limit=100${query}`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as { devices: { id: string; status: string }[] }
      ).devices;
    expect((await fetch(`${commandUrl}/v1/devices`)).status).toBe(401);
    // The fleet registered itself through the API…
    await eventually(async () => (await devices()).length === 20, 60_000, "20 registered devices");
    // …and readings of every kind land in InfluxDB, tagged with their district.
    const influx = await connectInflux(
      { url: influxUrl as string, token: "", org: "city", bucket: "telemetry", timeoutMs: 10_000 },
      silentLogger(),
    );
    const count = async (m: string) =>
      Number((await influx.query(`SELECT count(seq) FROM ${m}`))[0]?.values[0]?.[1] ?? 0);
    await eventually(
      async () =>
        (await count("streetlight")) >= 12 &&
        (await count("airquality")) >= 4 &&
        (await count("traffic")) >= 4,
      90_000,
      "readings of every kind",
    );
    // …and was commissioned: every check passed and was signed off.
    await eventually(
      async () => (await devices("&status=commissioned")).length === 20,
      180_000,
      "20 commissioned devices",
    ).catch(async (err: Error) => {
      // Say which devices are not commissioned, and why (their latest run's failed checks).
      const lagging = (await devices()).filter((d) => d.status !== "commissioned");
      const why = await Promise.all(
        lagging.map(async (d) => {
          const res = await fetch(`${commandUrl}/v1/devices/${d.id}/commissioning`, {
            headers: { authorization: `Bearer ${token}` },
          });
          return `${d.id} ${d.status}: ${res.status} ${(await res.text()).slice(0, 600)}`;
        }),
      );
      throw new Error(`${err.message}\n${why.join("\n")}`);
    });
    const districts = await influx.query("SHOW TAG VALUES FROM streetlight WITH KEY = district");
    expect(districts[0]?.values.length).toBeGreaterThan(0);
    // The status line reports what landed.
    await eventually(
      async () => /readings in InfluxDB: [1-9]\d*/.test(out),
      30_000,
      "a status line with readings",
    );

    proc.kill("SIGINT");
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r("timeout"), 90_000)),
    ]);
    expect(code).toBe(0);
    expect(out).toContain("stopped.");
    expect(out).not.toMatch(/exited unexpectedly/);
    await influx.close();
  });
});
