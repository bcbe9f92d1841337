// The simulator's configuration: defaults, environment names, CLI flags overriding them.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/lib/config.ts";
import { parseCli, SIMULATOR_ENV, simulatorConfigSchema } from "../../simulators/config.ts";
import { mergeOverrides, platformDefaults } from "../../simulators/platform.ts";

const emptyDir = mkdtempSync(join(tmpdir(), "sim-config-"));
const load = (env: Record<string, string>, argv: string[] = []) => {
  const cli = parseCli(argv);
  if (cli.help) throw new Error("help");
  return loadConfig("simulator", simulatorConfigSchema, SIMULATOR_ENV, {
    env,
    configDir: emptyDir,
    overrides: cli.overrides,
  });
};

describe("simulator config", () => {
  it("defaults to the demo fleet on a local platform", () => {
    const c = load({});
    expect(c.mqtt.url).toBe("mqtt://127.0.0.1:1883");
    expect(c.registry.url).toBe("http://127.0.0.1:8080");
    expect([c.fleet.streetlights, c.fleet.airquality, c.fleet.traffic]).toEqual([240, 40, 40]);
    expect(c.fleet.intervalS).toBe(10);
    expect(c.clock.speed).toBe(1);
    expect(c.backfill.days).toBe(0);
    expect(Object.isFrozen(c.fleet)).toBe(true);
  });

  it("the repository's config/simulator.json is valid", () => {
    const c = loadConfig("simulator", simulatorConfigSchema, SIMULATOR_ENV, { env: {} });
    expect(c.fleet.streetlights).toBe(240);
  });

  it("reads the environment, and CLI flags override it", () => {
    const env = {
      SIM_STREETLIGHTS: "10",
      SIM_SPEED: "60",
      SIM_SEED: "42",
      SIM_ID_PREFIX: "123",
      MQTT_URL: "mqtt://b:1884",
    };
    const c = load(env, [
      "--streetlights",
      "100",
      "--backfill-days",
      "7",
      "--truth-file",
      "x.json",
      "--no-register",
      "--seed",
      "7",
    ]);
    expect(c.fleet.streetlights).toBe(100);
    expect(c.clock.speed).toBe(60);
    expect(c.backfill.days).toBe(7);
    expect(c.truthFile).toBe("x.json");
    expect(c.registry.register).toBe(false);
    expect(c.fleet.seed).toBe("7");
    expect(c.fleet.idPrefix).toBe("123");
    expect(c.mqtt.url).toBe("mqtt://b:1884");
  });

  it("schedule faults: 2 % of lamps rejecting and 2 % of messages lost by default, shares between 0 and 1", () => {
    expect(load({}).faults).toMatchObject({ scheduleRejectShare: 0.02, scheduleMissRate: 0.02 });
    const c = load({ SIM_SCHEDULE_REJECT_SHARE: "0.1", SIM_SCHEDULE_MISS_RATE: "0.3" }, [
      "--schedule-miss-rate",
      "0",
    ]);
    expect(c.faults).toMatchObject({ scheduleRejectShare: 0.1, scheduleMissRate: 0 });
    expect(() => load({ SIM_SCHEDULE_REJECT_SHARE: "2" })).toThrow(/SIM_SCHEDULE_REJECT_SHARE/);
    expect(() => load({}, ["--schedule-miss-rate", "1.5"])).toThrow(/faults.scheduleMissRate/);
  });

  it("reports every bad value together, naming the environment variable", () => {
    try {
      load({ SIM_SPEED: "0", SIM_INTERVAL_S: "0" }, ["--id-prefix", "Bad_Prefix", "--start", "yesterday"]);
      expect.fail("should throw");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.join("\n");
      expect(issues).toContain("SIM_SPEED");
      expect(issues).toContain("SIM_INTERVAL_S");
      expect(issues).toContain("fleet.idPrefix");
      expect(issues).toContain("clock.start");
    }
  });

  it("rejects unknown flags and answers --help", () => {
    expect(() => parseCli(["--lamps", "3"])).toThrow();
    expect(parseCli(["--help"])).toEqual({ help: true });
  });

  it("issue 3: API token and its file, credentials file, commissioning, single-device mode", () => {
    const c = load({});
    expect(c.registry.token).toBe("");
    expect(c.registry.tokenFile).toBe(".data/secrets/simulator.token");
    expect(c.credentialsFile).toBe(".data/simulator/credentials.json");
    expect(c.commission.enabled).toBe(true);
    expect(c.device.id).toBeUndefined();
    const d = load({ SIM_API_TOKEN: "cst_abc", SIM_COMMISSION: "false", SIM_DEVICE_SECRET: "from-env" }, [
      "--device",
      "sl-anfa-0042",
      "--credentials-file",
      "/tmp/c.json",
    ]);
    expect(d.registry.token).toBe("cst_abc");
    expect(d.commission.enabled).toBe(false);
    expect(d.device).toEqual({ id: "sl-anfa-0042", secret: "from-env" });
    expect(d.credentialsFile).toBe("/tmp/c.json");
    expect(load({}, ["--no-commission", "--device", "123", "--secret", "s"]).device).toEqual({
      id: "123",
      secret: "s",
    });
    expect(() => load({}, ["--device", "Bad Id"])).toThrow(/device\.id/);
  });

  it("defaults to where npm start runs the platform (.data/platform.json), below the environment and flags", () => {
    const platform = {
      command_url: "http://127.0.0.1:8181",
      mqtt_url: "mqtt://127.0.0.1:1884",
      ws_url: "ws://127.0.0.1:9002/mqtt",
      secrets_dir: "/srv/p/secrets",
    };
    const fromFile = platformDefaults(platform, {});
    const c = load({}, []);
    const withPlatform = loadConfig("simulator", simulatorConfigSchema, SIMULATOR_ENV, {
      env: { REGISTRY_URL: "http://env:1" },
      configDir: emptyDir,
      overrides: mergeOverrides(platformDefaults(platform, { REGISTRY_URL: "http://env:1" }), {
        mqtt: { url: "mqtt://flag:2" },
      }),
    });
    expect(c.mqtt.url).toBe("mqtt://127.0.0.1:1883");
    expect(fromFile).toEqual({
      mqtt: { url: "mqtt://127.0.0.1:1884" },
      registry: { url: "http://127.0.0.1:8181", tokenFile: "/srv/p/secrets/simulator.token" },
    });
    expect(withPlatform.registry.url).toBe("http://env:1");
    expect(withPlatform.mqtt.url).toBe("mqtt://flag:2");
    expect(withPlatform.registry.tokenFile).toBe("/srv/p/secrets/simulator.token");
    expect(platformDefaults("garbage", {})).toEqual({});
  });
});
