// A local InfluxDB 1.x for machines without one: `startInfluxd({ dataDir, port?, log })` finds (or installs)
// influxd, writes its config into `dataDir`, starts it on loopback and waits until /ping answers.
// The handle can `stop()` and `start()` again on the same data dir and port: tests use this to simulate
// an InfluxDB outage, and `npm start` uses a persistent `.data/influxdb`.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../services/lib/log.ts";
import { ensureInfluxd, isAlive } from "./binary.ts";
import { layoutOf, renderInfluxdConfig } from "./config.ts";

export type StartInfluxdOptions = {
  /** Folder for meta/data/wal, the generated config, the log and the pid file. Created if missing. */
  dataDir: string;
  /** HTTP port on 127.0.0.1; a free one when omitted or 0. */
  port?: number;
  /** Database created once the server answers (`CREATE DATABASE` is idempotent); none when empty. */
  database?: string;
  log: Logger;
  /** Explicit binary; otherwise found on PATH or installed (see binary.ts). */
  binary?: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Called when influxd exits without `stop()` having been asked (a crash), with how it exited. */
  onCrash?: (info: string) => void;
};

export type InfluxdHandle = {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** The server's `X-Influxdb-Version`, e.g. "1.6.7~rc0". */
  readonly version: string;
  /** The running process, undefined while stopped. */
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after `stopTimeoutMs`. Idempotent. */
  stop(): Promise<void>;
  /** Start again after `stop()`, same data dir and ports. No-op while running. */
  start(): Promise<void>;
};

export class InfluxdStartError extends Error {
  readonly code = "INFLUXD_START_FAILED";
  constructor(reason: string, logPath: string) {
    super(`influxd did not start: ${reason}\n--- last lines of ${logPath} ---\n${tail(logPath, 20)}`);
    this.name = "InfluxdStartError";
  }
}

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

// influxd 1.x overrides its config from INFLUXDB_* variables; a stray one must not move our data dir.
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("INFLUXDB_")));
}

/** An influxd left over from a crashed run on this very data dir would hold meta.db's lock: end it. */
async function endLeftover(pidPath: string, configPath: string, log: Logger): Promise<void> {
  if (!existsSync(pidPath)) return;
  const pid = Number(readFileSync(pidPath, "utf8").trim());
  rmSync(pidPath, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return;
  }
  if (!cmdline.includes("influxd") || !cmdline.includes(configPath)) return;
  log.warn({ pid }, "ending an influxd left over from an earlier run on this data dir");
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
}

async function ping(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 204 ? (res.headers.get("x-influxdb-version") ?? "unknown") : undefined;
  } catch {
    return undefined;
  }
}

export async function startInfluxd(opts: StartInfluxdOptions): Promise<InfluxdHandle> {
  const log = opts.log.child({ module: "influxd" });
  const binary = opts.binary ?? (await ensureInfluxd(log));
  const dataDir = resolve(opts.dataDir);
  const paths = layoutOf(dataDir);
  mkdirSync(dataDir, { recursive: true });
  await endLeftover(paths.pidPath, paths.configPath, log);
  const port = opts.port || (await freePort());
  const rpcPort = await freePort();
  writeFileSync(paths.configPath, renderInfluxdConfig({ dataDir, httpPort: port, rpcPort }));
  const url = `http://127.0.0.1:${port}`;
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let version = "unknown";
  let stopping = false;
  // Without this an influxd would outlive a crashed parent (Node has no PDEATHSIG).
  const killOnExit = () => child?.kill("SIGKILL");

  async function start(): Promise<void> {
    if (child) return;
    stopping = false;
    let ready = false;
    const fd = openSync(paths.logPath, "a");
    // Its own process group: Ctrl-C in a terminal must not stop InfluxDB before the ingest has flushed into it;
    // whoever started it stops it (and killOnExit does if this process ends first).
    const proc = spawn(binary, ["-config", paths.configPath], {
      stdio: ["ignore", fd, fd],
      env: cleanEnv(),
      detached: true,
    });
    closeSync(fd);
    child = proc;
    process.on("exit", killOnExit);
    let exitInfo: string | undefined;
    exited = new Promise<void>((done) => {
      // A failed spawn (ENOENT) emits "error" and maybe never "exit": both end this process's life.
      const finish = (info: string) => {
        exitInfo ??= info;
        if (child === proc) child = undefined;
        process.off("exit", killOnExit);
        rmSync(paths.pidPath, { force: true });
        if (!stopping && ready) {
          log.error({ info, logTail: tail(paths.logPath, 10) }, "influxd exited unexpectedly");
          opts.onCrash?.(info);
        }
        done();
      };
      proc.once("exit", (code, signal) => finish(`exited with ${signal ?? `code ${code}`}`));
      proc.once("error", (err) => finish(err.message));
    });
    if (proc.pid) writeFileSync(paths.pidPath, `${proc.pid}\n`);
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const v = await ping(url);
      if (v) {
        version = v;
        ready = true;
        break;
      }
      if (exitInfo) throw new InfluxdStartError(exitInfo, paths.logPath);
      if (Date.now() > deadline) {
        await stop();
        throw new InfluxdStartError(`no answer on ${url}/ping within ${startTimeoutMs} ms`, paths.logPath);
      }
      await sleep(100);
    }
    log.info({ url, pid: proc.pid, version, dataDir }, "influxd ready");
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    stopping = true;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    log.info({ pid: proc.pid }, "influxd stopped");
  }

  await start();
  if (opts.database) await createDatabase(url, opts.database);
  return {
    url,
    port,
    dataDir,
    configPath: paths.configPath,
    logPath: paths.logPath,
    get version() {
      return version;
    },
    get pid() {
      return child?.pid;
    },
    stop,
    start,
  };
}

async function createDatabase(url: string, name: string): Promise<void> {
  const q = `CREATE DATABASE "${name.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  const res = await fetch(`${url}/query`, { method: "POST", body: new URLSearchParams({ q }) });
  const text = await res.text();
  if (!res.ok || text.includes('"error"')) throw new Error(`${q} failed: HTTP ${res.status} ${text}`);
}
