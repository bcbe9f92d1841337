// Seeding a section's fleet and API tokens straight into the command service's registry database before it starts
// (sections K and N). Seeding is a setup shortcut, not what is measured: registering 10,000 lamps through the API
// costs one scrypt hash each at the production cost (N = 2^14, ~35 ms: 6 minutes of one core). The rows go through
// the registry's own stores (lifecycle.register: devices, credentials, the access feed, history), with each lamp's
// own secret hashed at a low cost (ln = 4). verifySecret reads the cost from the stored hash, so the broker's
// access control is the real one and merely cheap at CONNECT.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Role } from "../services/contract/access.ts";
import { generateToken, hashSecret, sha256Hash } from "../services/lib/secrets.ts";
import { openRegistry } from "../services/registry/registry.ts";
import type { NewDevice } from "../services/registry/store.ts";

/** scrypt cost of the seeded secrets: 2^4 instead of 2^14 (see above). */
export const SEED_SCRYPT = Object.freeze({ ln: 4, r: 8, p: 1 });

/** Registers the devices with their secrets in the registry database at `dbPath` (created and migrated if new). */
export async function seedDevices(
  dbPath: string,
  devices: readonly { device: NewDevice; secret: string }[],
): Promise<void> {
  const hashes: string[] = [];
  for (let i = 0; i < devices.length; i += 256) {
    const chunk = devices.slice(i, i + 256);
    hashes.push(...(await Promise.all(chunk.map((d) => hashSecret(d.secret, SEED_SCRYPT)))));
  }
  const registry = openRegistry(dbPath);
  try {
    const rows = devices.map((d, i) => ({ device: d.device, secretHash: hashes[i] as string }));
    const res = registry.lifecycle.register(rows, "create", "bench");
    if (!res.ok)
      throw new Error(
        `seeding the fleet: ${res.refusals.length} refused, first ${JSON.stringify(res.refusals[0])}`,
      );
    if (res.created.length !== devices.length)
      throw new Error(`seeding the fleet: ${res.created.length} of ${devices.length} created`);
  } finally {
    registry.close();
  }
}

/**
 * A token file (COMMAND_TOKEN_FILE: name,role,token_sha256) in `dir` with a fresh token per principal; answers
 * the file and each principal's token by its key.
 */
export function writeTokenFile<K extends string>(
  dir: string,
  fileName: string,
  principals: Record<K, { name: string; role: Role }>,
): { file: string } & Record<K, string> {
  const tokens = {} as Record<K, string>;
  const rows: string[] = [];
  for (const [key, { name, role }] of Object.entries(principals) as [K, { name: string; role: Role }][]) {
    tokens[key] = generateToken();
    rows.push(`${name},${role},${sha256Hash(tokens[key])}`);
  }
  const file = join(dir, fileName);
  writeFileSync(file, `name,role,token_sha256\n${rows.join("\n")}\n`, { mode: 0o600 });
  return { file, ...tokens };
}
