// Section N's lamps as the benchmark drives them: 2–4 child processes (bench/energy-lamps-proc.ts), each uploading
// the history of a share of the fleet, one MQTT connection per lamp with its own credentials (as in the field).
// The IPC messages are defined here; the parent asks for totals, never for per-lamp detail.
import { type ChildProcess, fork } from "node:child_process";
import { resolve } from "node:path";
import { stopChildren } from "./children.ts";
import type { EnergyLamp } from "./energy-fleet.ts";

export type UploadStart = {
  type: "start";
  port: number;
  lamps: EnergyLamp[];
  /** The history: readings on each lamp's grid (phase + k × interval) in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  intervalS: number;
  seed: string;
  /** CONNECTs per second this process starts at most. */
  connectRatePerS: number;
  /** Lamps connected and uploading at once in this process. */
  active: number;
};
export type UploadProgress = { type: "progress"; ackedReadings: number };
export type UploadDone = {
  type: "done";
  lamps: number;
  refused: number;
  closed: number;
  readings: number;
  messages: number;
  ackedReadings: number;
  /** First CONNECT → last PUBACK, s. */
  seconds: number;
  /** CPU of the process (model, JSON, sockets), s. */
  cpuS: number;
};
export type UploadMessage = UploadProgress | UploadDone;

const PROC = resolve(import.meta.dirname, "energy-lamps-proc.ts");

export type UploadTotals = Omit<UploadDone, "type">;

/**
 * Uploads the fleet's history through `procs` processes; `onProgress` gets the PUBACKed readings so far (all
 * processes) every few seconds. Resolves once every process has had every message acknowledged.
 */
export async function uploadHistory(
  lamps: readonly EnergyLamp[],
  procs: number,
  start: Omit<UploadStart, "type" | "lamps" | "connectRatePerS" | "active"> & {
    connectRatePerS: number;
    active: number;
  },
  onProgress: (ackedReadings: number) => void,
): Promise<UploadTotals> {
  const shares: EnergyLamp[][] = Array.from({ length: procs }, () => []);
  lamps.forEach((l, i) => {
    shares[i % procs]?.push(l);
  });
  const children: ChildProcess[] = shares.map(() =>
    fork(PROC, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  const killAll = () => {
    for (const c of children) c.kill("SIGKILL");
  };
  process.on("exit", killAll);
  const acked = children.map(() => 0);
  try {
    const done = await Promise.all(
      children.map(
        (child, i) =>
          new Promise<UploadDone>((ok, fail) => {
            child.on("message", (m: UploadMessage) => {
              if (m.type === "progress") {
                acked[i] = m.ackedReadings;
                onProgress(acked.reduce((a, b) => a + b, 0));
              } else ok(m);
            });
            child.once("exit", (code) => fail(new Error(`upload process ${child.pid} exited (${code})`)));
            child.send({
              type: "start",
              ...start,
              lamps: shares[i] ?? [],
              connectRatePerS: start.connectRatePerS / procs,
              active: Math.max(1, Math.floor(start.active / procs)),
            } satisfies UploadStart);
          }),
      ),
    );
    const sum = (k: keyof Omit<UploadDone, "type" | "seconds">) => done.reduce((n, d) => n + d[k], 0);
    return {
      lamps: sum("lamps"),
      refused: sum("refused"),
      closed: sum("closed"),
      readings: sum("readings"),
      messages: sum("messages"),
      ackedReadings: sum("ackedReadings"),
      cpuS: sum("cpuS"),
      seconds: Math.max(...done.map((d) => d.seconds)),
    };
  } finally {
    await stopChildren(children, { type: "exit" });
    process.off("exit", killAll);
  }
}
