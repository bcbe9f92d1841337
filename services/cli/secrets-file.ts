// Device secrets leave the CLI only through files it creates itself, mode 0600, never overwriting one (a lost
// secrets file means rotating every device in it). The file is created BEFORE the request, so a path that
// cannot be written is found out before the API hands out secrets that would then be lost.
import { closeSync, fchmodSync, openSync, rmSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import type { Credentials } from "./api-types.ts";

export type SecretFile = { path: string; write(text: string): void; discard(): void };

export function createSecretFile(cwd: string, file: string): SecretFile | { error: string } {
  const path = resolve(cwd, file);
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
    fchmodSync(fd, 0o600); // in case the file system ignores the mode given at creation
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      error:
        code === "EEXIST"
          ? `${path} exists; secrets are never written over an existing file, choose another name`
          : `cannot create ${path} (${code ?? (err as Error).message})`,
    };
  }
  let open = true;
  return {
    path,
    write(text) {
      writeSync(fd, text);
      closeSync(fd);
      open = false;
    },
    discard() {
      if (open) closeSync(fd);
      open = false;
      rmSync(path, { force: true });
    },
  };
}

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** CSV of many devices' credentials (import): id, client id, username, secret, generation, MQTT URL, topics. */
export function credentialsCsv(list: readonly Credentials[]): string {
  const header = "id,client_id,username,secret,generation,mqtt_url,publish_topics,subscribe_topics";
  const rows = list.map((c) =>
    [
      c.id,
      c.client_id,
      c.username,
      c.secret,
      c.generation,
      c.mqtt_url,
      c.topics.publish.join(" "),
      c.topics.subscribe.join(" "),
    ]
      .map(csvCell)
      .join(","),
  );
  return `${[header, ...rows].join("\n")}\n`;
}

/** JSON of one device's credentials (register, rotate, replace), as a provisioning tool would read it. */
export function credentialsJson(c: Credentials): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}
