// The broker's configuration schema: defaults, environment, and the checks that keep watermarks sane.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { BROKER_ENV, brokerConfigSchema } from "../../services/broker/config.ts";
import { ConfigError, loadConfig } from "../../services/lib/config.ts";

const load = (env: Record<string, string> = {}, overrides: Record<string, unknown> = {}) =>
  loadConfig("broker", brokerConfigSchema, BROKER_ENV, { env, overrides, configDir: "/nonexistent" });

describe("broker config", () => {
  it("has the documented defaults, restated by config/broker.json", () => {
    const defaults = load();
    expect(defaults.mqtt).toEqual({ host: "0.0.0.0", port: 1883 });
    expect(defaults.websocket).toEqual({ enabled: true, port: 9001, path: "/mqtt" });
    expect(defaults.ops.port).toBe(9102);
    const file = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../config/broker.json"), "utf8"));
    expect(brokerConfigSchema.parse(file)).toEqual(defaults);
  });

  it("reads the environment", () => {
    const c = load({
      BROKER_HOST: "127.0.0.1",
      BROKER_MQTT_PORT: "11883",
      BROKER_WS_PORT: "19001",
      BROKER_OPS_PORT: "19102",
      LOG_LEVEL: "warn",
    });
    expect([c.mqtt.host, c.mqtt.port, c.websocket.port, c.ops.port, c.logLevel]).toEqual([
      "127.0.0.1",
      11883,
      19001,
      19102,
      "warn",
    ]);
    expect(Object.isFrozen(c.overload.watermarks)).toBe(true);
  });

  it("reads the access settings from the environment", () => {
    const c = load({
      REGISTRY_URL: "http://command:8080",
      BROKER_API_TOKEN: "cst_x",
      BROKER_ACCESS_POLL_MS: "2000",
      BROKER_ACCESS_SNAPSHOT: "/data/broker-access.json",
      BROKER_AUTH_CONCURRENCY: "4",
    });
    expect(c.access).toMatchObject({
      registryUrl: "http://command:8080",
      token: "cst_x",
      pollMs: 2000,
      snapshotPath: "/data/broker-access.json",
      authConcurrency: 4,
    });
    expect(load().access).toMatchObject({
      token: "",
      snapshotPath: "",
      pollMs: 5000,
      verifiedCacheSize: 200_000,
    });
    expect(() => load({ REGISTRY_URL: "not a url" })).toThrow(/access\.registryUrl/);
  });

  it("reports every problem at once", () => {
    try {
      load(
        { BROKER_MQTT_PORT: "x" },
        { overload: { watermarks: { lowMessages: 20_000 } }, sessions: { maxQueuedMessages: 70_000 } },
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.join("\n");
      expect(issues).toMatch(/mqtt\.port \(env BROKER_MQTT_PORT\)/);
      expect(issues).toMatch(/sessions\.maxQueuedMessages/);
    }
  });

  it("requires low < high < critical watermarks", () => {
    expect(() => load({}, { overload: { watermarks: { lowMessages: 20_000 } } })).toThrow(
      /lowMessages < highMessages/,
    );
    expect(() => load({}, { overload: { watermarks: { criticalBytes: 1 } } })).toThrow(
      /highBytes < criticalBytes/,
    );
    expect(() => load({}, { overload: { watermarks: { lowDelayMs: 5000 } } })).toThrow(
      /lowDelayMs < highDelayMs/,
    );
  });
});
