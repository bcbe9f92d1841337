// The whole platform started the way a user starts it (`npm start` runs scripts/platform/main.ts), with its own
// local InfluxDB, a small demo fleet that registers with its own credentials and comes up commissioned, readings
// of every kind landing, the README's dimming walk-through through the CLI (a midnight-dimming calendar on a
// district reaching every lamp, a street overridden for an event, compliance read back), the README's energy
// walk-through (the demo history npm start backfills on its first start, last month's savings for a district as a
// summary, CSV files and JSON, against the simulator's own truth within 1 %), and Ctrl-C stopping everything
// cleanly.
import { type ChildProcess, execFile, spawn } from "node:child_process";
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
    // Unacknowledged schedule deliveries are re-sent after 10 s instead of a minute (a few lamps lose messages).
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SIM_INTERVAL_S: "5",
      LOG_LEVEL: "info",
      SCHEDULE_RETRY_AFTER_S: "10",
    };
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

    // The README's dimming walk-through, through the CLI as an engineer runs it.
    const cli = (args: string[]) =>
      new Promise<{ code: number; out: string }>((done) => {
        execFile(
          process.execPath,
          ["services/cli/main.ts", ...args],
          {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? "", CITY_API_URL: commandUrl as string, CITY_API_TOKEN: token },
            timeout: 150_000,
          },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: `${stdout}${stderr}` }),
        );
      });
    const ok = async (args: string[], codes = [0]) => {
      const r = await cli(args);
      expect(codes, `devices ${args.join(" ")}:\n${r.out}`).toContain(r.code);
      return r.out;
    };
    // The district of the first streetlight, and its lamps.
    const streetlights = (await devices("&kind=streetlight")) as unknown as {
      id: string;
      district: string;
    }[];
    const districtName = streetlights[0]?.district ?? "";
    const ofDistrict = streetlights.filter((d) => d.district === districtName).map((d) => d.id);
    expect(ofDistrict.length).toBeGreaterThan(0);
    await ok([
      "programs",
      "create",
      "midnight-dim",
      "--name",
      "Midnight dimming",
      "--point",
      "sunset+10=100",
      "--point",
      "00:00=50@300",
      "--point",
      "05:00=80",
      "--point",
      "sunrise-15=0",
    ]);
    await ok([
      "calendars",
      "create",
      "city-midnight",
      "--name",
      "Midnight dimming",
      "--default",
      "midnight-dim",
    ]);
    // A few simulated lamps refuse ramps on purpose (exit 1 then); every lamp must have answered either way.
    const assigned = await ok(
      ["assign", "--district", districtName, "--calendar", "city-midnight", "--watch", "--timeout", "2m"],
      [0, 1],
    );
    expect(assigned).toMatch(new RegExp(`Done in .*${ofDistrict.length} lamps? — applied`));
    const shown = await ok(["schedule", ofDistrict[0] as string]);
    expect(shown).toContain("calendar city-midnight");
    await ok([
      "groups",
      "create",
      "event-street",
      "--name",
      "Event street",
      "--devices",
      ofDistrict.join(","),
    ]);
    const overridden = await ok(
      [
        "override",
        "--group",
        "event-street",
        "--level",
        "100",
        "--for",
        "2h",
        "--reason",
        "match",
        "--watch",
        "--timeout",
        "2m",
      ],
      [0, 1],
    );
    expect(overridden).toMatch(/Done in .* — applied/);
    const report = JSON.parse(
      await ok(["compliance", "--district", districtName, "--since", "1h", "--json"]),
    ) as {
      lamps: number;
      samples: number;
      compliance_pct: number | null;
    };
    expect(report.lamps).toBe(ofDistrict.length);
    expect(report.samples).toBeGreaterThan(0);
    expect(report.compliance_pct).not.toBeNull();

    // The README's energy walk-through, as the local energy manager: last month's savings for the district.
    expect(out).toMatch(/Demo history: first start of this data dir/);
    await eventually(async () => /Demo history sent after/.test(out), 240_000, "the demo history backfilled");
    const energyToken = readFileSync(join(dataDir, "secrets", "energy-manager.token"), "utf8").trim();
    const energy = (args: string[]) =>
      new Promise<{ code: number; out: string }>((done) => {
        execFile(
          process.execPath,
          ["services/cli/main.ts", "energy", ...args],
          {
            cwd: ROOT,
            env: {
              PATH: process.env.PATH ?? "",
              CITY_API_URL: commandUrl as string,
              CITY_API_TOKEN: energyToken,
            },
            timeout: 60_000,
            maxBuffer: 16 * 1024 * 1024,
          },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: `${stdout}${stderr}` }),
        );
      });
    type Totals = { reporting_kwh: number; baseline_kwh: number; savings_kwh: number };
    const truthOut = await new Promise<string>((done, fail) =>
      execFile(
        process.execPath,
        [
          "simulators/truth-report.ts",
          "--file",
          join(dataDir, "simulator", "history-truth.json"),
          "--district",
          districtName,
          "--period",
          "last-month",
          "--json",
        ],
        { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => (err ? fail(new Error(`npm run truth: ${stderr}`)) : done(stdout)),
      ),
    );
    const truth = (JSON.parse(truthOut) as { totals: Totals }).totals;
    expect(truth.baseline_kwh).toBeGreaterThan(0);
    // The rollups catch up with the history in the background: the report converges on the truth.
    let last = "";
    await eventually(
      async () => {
        const r = await energy(["report", "--district", districtName, "--last", "month", "--json"]);
        last = r.out;
        if (r.code !== 0) return false;
        const got = (JSON.parse(r.out) as { totals: Totals }).totals;
        return (["reporting_kwh", "baseline_kwh", "savings_kwh"] as const).every(
          (k) => Math.abs(got[k] - truth[k]) <= 0.01 * Math.abs(truth[k]),
        );
      },
      240_000,
      `last month's report within 1 % of the truth ${JSON.stringify(truth)}`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nlast answer: ${last.slice(0, 2000)}`);
    });
    const summary = await energy(["report", "--district", districtName, "--last", "month"]);
    expect(summary.code, summary.out).toBe(0);
    expect(summary.out).toContain(`Energy and savings of district ${districtName}`);
    expect(summary.out).toMatch(/Completeness, of [\d,.]+ lamp-hours in service/);
    expect(summary.out).toMatch(/Method \(IPMVP Option B/);
    const csv = await energy(["report", "--district", districtName, "--last", "month", "--csv", "lamps"]);
    expect(csv.code, csv.out).toBe(0);
    const csvLines = csv.out.replace(/^\uFEFF/, "").split("\r\n");
    expect(csvLines[0]).toMatch(/^lamp_id,district,legacy_w,led_w,burning_h,baseline_kwh,/);
    expect(csvLines.filter((l) => l.startsWith("sl-"))).toHaveLength(ofDistrict.length);
    const outDir = join(dataDir, "reports");
    const written = await energy(["report", "--district", districtName, "--last", "month", "--out", outDir]);
    expect(written.code, written.out).toBe(0);
    for (const table of ["lamps", "days", "summary"])
      expect(written.out).toMatch(new RegExp(`energy-[a-z-]+-\\d{4}-\\d{2}-${table}\\.csv`));

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
