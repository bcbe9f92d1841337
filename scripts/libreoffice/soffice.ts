// Finds LibreOffice's `soffice`, installing Debian's `libreoffice-calc-nogui` (Calc without the GUI toolkits: what
// a headless conversion needs) when it is missing and we may, like scripts/influxd/binary.ts does for influxd.
// Used by tests/integration/energy-csv-spreadsheet.test.ts to open the energy report's CSV in a real spreadsheet
// (issue 5: "CSV that opens as expected in a spreadsheet"), and by `node scripts/libreoffice/main.ts`.
import { existsSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { aptInstall, findExecutable, run } from "../lib/debian.ts";

export class SofficeNotFoundError extends Error {
  readonly code = "SOFFICE_NOT_FOUND";
  constructor(detail: string) {
    super(
      `LibreOffice (soffice) is not installed and could not be installed (${detail}). ` +
        "Install Debian's package as root: apt-get install -y --no-install-recommends libreoffice-calc-nogui",
    );
    this.name = "SofficeNotFoundError";
  }
}

export class SofficeConversionError extends Error {
  readonly code = "SOFFICE_CONVERSION_FAILED";
  constructor(detail: string) {
    super(`LibreOffice could not convert the file: ${detail}`);
    this.name = "SofficeConversionError";
  }
}

const WELL_KNOWN = [
  "/usr/bin/soffice",
  "/usr/lib/libreoffice/program/soffice",
  "/opt/libreoffice/program/soffice",
];
const PACKAGE = "libreoffice-calc-nogui";

/** The first `soffice` on PATH or in the usual places, or undefined. */
export function findSoffice(pathEnv = process.env.PATH ?? ""): string | undefined {
  return findExecutable("soffice", WELL_KNOWN, pathEnv);
}

type Log = { info(obj: object | string, msg?: string): void };

/** Returns a path to soffice, installing the Debian package if needed (root + apt-get only). */
export async function ensureSoffice(log: Log = { info() {} }): Promise<string> {
  const found = findSoffice();
  if (found) return found;
  const started = Date.now();
  log.info(`soffice not found: installing Debian package ${PACKAGE} (one-time, a few minutes)`);
  const installed = await aptInstall(PACKAGE, log);
  if (!installed.ok) throw new SofficeNotFoundError(installed.why);
  const path = findSoffice();
  if (!path) throw new SofficeNotFoundError("package installed but no soffice binary found");
  log.info({ path, seconds: Math.round((Date.now() - started) / 100) / 10 }, "installed soffice");
  return path;
}

/**
 * Converts `inputs` with `soffice --headless --convert-to <filter>` into `outDir` (one soffice start for all);
 * returns the outputs' paths in the same order. LibreOffice needs a writable profile: HOME and its user
 * installation point into `profileDir`, so a run never touches (or waits on the lock of) the user's own profile.
 * The first run builds that profile, hence the long default timeout.
 */
export async function convertWithSoffice(opts: {
  soffice: string;
  inputs: readonly string[];
  outDir: string;
  /** "fods", "ods", "xlsx" … */
  to: string;
  profileDir: string;
  /** Filter and options for reading the inputs, e.g. CSV import options. */
  infilter?: string;
  /** Extra environment (a locale: LC_ALL). */
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<string[]> {
  mkdirSync(opts.outDir, { recursive: true });
  mkdirSync(opts.profileDir, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const args = [
    "--headless",
    "--norestore",
    "--nolockcheck",
    `-env:UserInstallation=file://${opts.profileDir}/lo-profile`,
    ...(opts.infilter ? [`--infilter=${opts.infilter}`] : []),
    "--convert-to",
    opts.to,
    "--outdir",
    opts.outDir,
    ...opts.inputs,
  ];
  const res = await run(opts.soffice, args, {
    env: { ...process.env, HOME: opts.profileDir, SAL_USE_VCLPLUGIN: "svp", ...opts.env },
    timeoutMs,
  });
  if (res.timedOut) throw new SofficeConversionError(`timed out after ${timeoutMs} ms`);
  const ext = opts.to.split(":")[0] as string;
  const outs = opts.inputs.map((input) =>
    join(opts.outDir, `${basename(input).replace(/\.[^.]*$/, "")}.${ext}`),
  );
  const missing = outs.filter((o) => !existsSync(o));
  if (res.code !== 0 || missing.length > 0)
    throw new SofficeConversionError(
      `exit code ${res.code}, missing ${missing.join(", ")}: ${res.output.slice(-600)}`,
    );
  return outs;
}
