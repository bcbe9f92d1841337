// Getting devices into the registry: one at the pole (`register`), or a CSV of hundreds (`import`).
import { readFileSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { DEVICE_KINDS } from "../../contract/topics.ts";
import type { Credentials, DeviceRecord, ImportResult } from "../api-types.ts";
import { type OptionSpec, str } from "../args.ts";
import { type Command, EXIT, failure } from "../context.ts";
import { formatDeviceLine } from "../format/device.ts";
import { formatRefusal, formatRowErrors } from "../format/errors.ts";
import { plural } from "../format/table.ts";
import { localDate } from "../format/time.ts";
import { credentialsCsv } from "../secrets-file.ts";
import {
  DEVICE_FIELD_OPTIONS,
  deviceFields,
  issueCredentials,
  openSecretOut,
  SECRET_OUT_OPTION,
} from "./shared.ts";

const required = (o: OptionSpec): OptionSpec => ({ ...o, required: true });

const register: Command = {
  name: "register",
  summary: "register one device and print its credentials once",
  options: {
    id: { type: "string", value: "<id>", required: true, description: "device id, e.g. sl-anfa-0042" },
    kind: {
      type: "string",
      value: "<kind>",
      required: true,
      choices: DEVICE_KINDS,
      description: DEVICE_KINDS.join(" | "),
    },
    district: required(DEVICE_FIELD_OPTIONS.district as OptionSpec),
    lat: required(DEVICE_FIELD_OPTIONS.lat as OptionSpec),
    lon: required(DEVICE_FIELD_OPTIONS.lon as OptionSpec),
    ...Object.fromEntries(
      Object.entries(DEVICE_FIELD_OPTIONS).filter(([k]) => !["district", "lat", "lon"].includes(k)),
    ),
    "secret-out": SECRET_OUT_OPTION,
  },
  details:
    "The installation date defaults to today (Casablanca). Streetlights need --led-watts and --legacy-watts.\n" +
    "Example: register --id sl-anfa-0042 --kind streetlight --district Anfa --lat 33.5905 --lon -7.6512 \\\n" +
    "           --led-watts 60 --legacy-watts 150 --serial LC-88213",
  async run(ctx, { values }) {
    const body = {
      id: str(values, "id"),
      kind: str(values, "kind"),
      ...deviceFields(values),
      installed_at: str(values, "installed-at") ?? localDate(ctx.now()),
    };
    return issueCredentials(
      ctx,
      str(values, "secret-out"),
      () =>
        ctx.api.request<{ device: DeviceRecord; credentials: Credentials }>("POST", "/v1/devices", { body }),
      {
        before: (b) => `Registered ${formatDeviceLine(b.device)}`,
        after: (b) =>
          `Next: power the device up with these credentials, then: ${ctx.invocation} commission ${b.device.id}`,
      },
    );
  },
};

/** poles.csv → poles.secrets.csv, beside it. */
export function defaultSecretsPath(csvPath: string): string {
  return join(dirname(csvPath), `${basename(csvPath, extname(csvPath))}.secrets.csv`);
}

const importCsv: Command = {
  name: "import",
  summary: "register many devices from a CSV file, all or nothing",
  positionals: ["FILE"],
  options: {
    mode: {
      type: "string",
      value: "<mode>",
      choices: ["create", "upsert"],
      description: "create (default: refuse known ids) | upsert (update known ids)",
    },
    "secrets-out": {
      type: "string",
      value: "<file>",
      description: "new file (mode 0600) for the new devices' secrets; default FILE.secrets.csv beside FILE",
    },
  },
  details:
    "CSV header: id,kind,district,lat,lon,installed_at,report_interval_s,led_watts,legacy_watts,serial\n" +
    "(any order; an empty cell is absent). A bad row refuses the whole file: every bad line is listed.",
  async run(ctx, { values, positionals }) {
    const csvPath = resolve(ctx.cwd, positionals[0] as string);
    let csv: string;
    try {
      csv = readFileSync(csvPath, "utf8");
    } catch (err) {
      ctx.io.err(
        `error: cannot read ${csvPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
      return EXIT.failed;
    }
    const file = openSecretOut(ctx, str(values, "secrets-out") ?? defaultSecretsPath(csvPath));
    if (file === "failed" || file === null) return EXIT.failed;
    const res = await ctx.api.request<ImportResult>("POST", "/v1/devices/import", {
      body: csv,
      contentType: "text/csv",
      query: { mode: str(values, "mode") ?? "create" },
      timeoutMs: 120_000,
    });
    if (res.kind !== "ok") {
      file.discard();
      if (res.kind === "refused" && res.error.issues.some((i) => i.line !== undefined)) {
        ctx.io.err(`error: ${res.error.error} (HTTP ${res.status}): ${res.error.message}`);
        ctx.io.err(formatRowErrors(res.error.issues, csv, basename(csvPath)));
        return EXIT.failed;
      }
      if (res.kind === "refused") {
        ctx.io.err(formatRefusal(res.status, res.error, ctx.config, res.retryAfter));
        ctx.io.err("Nothing was imported.");
        return EXIT.failed;
      }
      return failure(ctx, res);
    }
    const { created, updated, credentials } = res.body;
    ctx.io.out(`Imported ${basename(csvPath)}: ${created} created, ${updated} updated.`);
    if (credentials.length === 0) {
      file.discard();
      ctx.io.out("No new devices, so no new secrets.");
    } else {
      file.write(credentialsCsv(credentials));
      ctx.io.out(
        `Credentials of ${plural(credentials.length, "new device")} written to ${file.path} (mode 0600); they are not shown again.`,
      );
    }
    return EXIT.ok;
  },
};

export const registerCommands: readonly Command[] = [register, importCsv];
