// Section K's lamp fleet as the benchmark drives it: 2–4 child processes (bench/lamps-proc.ts), each holding a
// share of the lamps' MQTT connections. The IPC messages are defined here; the parent asks for counters, never
// for per-lamp detail, so the fleet's side costs the measured processes nothing but the messages themselves.
import { type ChildProcess, fork } from "node:child_process";
import { resolve } from "node:path";
import { stopChildren } from "./children.ts";
import type { Lamp } from "./schedule-fleet.ts";

export type LampsStart = {
  type: "start";
  port: number;
  lamps: Lamp[];
  /** CONNECTs per second this process starts at most. */
  connectRatePerS: number;
  /** CONNECTs outstanding (no SUBACK yet) at most. */
  inFlight: number;
};
export type LampsCommand = LampsStart | { type: "reset" } | { type: "stats" } | { type: "exit" };

export type LampsStats = {
  type: "stats";
  /** Calendar messages received (non-empty or not) and the size of the last one, bytes. */
  docs: number;
  docBytes: number;
  /** decideCalendar's outcomes. */
  applied: number;
  repeated: number;
  rejected: number;
  ignored: number;
  /** Acks published, acks the broker PUBACKed, lamps that sent at least one. */
  acksSent: number;
  acksPubacked: number;
  lampsAcked: number;
  /** Messages on the lamps' cmd topics (none expected in this section). */
  cmds: number;
  /** Lamp connections that closed without being asked to. */
  disconnects: number;
  firstDocAt: number;
  lastAckAt: number;
};
export type LampsConnected = {
  type: "connected";
  subscribed: number;
  refused: number;
  closed: number;
  seconds: number;
};
export type LampsMessage = LampsConnected | LampsStats | { type: "reset" };

const PROC = resolve(import.meta.dirname, "lamps-proc.ts");

export type LampFleet = {
  readonly pids: number[];
  /** Connects every lamp (bounded rate); resolves when every process has its share connected and subscribed. */
  connect(port: number, opts: { ratePerS: number; inFlight: number }): Promise<Omit<LampsConnected, "type">>;
  /** Every lamp forgets its calendar (holds the factory one again); counters to zero. */
  reset(): Promise<void>;
  /** Counters summed over the processes (docBytes: the largest; firstDocAt: earliest; lastAckAt: latest). */
  stats(): Promise<LampsStats>;
  stop(): Promise<void>;
};

export function startLampFleet(lamps: readonly Lamp[], procs: number): LampFleet {
  const children: ChildProcess[] = [];
  const shares: Lamp[][] = Array.from({ length: procs }, () => []);
  lamps.forEach((l, i) => {
    shares[i % procs]?.push(l);
  });
  for (let i = 0; i < procs; i++)
    children.push(fork(PROC, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  const killAll = () => {
    for (const c of children) c.kill("SIGKILL");
  };
  process.on("exit", killAll);

  const next = <T extends LampsMessage["type"]>(child: ChildProcess, type: T, timeoutMs: number) =>
    new Promise<Extract<LampsMessage, { type: T }>>((ok, fail) => {
      const timer = setTimeout(() => {
        cleanup();
        fail(new Error(`lamp process ${child.pid}: no "${type}" within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onMessage = (m: LampsMessage) => {
        if (m.type !== type) return;
        cleanup();
        ok(m as Extract<LampsMessage, { type: T }>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        fail(new Error(`lamp process ${child.pid} exited (${code}) waiting for "${type}"`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
    });

  return {
    pids: children.map((c) => c.pid ?? 0),
    async connect(port, opts) {
      const replies = children.map((c, i) => {
        const reply = next(c, "connected", 30 * 60_000);
        c.send({
          type: "start",
          port,
          lamps: shares[i] ?? [],
          connectRatePerS: opts.ratePerS / procs,
          inFlight: Math.max(1, Math.floor(opts.inFlight / procs)),
        } satisfies LampsStart);
        return reply;
      });
      const all = await Promise.all(replies);
      return {
        subscribed: all.reduce((n, r) => n + r.subscribed, 0),
        refused: all.reduce((n, r) => n + r.refused, 0),
        closed: all.reduce((n, r) => n + r.closed, 0),
        seconds: Math.max(...all.map((r) => r.seconds)),
      };
    },
    async reset() {
      await Promise.all(
        children.map((c) => {
          const reply = next(c, "reset", 30_000);
          c.send({ type: "reset" } satisfies LampsCommand);
          return reply;
        }),
      );
    },
    async stats() {
      const all = await Promise.all(
        children.map((c) => {
          const reply = next(c, "stats", 30_000);
          c.send({ type: "stats" } satisfies LampsCommand);
          return reply;
        }),
      );
      const sum = (k: keyof Omit<LampsStats, "type">) => all.reduce((n, s) => n + s[k], 0);
      const firsts = all.map((s) => s.firstDocAt).filter((t) => t > 0);
      return {
        type: "stats",
        docs: sum("docs"),
        docBytes: Math.max(0, ...all.map((s) => s.docBytes)),
        applied: sum("applied"),
        repeated: sum("repeated"),
        rejected: sum("rejected"),
        ignored: sum("ignored"),
        acksSent: sum("acksSent"),
        acksPubacked: sum("acksPubacked"),
        lampsAcked: sum("lampsAcked"),
        cmds: sum("cmds"),
        disconnects: sum("disconnects"),
        firstDocAt: firsts.length ? Math.min(...firsts) : 0,
        lastAckAt: Math.max(0, ...all.map((s) => s.lastAckAt)),
      };
    },
    async stop() {
      await stopChildren(children, { type: "exit" } satisfies LampsCommand);
      process.off("exit", killAll);
    },
  };
}
