// The CLI's argument parsing and configuration resolution: usage errors name the flag (exit code 2), negative
// longitudes pass, and the URL and token come from flag, environment, .data files or the default, in order.
import { describe, expect, it } from "vitest";
import { type CommandSpec, joinNegativeValues, optionsOf, parseCommand } from "../../services/cli/args.ts";
import { COMMANDS, runCli, splitCommand } from "../../services/cli/cli.ts";
import { resolveConfig } from "../../services/cli/config.ts";

const spec: CommandSpec = {
  name: "register",
  summary: "",
  options: {
    id: { type: "string", required: true, description: "" },
    lat: { type: "number", required: true, description: "" },
    lon: { type: "number", required: true, description: "" },
    interval: { type: "integer", description: "" },
    kind: { type: "string", choices: ["streetlight", "traffic"], description: "" },
    "no-watch": { type: "boolean", description: "" },
  },
};

describe("parseCommand", () => {
  it("parses flags, converting numbers, and takes negative values after a flag", () => {
    const r = parseCommand(spec, [
      "--id",
      "sl-1",
      "--lat",
      "33.59",
      "--lon",
      "-7.65",
      "--interval",
      "30",
      "--no-watch",
    ]);
    expect(r).toEqual({
      ok: true,
      values: { id: "sl-1", lat: 33.59, lon: -7.65, interval: 30, "no-watch": true },
      positionals: [],
      help: false,
    });
    expect(joinNegativeValues(["--lon", "-7.6", "--no-watch", "-h"], optionsOf(spec))).toEqual([
      "--lon=-7.6",
      "--no-watch",
      "-h",
    ]);
  });

  it.each([
    [["--lat", "1", "--lon", "2"], "missing required flag --id"],
    [["--id", "x", "--lat", "north", "--lon", "2"], '--lat must be a number (got "north")'],
    [
      ["--id", "x", "--lat", "1", "--lon", "2", "--interval", "1.5"],
      '--interval must be a whole number (got "1.5")',
    ],
    [
      ["--id", "x", "--lat", "1", "--lon", "2", "--kind", "lamp"],
      '--kind must be one of streetlight, traffic (got "lamp")',
    ],
    [["--id", "x", "--lat", "1", "--lon", "2", "--colour", "red"], "unknown flag --colour"],
    [["--id"], "flag --id needs a value"],
    [["--id", "x", "--lat", "1", "--lon", "2", "--no-watch=yes"], "flag --no-watch takes no value"],
    [["--id", "x", "--lat", "1", "--lon", "2", "extra"], 'unexpected argument "extra"'],
  ])("%j is a usage error: %s", (argv, message) => {
    expect(parseCommand(spec, argv)).toEqual({ ok: false, message });
  });

  it("requires positionals and lets --help through without them", () => {
    const show: CommandSpec = { name: "show", summary: "", positionals: ["ID"], json: true };
    expect(parseCommand(show, [])).toEqual({ ok: false, message: "missing argument ID" });
    expect(parseCommand(show, ["-h"])).toMatchObject({ ok: true, help: true });
    expect(parseCommand(show, ["sl-1", "--json", "--url", "http://x"])).toMatchObject({
      ok: true,
      positionals: ["sl-1"],
      values: { json: true, url: "http://x" },
    });
  });

  it("finds the command wherever the common flags stand", () => {
    expect(splitCommand(["--url", "http://x", "list", "--kind", "traffic"])).toEqual({
      words: ["list"],
      rest: ["--url", "http://x", "--kind", "traffic"],
    });
    expect(splitCommand(["tokens", "revoke", "7"])).toEqual({ words: ["tokens", "revoke"], rest: ["7"] });
  });

  it("every flag of every command has a description for --help", () => {
    for (const c of COMMANDS) {
      for (const [name, o] of Object.entries(optionsOf(c))) {
        expect(o.description, `${c.name} --${name}`).not.toBe("");
      }
    }
  });
});

