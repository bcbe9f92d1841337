// Child process of bench/broker-overload.ts: runs one broker, vanilla aedes or ours, on loopback, and
// reports its peak memory. A process of its own so that the broker has a core to itself and its RSS is its own.
//   node bench/broker-overload-server.ts vanilla|ours
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { Aedes } from "aedes";
import { createBroker } from "../services/broker/broker.ts";
import { brokerConfigSchema } from "../services/broker/config.ts";
import { loadConfig } from "../services/lib/config.ts";
import { silentLogger } from "../services/lib/log.ts";
import { permissiveHooks } from "./permissive-hooks.ts";

export type ServerReport = { mode: string; peakRssBytes: number; overload?: unknown; final: boolean };
type ToChild = { cmd: "stop" };

/** The kernel's high-water mark of the process RSS (Linux), else the largest sample. */
function peakRss(sampled: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m?.[1]) return Number(m[1]) * 1024;
  } catch {}
  return sampled;
}

async function main(mode: string): Promise<void> {
  let sampled = 0;
  let overload: () => unknown = () => undefined;
  // Reported as it goes: vanilla aedes can crash when the load ends (see services/broker/router.ts).
  let ticks = 0;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
    if (++ticks % 5 === 0) process.send?.({ mode, peakRssBytes: peakRss(sampled), final: false });
  }, 100);
  let port: number;
  let stop: () => Promise<unknown>;
  if (mode === "vanilla") {
    const aedes = await Aedes.createBroker();
    const server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
    stop = () => new Promise<void>((r) => aedes.close(() => server.close(() => r())));
  } else {
    const config = loadConfig(
      "broker",
      brokerConfigSchema,
      {},
      {
        overrides: {
          mqtt: { host: "127.0.0.1", port: 0 },
          websocket: { enabled: false },
          ops: { host: "127.0.0.1", port: 0 },
        },
      },
    );
    // Routing under flood against vanilla aedes, which has no policy either: access control is measured by
    // bench/auth.ts.
    const broker = createBroker({ config, log: silentLogger(), hooks: permissiveHooks });
    port = (await broker.start()).mqttPort;
    stop = () => broker.stop();
    overload = () => broker.overload();
  }
  process.send?.({ ready: true, port });
  process.on("message", (msg: ToChild) => {
    if (msg.cmd !== "stop") return;
    clearInterval(sampler);
    const report: ServerReport = { mode, peakRssBytes: peakRss(sampled), overload: overload(), final: true };
    process.send?.(report, () => void stop().finally(() => process.exit(0)));
  });
}

if (import.meta.main) await main(process.argv[2] ?? "ours");
