// What the project installs for itself on a Debian machine without Docker (CI and fresh clones run as root with
// the Debian mirror reachable): finding a program, running a command with its output kept, and installing a
// package with apt-get. scripts/influxd/binary.ts (influxd, the `influxdb` package) and scripts/libreoffice/soffice.ts
// (LibreOffice for the CSV test) are built on it.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `name` on PATH or at one of the well-known paths, or undefined. */
export function findExecutable(
  name: string,
  wellKnown: readonly string[],
  pathEnv = process.env.PATH ?? "",
): string | undefined {
  const onPath = pathEnv
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name));
  return [...onPath, ...wellKnown].find(isExecutable);
}

export type RunResult = { code: number; output: string; timedOut: boolean };

/** Runs a command to its end; the last 8,000 characters of its output are kept. -1: it could not start. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let timedOut = false;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: -1, output: String(err), timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output, timedOut });
    });
  });
}

type Log = { info(obj: object | string, msg?: string): void };

/**
 * `apt-get install` of `pkg` (no recommends, keeping existing config files), after `apt-get update` if the package
 * lists do not know it (a fresh image often has none). Waits for another apt/dpkg (a parallel first run) instead of
 * failing on its lock. A refusal says why, for the caller's own error: not root, no apt-get, or apt's last words.
 */
export async function aptInstall(pkg: string, log: Log): Promise<{ ok: true } | { ok: false; why: string }> {
  if (process.getuid?.() !== 0) return { ok: false, why: "not running as root" };
  if (!isExecutable("/usr/bin/apt-get")) return { ok: false, why: "apt-get is not available" };
  const lock = ["-o", "DPkg::Lock::Timeout=600"];
  const install = [
    ...lock,
    "install",
    "-y",
    "--no-install-recommends",
    "-o",
    "Dpkg::Options::=--force-confdef",
    "-o",
    "Dpkg::Options::=--force-confold",
    pkg,
  ];
  let res = await run("apt-get", install);
  if (res.code !== 0) {
    log.info(
      { output: res.output.slice(-400) },
      "apt-get install failed; running apt-get update and retrying",
    );
    const upd = await run("apt-get", [...lock, "update"]);
    if (upd.code !== 0) return { ok: false, why: `apt-get update failed: ${upd.output.slice(-400)}` };
    res = await run("apt-get", install);
  }
  return res.code === 0
    ? { ok: true }
    : { ok: false, why: `apt-get install failed: ${res.output.slice(-400)}` };
}
