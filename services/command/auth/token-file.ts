// The static token file (COMMAND_TOKEN_FILE), after Kubernetes' --token-auth-file: a CSV with the header
// `name,role,token_sha256` and one token per line, the token itself never written down, only its SHA-256 (hex, or
// "sha256$hex" as services/lib/secrets.ts writes it). Read at start-up; a bad line stops the service with an
// error naming it, since a half-read file would lock out whoever was on the bad line.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { isServiceRole, ROLES } from "../../contract/access.ts";
import { SERVICE_PREFIX } from "../../contract/devices.ts";
import { parseCsv } from "../../lib/csv.ts";
import type { Logger } from "../../lib/log.ts";
import { type FileToken, TokenFileError, type TokenStore } from "../../registry/tokens.ts";

export { TokenFileError };

export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A token's name and role. A service's name is its MQTT username, so it carries the prefix no device id may. */
export const tokenIdentity = z
  .object({
    name: z.string().regex(TOKEN_NAME_PATTERN, { error: `must match ${TOKEN_NAME_PATTERN}` }),
    role: z.enum(ROLES),
  })
  .superRefine((t, ctx) => {
    if (isServiceRole(t.role) && !t.name.startsWith(SERVICE_PREFIX))
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: `a service token's name starts with "${SERVICE_PREFIX}"`,
      });
  });

const HEADER = ["name", "role", "token_sha256"];
const HASH = /^(?:sha256\$)?([0-9a-f]{64})$/;

export function parseTokenFile(text: string, path = "(token file)"): FileToken[] {
  const csv = parseCsv(text, { comment: "#" });
  if (!csv.ok) throw new TokenFileError(path, [csv.message]);
  const { header, rows } = csv;
  if (!header || header.cells.join(",") !== HEADER.join(",")) {
    throw new TokenFileError(path, [`line ${header?.line ?? 1}: the header must be ${HEADER.join(",")}`]);
  }
  const problems: string[] = [];
  const tokens: FileToken[] = [];
  const names = new Map<string, number>();
  const hashes = new Map<string, number>();
  for (const { line, cells } of rows) {
    if (cells.length !== HEADER.length) {
      problems.push(
        `line ${line}: expected ${HEADER.length} fields (${HEADER.join(",")}), got ${cells.length}`,
      );
      continue;
    }
    const [name, role, hash] = cells as [string, string, string];
    const id = tokenIdentity.safeParse({ name, role });
    if (!id.success) {
      for (const i of id.error.issues) problems.push(`line ${line}: ${i.path.join(".")}: ${i.message}`);
      continue;
    }
    const m = HASH.exec(hash.toLowerCase());
    if (!m) {
      problems.push(
        `line ${line}: token_sha256: must be 64 hex digits (the SHA-256 of the token), optionally "sha256$"-prefixed`,
      );
      continue;
    }
    const encoded = `sha256$${m[1]}`;
    const dupName = names.get(name);
    const dupHash = hashes.get(encoded);
    if (dupName !== undefined) problems.push(`line ${line}: name ${name} is already on line ${dupName}`);
    else if (dupHash !== undefined)
      problems.push(`line ${line}: the same token is already on line ${dupHash}`);
    else {
      names.set(name, line);
      hashes.set(encoded, line);
      tokens.push({ name, role: id.data.role, hash: encoded });
    }
  }
  if (problems.length > 0) throw new TokenFileError(path, problems);
  return tokens;
}

export function loadTokenFile(path: string): FileToken[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TokenFileError(path, [
      `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    ]);
  }
  return parseTokenFile(text, path);
}

/** Makes the file's tokens the table's file tokens: added, changed, and revoked when no longer listed. */
export function provisionTokens(tokens: TokenStore, path: string, log: Logger): void {
  const listed = loadTokenFile(path);
  const { added, changed, revoked } = tokens.syncFile(listed, path);
  log.info(
    { file: path, tokens: listed.length, added, changed, revoked },
    "API tokens provisioned from the token file",
  );
}
