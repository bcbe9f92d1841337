// Where the CLI finds the command service and its token, first match wins, and which source it used (shown
// when the API refuses the token):
//   URL:   --url, CITY_API_URL, `.data/platform.json` command_url (written by `npm start`), http://127.0.0.1:8080
//   token: --token, CITY_API_TOKEN, `.data/secrets/engineer.token` (admin.token for `tokens …` commands,
//          energy-manager.token for `energy …` commands)
// `.data/` is the repository's, found from this file's location, so the CLI works from any directory.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const DEFAULT_URL = "http://127.0.0.1:8080";

/** Which local token file a command falls back to (.data/secrets/<principal>.token). */
export type Principal = "engineer" | "admin" | "energy-manager";

export type CliConfig = {
  url: string;
  urlSource: string;
  token: string | null;
  /** "--token", "CITY_API_TOKEN", the token file's path, or "none". */
  tokenSource: string;
};

export type ConfigInputs = {
  flags: { url?: string | undefined; token?: string | undefined };
  env: Readonly<Record<string, string | undefined>>;
  /** Which local token file to fall back to. */
  principal: Principal;
  /** Folder holding platform.json and secrets/ (default: the repository's .data). */
  dataDir?: string;
  /** Reads a file, null when it does not exist or cannot be read. */
  readFile?: (path: string) => string | null;
};

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export function resolveConfig(inputs: ConfigInputs): CliConfig {
  const dataDir = inputs.dataDir ?? join(REPO_ROOT, ".data");
  const read = inputs.readFile ?? readOrNull;
  const { flags, env } = inputs;

  let url = DEFAULT_URL;
  let urlSource = "default";
  const platformPath = join(dataDir, "platform.json");
  if (flags.url) [url, urlSource] = [flags.url, "--url"];
  else if (env.CITY_API_URL) [url, urlSource] = [env.CITY_API_URL, "CITY_API_URL"];
  else {
    const fromFile = commandUrlOf(read(platformPath));
    if (fromFile) [url, urlSource] = [fromFile, platformPath];
  }

  let token: string | null = null;
  let tokenSource = "none";
  const tokenPath = join(dataDir, "secrets", `${inputs.principal}.token`);
  if (flags.token) [token, tokenSource] = [flags.token.trim(), "--token"];
  else if (env.CITY_API_TOKEN) [token, tokenSource] = [env.CITY_API_TOKEN.trim(), "CITY_API_TOKEN"];
  else {
    const fromFile = read(tokenPath)?.trim();
    if (fromFile) [token, tokenSource] = [fromFile, tokenPath];
  }
  return { url: url.replace(/\/+$/, ""), urlSource, token, tokenSource };
}

function commandUrlOf(text: string | null): string | null {
  if (!text) return null;
  try {
    const parsed = JSON.parse(text) as { command_url?: unknown };
    return typeof parsed.command_url === "string" && parsed.command_url ? parsed.command_url : null;
  } catch {
    return null;
  }
}
