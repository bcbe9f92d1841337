// The parent's handle on the publisher processes (bench/publisher-proc.ts): spread the fleet over `procs`
// child processes, connect every device, start them together, collect what each sent and got acknowledged.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { stopChildren } from "./children.ts";
import type { Shape } from "./readings.ts";

export type PublisherStart = {
  type: "start";
  port: number;
  devices: string[];
  shape: Shape;
  /** Unacknowledged QoS 1 PUBLISHes per device connection. */
  window: number;
  /** Messages per second over the whole fleet of this process; 0 = as fast as the windows allow. */
  ratePerS: number;
  durationMs: number;
  /** After the load, how long to wait for the acknowledgements still in flight. */
  settleMs: number;
  /** Device id → its MQTT secret (password; client id = username = device id). */
  secrets: Record<string, string>;
};
export type PublisherCommand = PublisherStart | { type: "go" } | { type: "exit" };
export type PublisherReady = { type: "ready"; connected: number };
export type PublisherDone = {
  type: "done";
  sent: number;
  acked: number;
  unacked: number;
  disconnects: number;
  startedAt: number;
  stoppedAt: number;
  settledAt: number;
  ackedPerSecond: number[];
};

export type LoadSpec = Omit<PublisherStart, "type" | "devices"> & {
  devices: readonly string[];
  procs: number;
};

export type Publishers = {
  pids(): number[];
  connected: number;
  /** Starts the load; resolves when every process finished and settled. */
  run(): Promise<PublisherDone>;
  close(): Promise<void>;
};

const SCRIPT = join(import.meta.dirname, "publisher-proc.ts");

function waitFor<T extends { type: string }>(
  child: ChildProcess,
  type: T["type"],
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`publisher process ${child.pid}: no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: unknown) => {
      if ((m as { type?: string }).type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`publisher process ${child.pid} exited (${code}) before "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

export async function startPublishers(spec: LoadSpec): Promise<Publishers> {
  const procs = Math.max(1, Math.min(spec.procs, spec.devices.length));
  const children: ChildProcess[] = [];
  const readies: Promise<PublisherReady>[] = [];
  for (let p = 0; p < procs; p++) {
    const child = spawn(process.execPath, [SCRIPT], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children.push(child);
    const devices = spec.devices.filter((_, i) => i % procs === p);
    const { procs: _procs, ...rest } = spec;
    const start: PublisherStart = {
      ...rest,
      type: "start",
      devices,
      secrets: Object.fromEntries(devices.map((id) => [id, spec.secrets[id] ?? ""])),
      ratePerS: spec.ratePerS === 0 ? 0 : spec.ratePerS / procs,
    };
    // Every device's first CONNECT after a broker start costs a scrypt (~40 ms of a core): allow for it.
    readies.push(waitFor<PublisherReady>(child, "ready", 60_000 + devices.length * 100));
    child.send(start);
  }
  const ready = await Promise.all(readies);
  const connected = ready.reduce((n, r) => n + r.connected, 0);
  return {
    pids: () => children.map((c) => c.pid).filter((p): p is number => p !== undefined),
    connected,
    async run() {
      const dones = children.map((c) =>
        waitFor<PublisherDone>(c, "done", spec.durationMs + spec.settleMs + 30_000),
      );
      for (const c of children) c.send({ type: "go" } satisfies PublisherCommand);
      const all = await Promise.all(dones);
      const perSecond: number[] = [];
      for (const d of all) {
        d.ackedPerSecond.forEach((n, i) => {
          perSecond[i] = (perSecond[i] ?? 0) + n;
        });
      }
      return {
        type: "done",
        sent: sum(all.map((d) => d.sent)),
        acked: sum(all.map((d) => d.acked)),
        unacked: sum(all.map((d) => d.unacked)),
        disconnects: sum(all.map((d) => d.disconnects)),
        startedAt: Math.min(...all.map((d) => d.startedAt)),
        stoppedAt: Math.max(...all.map((d) => d.stoppedAt)),
        settledAt: Math.max(...all.map((d) => d.settledAt)),
        ackedPerSecond: perSecond,
      };
    },
    async close() {
      await stopChildren(children, { type: "exit" } satisfies PublisherCommand);
    },
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
