// Stopping the benchmark's load processes (publishers, lamps): each is asked to exit over its IPC channel (it
// closes its connections first), or sent SIGTERM when the channel is gone, and killed if it has not exited 5 s on.
import type { ChildProcess } from "node:child_process";

const GRACE_MS = 5000;

export function stopChildren(children: readonly ChildProcess[], exitMessage: object): Promise<void> {
  return Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill("SIGKILL"), GRACE_MS);
          c.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
          if (c.connected) c.send(exitMessage);
          else c.kill("SIGTERM");
        }),
    ),
  ).then(() => undefined);
}
