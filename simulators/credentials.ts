// The fleet's device secrets, kept the way a real controller keeps its provisioned secret: the registry shows
// a secret once (registration, rotation), so the simulator writes it at once to a credentials file
// (default .data/simulator/credentials.json, mode 0600 in a 0700 folder, replaced atomically: write a
// temporary file, fsync, rename) and connects each device with username = client id = device id and its
// secret as password. Devices the registry knows but the file has no (or an outdated) secret for — the file
// was lost, or someone rotated the credential — get a new one through POST /v1/devices/credentials/rotate;
// `planRotation` decides which, as a pure function.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import type { DeviceStatus } from "../services/contract/devices.ts";
import type { Logger } from "../services/lib/log.ts";

/** The part of the registry's credentials object (register, rotate, replace answers) a device needs. */
export const issuedCredentials = z.object({
  id: z.string().min(1),
  secret: z.string().min(1),
  generation: z.number().int().min(1),
});
export type IssuedCredentials = z.infer<typeof issuedCredentials>;

export function parseCredentialsList(value: unknown): IssuedCredentials[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((c) => {
    const parsed = issuedCredentials.safeParse(c);
    return parsed.success ? [parsed.data] : [];
  });
}

const storedSecret = z.object({
  secret: z.string().min(1),
  generation: z.number().int(),
  saved_at: z.string(),
});
export type StoredSecret = z.infer<typeof storedSecret>;
const credentialsFile = z.object({ version: z.literal(1), devices: z.record(z.string(), storedSecret) });

export type CredentialStore = {
  readonly path: string;
  readonly size: number;
  get(id: string): StoredSecret | undefined;
  /** Records new secrets in memory; `save()` writes them. */
  set(list: readonly IssuedCredentials[]): void;
  /** Writes the file atomically (0600); concurrent calls are serialised. */
  save(): Promise<void>;
};

export async function openCredentialStore(path: string, log: Logger): Promise<CredentialStore> {
  const devices = new Map<string, StoredSecret>(Object.entries(await load(path, log)));
  let saving: Promise<void> = Promise.resolve();
  return {
    path,
    get size() {
      return devices.size;
    },
    get: (id) => devices.get(id),
    set(list) {
      const saved_at = new Date().toISOString();
      for (const c of list) devices.set(c.id, { secret: c.secret, generation: c.generation, saved_at });
    },
    save() {
      const text = `${JSON.stringify({ version: 1, devices: Object.fromEntries(devices) }, null, 2)}\n`;
      saving = saving.catch(() => undefined).then(() => writeAtomic(path, text));
      return saving;
    },
  };
}

async function load(path: string, log: Logger): Promise<Record<string, StoredSecret>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  if (((await stat(path)).mode & 0o077) !== 0) {
    log.warn({ file: path }, "credentials file readable by others: restricting it to its owner (0600)");
    await chmod(path, 0o600);
  }
  try {
    return credentialsFile.parse(JSON.parse(text)).devices;
  } catch (err) {
    // Keep the damaged file for a human; the registry rotates the devices it leaves without a secret.
    const aside = `${path}.corrupt-${Date.now()}`;
    await rename(path, aside);
    log.warn({ file: path, movedTo: aside, err: (err as Error).message }, "credentials file unreadable");
    return {};
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** What the registry says about a device (GET /v1/devices): enough to tell whether a stored secret is live. */
export type RegistryView = { status: DeviceStatus; credential_generation?: number };

export type RotationPlan = {
  /** Devices to rotate: no secret in the file (`missing`), or not the live generation (`stale`). */
  rotate: { id: string; why: "missing" | "stale" }[];
  /** Left alone: an operator decommissioned it or revoked its credential; a real device would be refused too. */
  skipped: { id: string; why: "decommissioned" | "revoked" }[];
};

/**
 * Which fleet devices need a new secret. `issuedNow`: ids the registration just created (their secrets came
 * with the answer). `registry`: the registry's view of each device if it could be read (else only missing
 * secrets are rotated).
 */
export function planRotation(
  ids: readonly string[],
  stored: (id: string) => StoredSecret | undefined,
  issuedNow: ReadonlySet<string>,
  registry?: ReadonlyMap<string, RegistryView>,
): RotationPlan {
  const plan: RotationPlan = { rotate: [], skipped: [] };
  for (const id of ids) {
    if (issuedNow.has(id)) continue;
    const view = registry?.get(id);
    const secret = stored(id);
    if (view?.status === "decommissioned") plan.skipped.push({ id, why: "decommissioned" });
    else if (view?.credential_generation === 0) plan.skipped.push({ id, why: "revoked" });
    else if (!secret) plan.rotate.push({ id, why: "missing" });
    else if (view?.credential_generation !== undefined && secret.generation !== view.credential_generation)
      plan.rotate.push({ id, why: "stale" });
  }
  return plan;
}

/** Splits a list into chunks of at most `size` (the API takes ≤ 1000 ids per call). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
