// The field CLI run as a child process, the way an engineer runs it, against a real command service (its own
// process, a real SQLite registry in a temp dir, static tokens from a COMMAND_TOKEN_FILE, on a free port:
// harness/cli.ts): registering, importing, listing, showing, rotating, replacing, decommissioning; tokens and
// refusals.
// Commissioning and its live watch are in cli-commissioning.test.ts.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickPort } from "../../scripts/platform/processes.ts";
import { type CliService, startCliService } from "./harness/cli.ts";

const run = Math.random().toString(36).slice(2, 8);
let svc: CliService;
const cli: CliService["cli"] = (...args) => svc.cli(...args);
let dir = "";
let tokens: CliService["tokens"];

const mode = (path: string) => statSync(path).mode & 0o777;
const sl = `sl-cli-${run}`;
const aq = (n: number) => `aq-cli-${run}-${n}`;

beforeAll(async () => {
  svc = await startCliService({ tmpPrefix: "cli-test-" });
  ({ dir, tokens } = svc);
});

afterAll(async () => {
  await svc?.stop();
});

describe("devices CLI against the command service", () => {
  it("registers a streetlight and prints its credentials once", async () => {
    const r = await cli([
      "register",
      ...["--id", sl, "--kind", "streetlight", "--district", "Anfa", "--lat", "33.5905", "--lon", "-7.6512"],
      ...["--led-watts", "60", "--legacy-watts", "150", "--serial", "LC-1"],
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Registered ${sl}: streetlight in Anfa, status registered`);
    expect(r.stdout).toMatch(new RegExp(`client id\\s+${sl}`));
    expect(r.stdout).toMatch(/secret\s+[A-Za-z0-9_-]{43}\n/);
    expect(r.stdout).toContain(`city/v1/streetlight/${sl}/telemetry`);
    expect(r.stdout).toContain(`city/v1/streetlight/${sl}/cmd`);

    const again = await cli([
      "register",
      ...["--id", sl, "--kind", "streetlight", "--district", "Anfa", "--lat", "33.59", "--lon", "-7.65"],
      ...["--led-watts", "60", "--legacy-watts", "150"],
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already_registered");
  });

  it("refuses a CSV with a bad row, naming its line and field, and imports nothing", async () => {
    writeFileSync(
      join(dir, "bad.csv"),
      [
        "id,kind,district,lat,lon,installed_at,report_interval_s",
        `${aq(1)},airquality,Maarif,33.58,-7.63,2025-01-14,60`,
        `${aq(2)},airquality,Atlantis,33.58,-7.63,2025-01-14,60`,
        `${aq(3)},airquality,Maarif,north,-7.63,2025-01-14,60`,
      ].join("\n"),
    );
    const r = await cli(["import", "bad.csv"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Nothing was imported from bad.csv");
    expect(r.stderr).toMatch(/bad\.csv:3 .*Atlantis[\s\S]*district:/);
    expect(r.stderr).toMatch(/bad\.csv:4 .*north[\s\S]*lat:/);
    expect(r.stderr).not.toMatch(/bad\.csv:2/);
    expect(() => statSync(join(dir, "bad.secrets.csv"))).toThrow(); // no secrets file left behind

    const list = await cli(["list", "--kind", "airquality", "--all", "--json"]);
    expect(list.code).toBe(0);
    const ids = (JSON.parse(list.stdout) as { devices: { id: string }[] }).devices.map((d) => d.id);
    expect(ids).not.toContain(aq(1));
  });

  it("imports a good CSV and writes the new secrets to a 0600 file, not the screen", async () => {
    writeFileSync(
      join(dir, "good.csv"),
      [
        "kind,id,district,lat,lon,installed_at,report_interval_s,led_watts,legacy_watts,serial",
        `airquality,${aq(1)},Maarif,33.58,-7.63,2025-01-14,60,,,`,
        `airquality,${aq(2)},Maarif,33.581,-7.631,2025-01-14,30,,,AQ-2`,
      ].join("\n"),
    );
    const r = await cli(["import", "good.csv", "--secrets-out", "fleet-secrets.csv"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("2 created, 0 updated");
    const secrets = join(dir, "fleet-secrets.csv");
    expect(mode(secrets)).toBe(0o600);
    const rows = readFileSync(secrets, "utf8").trim().split("\n");
    expect(rows[0]).toBe("id,client_id,username,secret,generation,mqtt_url,publish_topics,subscribe_topics");
    expect(rows.slice(1).map((row) => row.split(",")[0])).toEqual([aq(1), aq(2)]);
    const secret = rows[1]?.split(",")[3] as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.stdout).not.toContain(secret);

    const twice = await cli(["import", "good.csv", "--secrets-out", "fleet-secrets.csv"]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("exists; secrets are never written over an existing file");
  });

  it("lists with filters, as a table and as JSON", async () => {
    const table = await cli(["list", "--kind", "airquality", "--district", "Maarif"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+KIND\s+DISTRICT\s+STATUS\s+LIVENESS\s+LAST SEEN/);
    expect(table.stdout).toMatch(
      new RegExp(`${aq(2)}\\s+airquality\\s+Maarif\\s+registered\\s+never_seen\\s+never`),
    );
    const json = await cli(["list", "--status", "registered", "--limit", "1", "--all", "--json"]);
    const ids = (JSON.parse(json.stdout) as { devices: { id: string }[] }).devices.map((d) => d.id);
    expect(ids).toEqual(expect.arrayContaining([sl, aq(1), aq(2)]));
  });

  it("shows a device's page", async () => {
    const r = await cli(["show", sl]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${sl}  streetlight in Anfa  [registered]`);
    expect(r.stdout).toMatch(/liveness\s+never seen/);
    expect(r.stdout).toMatch(/credential\s+generation 1/);
    expect(r.stdout).toContain("no run yet");
    const json = JSON.parse((await cli(["show", sl, "--json"])).stdout);
    expect(json.device.id).toBe(sl);
    const missing = await cli(["show", `nx-${run}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not_found");
  });

  it("rotates a secret into a 0600 file and corrects a position", async () => {
    const r = await cli(["rotate", sl, "--secret-out", "sl.json"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("generation 2 is live");
    expect(mode(join(dir, "sl.json"))).toBe(0o600);
    const creds = JSON.parse(readFileSync(join(dir, "sl.json"), "utf8"));
    expect(creds).toMatchObject({ id: sl, username: sl, generation: 2 });
    expect(r.stdout).not.toContain(creds.secret);
    expect((await cli(["show", sl])).stdout).toMatch(/credential\s+generation 2/);

    const fix = await cli(["correct", sl, "--lat", "33.591", "--lon", "-7.652"]);
    expect(fix.code).toBe(0);
    expect(fix.stdout).toMatch(/lon\s+-7.652/);

    const replaced = await cli(["replace", sl, "--serial", "LC-2", "--note", "driver burnt out"]);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain(
      `Replaced: ${sl}: streetlight in Anfa, status registered, credential generation 3`,
    );
    expect(replaced.stdout).toMatch(/secret\s+[A-Za-z0-9_-]{43}\n/);
    const history = await cli(["history", sl]);
    expect(history.stdout).toMatch(/registered[\s\S]*replaced/);
  });

  it("decommissions with a reason, recorded in the history", async () => {
    const noReason = await cli(["decommission", aq(2)]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("missing required flag --reason");
    const r = await cli(["decommission", aq(2), "--reason", "pole knocked down"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("status decommissioned");
    const history = await cli(["history", aq(2)]);
    expect(history.code).toBe(0);
    // One row (at, actor, action, detail) says who decommissioned it, and why.
    expect(history.stdout).toMatch(/^.*\bcli-engineer\s+decommissioned\s+\{.*"reason":"pole knocked down"/m);
  });

  it("creates tokens as admin; an operator is refused with 403 and may only read", async () => {
    const created = await cli(["tokens", "create", "--name", `ops-${run}`, "--role", "operator"], null, {
      CITY_API_TOKEN: tokens.admin,
    });
    expect(created.code).toBe(0);
    const token = /token\s+(cst_[A-Za-z0-9_-]+)/.exec(created.stdout)?.[1] as string;
    expect(token).toBeDefined();
    const who = await cli(["whoami"], token);
    expect(who.code).toBe(0);
    expect(who.stdout).toMatch(/role\s+operator/);
    expect(who.stdout).toMatch(/token from\s+CITY_API_TOKEN/);

    const denied = await cli(["tokens", "create", "--name", "x", "--role", "admin"], tokens.operator);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("forbidden (HTTP 403)");
    expect(denied.stderr).toContain("tokens:admin");
    const write = await cli(["decommission", aq(1), "--reason", "x"], tokens.operator);
    expect(write.code).toBe(1);
    expect(write.stderr).toContain("forbidden");
    expect((await cli(["list"], tokens.operator)).code).toBe(0);

    const list = await cli(["tokens", "list"], tokens.admin);
    expect(list.stdout).toContain(`ops-${run}`);
    const id = new RegExp(`^(\\S+)\\s+ops-${run}`, "m").exec(list.stdout)?.[1] as string;
    expect((await cli(["tokens", "revoke", id], tokens.admin)).code).toBe(0);
    const revoked = await cli(["whoami"], token);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain("unauthorized (HTTP 401)");
    expect(revoked.stderr).toContain("the token came from CITY_API_TOKEN");
  });

  it("says which token was refused, and exits 3 when the API cannot be reached", async () => {
    const bad = await cli(["list"], null, { CITY_API_TOKEN: "cst_not-a-real-token" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("the token came from CITY_API_TOKEN");
    const port = await pickPort(0);
    const down = await cli(["list", "--url", `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`cannot reach the command service at http://127.0.0.1:${port}`);
    expect(down.stderr).toContain("(URL from --url)");
  });
});