describe("runCli usage errors (exit code 2, before any request)", () => {
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    let requests = 0;
    const code = await runCli(argv, {
      env: {},
      cwd: "/",
      dataDir: "/nonexistent",
      io: { out: (t) => out.push(t), err: (t) => err.push(t) },
      fetch: async () => {
        requests++;
        return new Response("{}");
      },
    });
    return { code, out: out.join("\n"), err: err.join("\n"), requests };
  };

  it.each([
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["tokens", "mint"], 'unknown command "tokens mint"'],
    [["decommission", "sl-1"], "missing required flag --reason"],
    [["tokens", "create", "--name", "x"], "missing required flag --role"],
    [["correct", "sl-1"], "give at least one of --district, --lat, --lon"],
    [["list", "--seen-after", "soon"], "--seen-after must be an ISO time"],
    [["show"], "missing argument ID"],
    [[], "Usage:"],
  ])("%j", async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.requests).toBe(0);
  });

  it("prints help for the tool and for each command with exit code 0", async () => {
    const tool = await run(["--help"]);
    expect(tool.code).toBe(0);
    for (const c of COMMANDS) expect(tool.out).toContain(c.name);
    for (const c of COMMANDS) {
      const r = await run([...c.name.split(" "), "--help"]);
      expect(r.code, c.name).toBe(0);
      expect(r.out).toContain(`Usage: npm run devices -- ${c.name}`);
    }
    expect((await run(["help", "watch"])).out).toContain("watch: live view");
    expect((await run(["tokens", "--help"])).out).toContain("tokens revoke ID");
  });
});

describe("resolveConfig", () => {
  const files = (map: Record<string, string>) => (path: string) => map[path] ?? null;
  const base = { dataDir: "/repo/.data", principal: "engineer" as const };

  it("prefers the flags, then the environment", () => {
    const env = { CITY_API_URL: "http://env:1", CITY_API_TOKEN: "cst_env\n" };
    expect(
      resolveConfig({
        ...base,
        flags: { url: "http://flag:2/", token: "cst_flag" },
        env,
        readFile: files({}),
      }),
    ).toEqual({ url: "http://flag:2", urlSource: "--url", token: "cst_flag", tokenSource: "--token" });
    expect(resolveConfig({ ...base, flags: {}, env, readFile: files({}) })).toEqual({
      url: "http://env:1",
      urlSource: "CITY_API_URL",
      token: "cst_env",
      tokenSource: "CITY_API_TOKEN",
    });
  });

  it("falls back to .data/platform.json and the principal's token file, then the default", () => {
    const read = files({
      "/repo/.data/platform.json": JSON.stringify({ command_url: "http://127.0.0.1:18080", mqtt_url: "x" }),
      "/repo/.data/secrets/engineer.token": "cst_eng\n",
      "/repo/.data/secrets/admin.token": "cst_adm\n",
    });
    expect(resolveConfig({ ...base, flags: {}, env: {}, readFile: read })).toEqual({
      url: "http://127.0.0.1:18080",
      urlSource: "/repo/.data/platform.json",
      token: "cst_eng",
      tokenSource: "/repo/.data/secrets/engineer.token",
    });
    expect(resolveConfig({ ...base, principal: "admin", flags: {}, env: {}, readFile: read }).token).toBe(
      "cst_adm",
    );
    expect(
      resolveConfig({
        ...base,
        flags: {},
        env: {},
        readFile: files({ "/repo/.data/platform.json": "{oops" }),
      }),
    ).toEqual({ url: "http://127.0.0.1:8080", urlSource: "default", token: null, tokenSource: "none" });
  });

  it("finds .data at the repository root by default, whatever the working directory", () => {
    const seen: string[] = [];
    resolveConfig({
      flags: {},
      env: {},
      principal: "engineer",
      readFile: (p) => {
        seen.push(p);
        return null;
      },
    });
    expect(seen.every((p) => p.startsWith(`${new URL("../..", import.meta.url).pathname}.data/`))).toBe(true);
  });
});
