// Child process of bench/auth.ts: one platform broker on loopback, either with its access control (the access
// feed read straight from the registry database the parent provisioned) or with permissive hooks (the baseline).
// A process of its own, so that its CPU time is its own.
//   node bench/auth-server.ts policy|permissive <registry.sqlite>
import { createBroker } from "../services/broker/broker.ts";
import { brokerConfigSchema } from "../services/broker/config.ts";
import { loadConfig } from "../services/lib/config.ts";
import { silentLogger } from "../services/lib/log.ts";
import { createAccessStore } from "../services/registry/access.ts";
import { openRegistryDb } from "../services/registry/store.ts";
import { permissiveHooks } from "./permissive-hooks.ts";

export type AuthServerMessage =
  | { type: "ready"; port: number }
  | { type: "cpu"; ms: number; verifiedCached: number };
export type AuthServerCommand = { type: "cpu" } | { type: "stop" };

async function main(mode: string, dbPath: string): Promise<void> {
  const config = loadConfig(
    "broker",
    brokerConfigSchema,
    {},
    {
      configDir: "/nonexistent",
      overrides: {
        mqtt: { host: "127.0.0.1", port: 0 },
        websocket: { enabled: false },
        ops: { host: "127.0.0.1", port: 0 },
        logLevel: "silent",
        // Every CONNECT of a storm may wait for its check; the client side bounds what is in flight.
        access: { pollMs: 60_000, authQueue: 100_000 },
      },
    },
  );
  const access = createAccessStore(openRegistryDb(dbPath));
  const broker = createBroker({
    config,
    log: silentLogger(),
    ...(mode === "permissive"
      ? { hooks: permissiveHooks }
      : { feed: (since: number, limit: number) => Promise.resolve(access.changesSince(since, limit)) }),
  });
  const { mqttPort } = await broker.start();
  if (mode !== "permissive") await broker.access.sync();
  const send = (m: AuthServerMessage) => process.send?.(m);
  send({ type: "ready", port: mqttPort });
  process.on("message", (m: AuthServerCommand) => {
    if (m.type === "cpu") {
      const u = process.cpuUsage();
      void broker.registry.getSingleMetricAsString("broker_auth_verified_cache_entries").then((text) =>
        send({
          type: "cpu",
          ms: (u.user + u.system) / 1000,
          verifiedCached: Number(/ (\d+)$/m.exec(text)?.[1] ?? 0),
        }),
      );
    } else void broker.stop().finally(() => process.exit(0));
  });
}

if (import.meta.main) await main(process.argv[2] ?? "policy", process.argv[3] ?? "");
