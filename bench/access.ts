// The benchmark's way past access control (issue 3): the run's API tokens (an admin to register the fleet, the
// broker's and the ingest's service accounts) in a token file for the command service (COMMAND_TOKEN_FILE, CSV
// `name,role,token_sha256`), and the fleet registered through the API, whose answer carries each device's secret.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateToken, sha256Hash } from "../services/lib/secrets.ts";
import { registrations } from "./readings.ts";

/** The run's API tokens; the command service reads their hashes from `file` (COMMAND_TOKEN_FILE). */
export type BenchTokens = { file: string; admin: string; broker: string; ingest: string };

export function writeTokenFile(dir: string): BenchTokens {
  const tokens = { admin: generateToken(), broker: generateToken(), ingest: generateToken() };
  const rows = [
    ["bench-admin", "admin", tokens.admin],
    ["svc-broker", "service_broker", tokens.broker],
    ["svc-ingest", "service_ingest", tokens.ingest],
  ].map(([name, role, token]) => `${name},${role},${sha256Hash(token as string)}`);
  const file = join(dir, "tokens.csv");
  writeFileSync(file, `name,role,token_sha256\n${rows.join("\n")}\n`, { mode: 0o600 });
  return { file, ...tokens };
}

/** Registers the fleet (and the probe); answers each new device's secret, by id (its MQTT password). */
export async function registerFleet(
  commandUrl: string,
  ids: readonly string[],
  adminToken: string,
): Promise<Record<string, string>> {
  const rows = registrations(ids);
  const secrets: Record<string, string> = {};
  for (let i = 0; i < rows.length; i += 1000) {
    const res = await fetch(`${commandUrl}/v1/devices/bulk`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ devices: rows.slice(i, i + 1000), mode: "create" }),
    });
    if (!res.ok) throw new Error(`registering the fleet: HTTP ${res.status} ${await res.text()}`);
    const answer = (await res.json()) as { credentials?: { id: string; secret: string }[] };
    for (const c of answer.credentials ?? []) secrets[c.id] = c.secret;
  }
  const missing = rows.filter((r) => !secrets[r.id]).length;
  if (missing > 0) throw new Error(`registering the fleet: no credentials for ${missing} devices`);
  return secrets;
}
