// Reading and correcting the registry: list, show (the device page), history, correct.
import { DEVICE_STATUSES, LIVENESS } from "../../contract/devices.ts";
import { DEVICE_KINDS } from "../../contract/topics.ts";
import type { DevicePage, DeviceRecord, HistoryEvent, ListedDevice } from "../api-types.ts";
import { flag, num, str } from "../args.ts";
import { type Command, devicePath, EXIT, failure, printJson, usage } from "../context.ts";
import { formatDeviceLine, formatDeviceList, formatDevicePage, formatHistory } from "../format/device.ts";
import { fields, plural } from "../format/table.ts";
import { parseSince } from "../format/time.ts";
import { DEVICE_FIELD_OPTIONS, deviceFields } from "./shared.ts";

const PAGE_FOR_ALL = 1000;

const list: Command = {
  name: "list",
  summary: "list devices, filtered",
  json: true,
  options: {
    kind: { type: "string", value: "<kind>", choices: DEVICE_KINDS, description: DEVICE_KINDS.join(" | ") },
    district: { type: "string", value: "<name>", description: "district name" },
    status: {
      type: "string",
      value: "<status>",
      choices: DEVICE_STATUSES,
      description: DEVICE_STATUSES.join(" | "),
    },
    liveness: {
      type: "string",
      value: "<state>",
      choices: Object.keys(LIVENESS),
      description: Object.keys(LIVENESS).join(" | "),
    },
    "seen-after": {
      type: "string",
      value: "<time>",
      description: "last seen after: ISO time, or 15m, 2h, 3d ago",
    },
    "seen-before": {
      type: "string",
      value: "<time>",
      description: "last seen before: ISO time, or 15m, 2h, 3d ago",
    },
    limit: { type: "integer", value: "<n>", description: "devices per page (API default 100)" },
    all: { type: "boolean", description: "follow the pages to the end" },
  },
  async run(ctx, { values }) {
    const now = ctx.now();
    const seen: Record<string, string | undefined> = {};
    for (const name of ["seen-after", "seen-before"]) {
      const raw = str(values, name);
      if (raw === undefined) continue;
      const iso = parseSince(raw, now);
      if (!iso) return usage(ctx, `--${name} must be an ISO time or a span like 15m, 2h, 3d (got "${raw}")`);
      seen[name.replace("-", "_")] = iso;
    }
    const all = flag(values, "all");
    const query = {
      kind: str(values, "kind"),
      district: str(values, "district"),
      status: str(values, "status"),
      liveness: str(values, "liveness"),
      ...seen,
      limit: num(values, "limit") ?? (all ? PAGE_FOR_ALL : undefined),
    };
    const devices: ListedDevice[] = [];
    let after: string | undefined;
    let next: string | null = null;
    do {
      const res = await ctx.api.request<{ devices: ListedDevice[]; next: string | null }>(
        "GET",
        "/v1/devices",
        {
          query: { ...query, after },
        },
      );
      if (res.kind !== "ok") return failure(ctx, res);
      devices.push(...res.body.devices);
      next = res.body.next;
      after = next ?? undefined;
    } while (all && next);
    if (flag(values, "json")) {
      printJson(ctx, { devices, next });
      return EXIT.ok;
    }
    if (devices.length === 0) ctx.io.out("no devices match");
    else ctx.io.out(formatDeviceList(devices, now));
    ctx.io.out(
      next ? `${plural(devices.length, "device")} shown; more with --all` : plural(devices.length, "device"),
    );
    return EXIT.ok;
  },
};

const show: Command = {
  name: "show",
  summary: "a device's page: status, liveness, last reading, commissioning checks, rejects, credential",
  positionals: ["ID"],
  json: true,
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<DevicePage>("GET", devicePath(positionals[0] as string));
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatDevicePage(res.body, ctx.now()));
    return EXIT.ok;
  },
};

const history: Command = {
  name: "history",
  summary: "who changed what on a device, and when",
  positionals: ["ID"],
  json: true,
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<{ events: HistoryEvent[] }>(
      "GET",
      devicePath(positionals[0] as string, "/history"),
    );
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else ctx.io.out(formatHistory(res.body.events));
    return EXIT.ok;
  },
};

const correct: Command = {
  name: "correct",
  summary: "correct a device's registered facts (position, district, luminaire, serial …)",
  positionals: ["ID"],
  options: DEVICE_FIELD_OPTIONS,
  details: "Example: correct sl-anfa-0042 --lat 33.5911 --lon -7.6498",
  async run(ctx, { values, positionals }) {
    const body = deviceFields(values);
    if (Object.keys(body).length === 0) {
      return usage(
        ctx,
        `give at least one of ${Object.keys(DEVICE_FIELD_OPTIONS)
          .map((f) => `--${f}`)
          .join(", ")}`,
      );
    }
    const res = await ctx.api.request<DeviceRecord>("PATCH", devicePath(positionals[0] as string), { body });
    if (res.kind !== "ok") return failure(ctx, res);
    const d = res.body;
    ctx.io.out(`Corrected ${formatDeviceLine(d)}`);
    ctx.io.out(
      fields(
        Object.entries(DEVICE_FIELD_OPTIONS)
          .filter(([, o]) => o.field in body)
          .map(([flagName, o]) => [flagName, String((d as Record<string, unknown>)[o.field] ?? "")] as const),
      ),
    );
    return EXIT.ok;
  },
};

export const deviceCommands: readonly Command[] = [list, show, history, correct];
