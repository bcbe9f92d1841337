// Finds an `influxd` binary, installing Debian's `influxdb` package (1.6.7) when it is missing and we may.
//
// The package's postinst runs `invoke-rc.d influxdb start` (dh_installinit), which on a machine without
// systemd but with sysvinit scripts starts a system influxd on :8086/:8088 as user `influxdb`. We never use
// that instance, so we keep it from starting with a temporary /usr/sbin/policy-rc.d that answers 101
// ("action forbidden", see /usr/share/doc/init-system-helpers/README.policy-rc.d) — the same trick
// Debian's Docker images ship permanently. If one was started anyway, we stop it the package's own way.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Logger } from "../../services/lib/log.ts";
import { aptInstall, findExecutable, run } from "../lib/debian.ts";

export class InfluxdNotFoundError extends Error {
  readonly code = "INFLUXD_NOT_FOUND";
  constructor(detail: string) {
    super(
      `influxd is not installed and could not be installed (${detail}). ` +
        "Install Debian's package (apt-get install influxdb) or point INFLUX_URL at a running InfluxDB.",
    );
    this.name = "InfluxdNotFoundError";
  }
}

const WELL_KNOWN = ["/usr/bin/influxd", "/usr/local/bin/influxd", "/usr/sbin/influxd"];
const POLICY_RC_D = "/usr/sbin/policy-rc.d";
const SYSTEM_PIDFILE = "/var/run/influxdb/influxd.pid";

/** The first `influxd` on PATH or in the usual places, or undefined. */
export function findInfluxd(pathEnv = process.env.PATH ?? ""): string | undefined {
  return findExecutable("influxd", WELL_KNOWN, pathEnv);
}

/** Returns a path to influxd, installing the Debian package if needed (root + apt-get only). */
export async function ensureInfluxd(log: Logger): Promise<string> {
  const found = findInfluxd();
  if (found) return found;
  // Before the policy file below, which only root may write.
  if (process.getuid?.() !== 0) throw new InfluxdNotFoundError("not running as root");
  const started = Date.now();
  log.info("influxd not found: installing Debian package influxdb (one-time)");
  const ourPolicy = !existsSync(POLICY_RC_D);
  if (ourPolicy)
    writeFileSync(POLICY_RC_D, "#!/bin/sh\n# temporary, see scripts/influxd/binary.ts\nexit 101\n", {
      mode: 0o755,
    });
  try {
    const installed = await aptInstall("influxdb", log);
    if (!installed.ok) throw new InfluxdNotFoundError(installed.why);
  } finally {
    if (ourPolicy) rmSync(POLICY_RC_D, { force: true });
  }
  await stopSystemInstance(log);
  const path = findInfluxd();
  if (!path) throw new InfluxdNotFoundError("package installed but no influxd binary found");
  log.info({ path, seconds: Math.round((Date.now() - started) / 100) / 10 }, "installed influxd");
  return path;
}

/** If the postinst started the packaged service anyway, stop it: it is not ours to depend on. */
async function stopSystemInstance(log: Logger): Promise<void> {
  if (!existsSync(SYSTEM_PIDFILE)) return;
  const pid = Number(readFileSync(SYSTEM_PIDFILE, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log.warn({ pid }, "the influxdb package started a system influxd; stopping it (we run our own)");
  await run("/etc/init.d/influxdb", ["stop"]);
}

/** Running (a zombie — exited, waiting for a parent that may never reap it — counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
