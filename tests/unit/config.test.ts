// Config loading: one zod schema per service, file + environment, every error reported at once, frozen result.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ingestConfigSchema, ingestEnv } from "../../services/ingest/config.ts";
import { ConfigError, loadConfig } from "../../services/lib/config.ts";

const dir = mkdtempSync(join(tmpdir(), "config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadConfig", () => {
  it("merges config/<service>.json, then the environment, and freezes the result", () => {
    writeFileSync(
      join(dir, "ingest.json"),
      JSON.stringify({ spool: { dir: "/var/spool/x" }, ops: { port: 9200 } }),
    );
    const c = loadConfig("ingest", ingestConfigSchema, ingestEnv, {
      configDir: dir,
      env: { INFLUX_URL: "http://influx:8086/", INGEST_OPS_PORT: "9300", INGEST_SPOOL_FSYNC: "false" },
    });
    expect(c.influx.url).toBe("http://influx:8086");
    expect(c.ops.port).toBe(9300); // the environment wins over the file
    expect(c.spool.dir).toBe("/var/spool/x");
    expect(c.spool.fsync).toBe(false);
    expect(c.mqtt.url).toBe("mqtt://127.0.0.1:1883"); // defaults fill the rest
    expect(Object.isFrozen(c.spool)).toBe(true);
  });

  it("reports every error together, naming the key and its environment variable", () => {
    let error: unknown;
    try {
      loadConfig("ingest", ingestConfigSchema, ingestEnv, {
        configDir: join(dir, "none"),
        env: { INGEST_OPS_PORT: "70000", MQTT_URL: "http://broker", LOG_LEVEL: "loud" },
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join("\n");
    expect(issues).toMatch(/influx \(env INFLUX_URL, .*\): .*expected object/); // the missing section
    expect(issues).toContain("ops.port (env INGEST_OPS_PORT)");
    expect(issues).toContain("mqtt.url (env MQTT_URL)");
    expect(issues).toContain("logLevel (env LOG_LEVEL)");
    expect((error as ConfigError).issues).toHaveLength(4);
  });

  it("says which file is not valid JSON", () => {
    writeFileSync(join(dir, "broken.json"), "{ nope");
    expect(() => loadConfig("broken", ingestConfigSchema, ingestEnv, { configDir: dir, env: {} })).toThrow(
      /broken\.json: not valid JSON/,
    );
  });

  it("reads a secret from the file named by <VAR>_FILE (Docker secrets), the variable itself winning", () => {
    writeFileSync(join(dir, "ingest.token"), "cst_0123456789\n");
    const env = { INFLUX_URL: "http://influx:8086", INGEST_API_TOKEN_FILE: join(dir, "ingest.token") };
    const c = loadConfig("ingest", ingestConfigSchema, ingestEnv, { configDir: join(dir, "none"), env });
    expect(c.registry.token).toBe("cst_0123456789");
    const both = { ...env, INGEST_API_TOKEN: "cst_from_env" };
    expect(
      loadConfig("ingest", ingestConfigSchema, ingestEnv, { configDir: join(dir, "none"), env: both })
        .registry.token,
    ).toBe("cst_from_env");
    expect(() =>
      loadConfig("ingest", ingestConfigSchema, ingestEnv, {
        configDir: join(dir, "none"),
        env: { ...env, INGEST_API_TOKEN_FILE: join(dir, "missing.token") },
      }),
    ).toThrow(/registry\.token \(env INGEST_API_TOKEN_FILE\): cannot read .*missing\.token \(ENOENT\)/);
  });
});
