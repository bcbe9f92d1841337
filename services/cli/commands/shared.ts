// What several commands share: the device-fact flags (register, correct) and the hand-over of new credentials
// (register, rotate, replace), on screen once or into a --secret-out file.
import { DISTRICT_NAMES } from "../../contract/city.ts";
import type { Credentials } from "../api-types.ts";
import type { OptionSpec } from "../args.ts";
import { type Context, EXIT, failure } from "../context.ts";
import { formatCredentials } from "../format/device.ts";
import type { Outcome } from "../http.ts";
import { createSecretFile, credentialsJson, type SecretFile } from "../secrets-file.ts";

/** Device facts an engineer can give or correct; flag → API field. */
export const DEVICE_FIELD_OPTIONS: Readonly<Record<string, OptionSpec & { field: string }>> = {
  district: {
    type: "string",
    value: "<name>",
    field: "district",
    description: `district (one of: ${DISTRICT_NAMES.join(", ")})`,
  },
  lat: { type: "number", value: "<degrees>", field: "lat", description: "latitude, e.g. 33.5905" },
  lon: { type: "number", value: "<degrees>", field: "lon", description: "longitude, e.g. -7.6512" },
  "installed-at": {
    type: "string",
    value: "<YYYY-MM-DD>",
    field: "installed_at",
    description: "installation date",
  },
  interval: {
    type: "integer",
    value: "<seconds>",
    field: "report_interval_s",
    description: "expected seconds between readings (API default 60)",
  },
  "led-watts": {
    type: "number",
    value: "<W>",
    field: "led_watts",
    description: "streetlight: LED system power",
  },
  "legacy-watts": {
    type: "number",
    value: "<W>",
    field: "legacy_watts",
    description: "streetlight: replaced lamp's power, lamp + ballast",
  },
  serial: { type: "string", value: "<serial>", field: "serial", description: "controller serial or label" },
};

/** The API body of the device-field flags that were given. */
export function deviceFields(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [flag, opt] of Object.entries(DEVICE_FIELD_OPTIONS)) {
    if (values[flag] !== undefined) body[opt.field] = values[flag];
  }
  return body;
}

/** The --secret-out flag of every command that issues credentials (register, rotate, replace). */
export const SECRET_OUT_OPTION = {
  type: "string",
  value: "<file>",
  description: "write the credentials (JSON, mode 0600) to this new file instead of the screen",
} as const;

/**
 * A request that issues credentials: opens --secret-out first (so an unwritable path fails before the API hands
 * out a secret), sends, discards the file on a refusal, else says `before`, hands the credentials over, says `after`.
 */
export async function issueCredentials<T extends { credentials: Credentials }>(
  ctx: Context,
  secretOut: string | undefined,
  send: () => Promise<Outcome<T>>,
  say: { before: (body: T) => string; after?: (body: T) => string },
): Promise<number> {
  const file = openSecretOut(ctx, secretOut);
  if (file === "failed") return EXIT.failed;
  const res = await send();
  if (res.kind !== "ok") {
    file?.discard();
    return failure(ctx, res);
  }
  ctx.io.out(say.before(res.body));
  handOver(ctx, res.body.credentials, file);
  if (say.after) ctx.io.out(say.after(res.body));
  return EXIT.ok;
}

/** Opens --secret-out before the request: null when none was asked for, "failed" (and why, printed) when it cannot. */
export function openSecretOut(ctx: Context, file: string | undefined): SecretFile | null | "failed" {
  if (!file) return null;
  const opened = createSecretFile(ctx.cwd, file);
  if ("error" in opened) {
    ctx.io.err(`error: ${opened.error}`);
    return "failed";
  }
  return opened;
}

/** Shows new credentials once, or writes them to the --secret-out file and says where. */
export function handOver(ctx: Context, credentials: Credentials, file: SecretFile | null): void {
  if (file) {
    file.write(credentialsJson(credentials));
    ctx.io.out(formatCredentials(credentials, false));
    ctx.io.out(`Secret written to ${file.path} (mode 0600); it is not shown again.`);
  } else ctx.io.out(formatCredentials(credentials));
}
