// The platform's own secrets for a single-host installation: an API token per principal the platform needs to
// run (a local admin, engineer and energy manager, the demo fleet, each service), made once in a folder (0700, each file 0600) and
// reused on every start, plus the token file the command service provisions them from (COMMAND_TOKEN_FILE:
// `name,role,token_sha256`, hashes only). `npm start` makes them in .data/secrets/; docker compose has the command
// service make them in a shared volume (COMMAND_BOOTSTRAP_SECRETS_DIR) that the other services read with *_FILE
// variables. A larger deployment provides its own token file and hands each service its token; see docs/security.md.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Role } from "../contract/access.ts";
import { generateToken, sha256Hash } from "../lib/secrets.ts";

/** File name → the token's name (its actor name in audit trails, and the MQTT username of services) and role. */
export const LOCAL_PRINCIPALS = {
  admin: { name: "local-admin", role: "admin" },
  engineer: { name: "local-engineer", role: "engineer" },
  "energy-manager": { name: "local-energy-manager", role: "energy_manager" },
  simulator: { name: "demo-simulator", role: "engineer" },
  "svc-broker": { name: "svc-broker", role: "service_broker" },
  "svc-ingest": { name: "svc-ingest", role: "service_ingest" },
  "svc-command": { name: "svc-command", role: "service_command" },
} as const satisfies Record<string, { name: string; role: Role }>;
export type LocalPrincipal = keyof typeof LOCAL_PRINCIPALS;

export type LocalSecrets = {
  dir: string;
  /** The command service's COMMAND_TOKEN_FILE. */
  tokenFile: string;
  token(principal: LocalPrincipal): string;
};

export function ensureLocalSecrets(dir: string): LocalSecrets {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const tokens = new Map<LocalPrincipal, string>();
  for (const file of Object.keys(LOCAL_PRINCIPALS) as LocalPrincipal[]) {
    const path = join(dir, `${file}.token`);
    let token = existsSync(path) ? readFileSync(path, "utf8").trim() : "";
    if (!token) {
      token = generateToken();
      writeFileSync(path, `${token}\n`, { mode: 0o600 });
    }
    tokens.set(file, token);
  }
  const rows = (Object.keys(LOCAL_PRINCIPALS) as LocalPrincipal[]).map((file) => {
    const { name, role } = LOCAL_PRINCIPALS[file];
    return `${name},${role},${sha256Hash(tokens.get(file) as string)}`;
  });
  const tokenFile = join(dir, "tokens.csv");
  const tmp = `${tokenFile}.tmp`;
  writeFileSync(tmp, `name,role,token_sha256\n${rows.join("\n")}\n`, { mode: 0o600 });
  renameSync(tmp, tokenFile);
  return { dir, tokenFile, token: (p) => tokens.get(p) as string };
}
