// /v1/devices: register one device or many (all or nothing, with a per-row error report), list, show.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { deviceRegistration } from "../../contract/devices.ts";
import { DEVICE_KINDS } from "../../contract/topics.ts";
import type { NewDevice, RegistryStore } from "../../registry/store.ts";
import type { Authenticate } from "../app.ts";
import { ApiError, type Issue, notFound, validationFailed } from "../errors.ts";

export const MAX_BULK_DEVICES = 10_000;

type Opts = { registry: RegistryStore; authenticate: Authenticate; onChange?: (() => void) | undefined };

const bulkBody = z.object({
  devices: z.array(z.unknown()).min(1).max(MAX_BULK_DEVICES),
  /** `create` refuses ids that exist; `upsert` updates them. */
  mode: z.enum(["create", "upsert"]).default("create"),
});

const listQuery = z.object({
  kind: z.enum(DEVICE_KINDS).optional(),
  district: z.string().optional(),
  status: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
  after: z.string().optional(),
});

/** Validates every row; returns the devices or the issues of every bad row (nothing is imported on error). */
export function validateRows(rows: readonly unknown[]): { devices: NewDevice[]; issues: Issue[] } {
  const devices: NewDevice[] = [];
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  rows.forEach((row, index) => {
    const parsed = deviceRegistration.safeParse(row);
    const id = typeof (row as { id?: unknown })?.id === "string" ? (row as { id: string }).id : undefined;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({
          index,
          ...(id ? { id } : {}),
          field: issue.path.join(".") || "(row)",
          message: issue.message,
        });
      }
      return;
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) {
      issues.push({
        index,
        id: parsed.data.id,
        field: "id",
        message: `duplicate of row ${first} in this request`,
      });
      return;
    }
    seen.set(parsed.data.id, index);
    devices.push(parsed.data);
  });
  return { devices, issues };
}

export const devicesRoutes: FastifyPluginAsync<Opts> = async (app, opts) => {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post("/v1/devices", { schema: { body: z.unknown() } }, async (req, reply) => {
    const { actor } = opts.authenticate(req.headers);
    const { devices, issues } = validateRows([req.body]);
    if (issues.length > 0)
      throw validationFailed(
        "device registration is invalid",
        issues.map(({ index: _, ...i }) => i),
      );
    const device = devices[0] as NewDevice;
    if (opts.registry.get(device.id)) {
      throw new ApiError("already_registered", 409, `device ${device.id} is already registered`);
    }
    opts.registry.upsertMany(devices, actor);
    opts.onChange?.();
    return reply.status(201).send(opts.registry.get(device.id));
  });

  r.post("/v1/devices/bulk", { schema: { body: bulkBody } }, async (req) => {
    const { actor } = opts.authenticate(req.headers);
    const { devices, issues } = validateRows(req.body.devices);
    if (req.body.mode === "create") {
      devices.forEach((d, i) => {
        if (opts.registry.get(d.id))
          issues.push({ index: i, id: d.id, field: "id", message: "already registered" });
      });
    }
    if (issues.length > 0) {
      throw validationFailed(
        `${new Set(issues.map((i) => i.index)).size} of ${req.body.devices.length} rows are invalid; nothing was imported`,
        issues,
      );
    }
    const result = opts.registry.upsertMany(devices, actor);
    if (result.created + result.updated > 0) opts.onChange?.();
    return result;
  });

  r.get("/v1/devices", { schema: { querystring: listQuery } }, async (req) => {
    const { after, ...rest } = req.query;
    const devices = opts.registry.list({ ...rest, ...(after ? { after } : {}) });
    const last = devices.at(-1);
    return { devices, next: devices.length === req.query.limit && last ? last.id : null };
  });

  r.get("/v1/devices/:id", { schema: { params: z.object({ id: z.string() }) } }, async (req) => {
    const device = opts.registry.get(req.params.id);
    if (!device) throw notFound("device", req.params.id);
    return device;
  });
};
