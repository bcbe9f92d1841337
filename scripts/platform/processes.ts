// Child processes of `npm start`: each service runs as its own Node process (as in production), its JSON log
// goes to .data/logs/<name>.log, and its warnings and errors are echoed to the terminal with its name.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type Child = {
  name: string;
  proc: ChildProcess;
  logFile: string;
  stop(timeoutMs: number): Promise<void>;
};

export function startChild(opts: {
  name: string;
  script: string;
  args?: string[];
  /** Node flags (before the script). */
  nodeArgs?: readonly string[];
  env: Record<string, string>;
  logDir: string;
  cwd: string;
  onExit(name: string, code: number | null, signal: string | null): void;
  echo?: (line: string) => void;
}): Child {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const out = createWriteStream(logFile, { flags: "a" });
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script, ...(opts.args ?? [])], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: Ctrl-C in the terminal reaches only `npm start`, which then stops the services in
    // order (devices first, the ingest flushing its spool while the broker still takes its acknowledgements).
    detached: true,
  });
  const echo = opts.echo ?? ((line: string) => console.log(line));
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      out.write(`${line}\n`);
      const shown = summarise(line);
      if (shown) echo(`[${opts.name}] ${shown}`);
    });
  }
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    proc.on("exit", (code, signal) => {
      exited = true;
      out.end();
      opts.onExit(opts.name, code, signal);
      resolve();
    });
  });
  return {
    name: opts.name,
    proc,
    logFile,
    async stop(timeoutMs) {
      if (exited) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Shows warn/error/fatal JSON log lines as `LEVEL msg key=value`, and non-JSON lines as they are. */
function summarise(line: string): string | undefined {
  if (!line.startsWith("{")) return line.trim() ? line : undefined;
  try {
    const rec = JSON.parse(line) as Record<string, unknown> & { level?: number; msg?: string };
    if ((rec.level ?? 0) < 40) return undefined;
    const { level, msg, time: _t, service: _s, name: _n, pid: _p, hostname: _h, ...rest } = rec;
    const label = (level ?? 0) >= 50 ? "ERROR" : "WARN";
    const extra = Object.entries(rest)
      .filter(([, v]) => v !== undefined && typeof v !== "object")
      .map(([k, v]) => `${k}=${String(v).slice(0, 80)}`)
      .join(" ");
    return `${label} ${msg ?? ""} ${extra}`.trim();
  } catch {
    return line;
  }
}

/** The preferred port when it is free on all interfaces, else a free one the OS picks. */
export async function pickPort(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(undefined));
      srv.listen(port, () => {
        const addr = srv.address();
        const got = typeof addr === "object" && addr ? addr.port : undefined;
        srv.close(() => resolve(got));
      });
    });
  return (await tryListen(preferred)) ?? (await tryListen(0)) ?? preferred;
}

export async function waitForHttp(
  url: string,
  timeoutMs: number,
  isUp: (res: Response) => boolean = (r) => r.status < 500,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (isUp(res)) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}
