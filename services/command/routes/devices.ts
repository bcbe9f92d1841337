// /v1/devices: register one device or many (all or nothing, with a per-row error report), list and filter,
// correct a device's facts, read its history. Its page (GET /v1/devices/:id) is routes/device-page.ts; credentials,
// replacement and decommissioning are routes/device-lifecycle.ts; CSV import is routes/import.ts.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DEVICE_STATUSES, deviceRegistration } from "../../contract/devices.ts";
import { DEVICE_KINDS } from "../../contract/topics.ts";
import { newSecrets } from "../../registry/credentials.ts";
import { PATCHABLE, type Refusal, registrationRefusal } from "../../registry/lifecycle.ts";
import type { NewDevice } from "../../registry/store.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { ApiError, errorResponses, type Issue, notFound, validationFailed } from "../errors.ts";
import type { ApiContext } from "./context.ts";
import {
  type Credentials,
  credentials,
  credentialsOf,
  type DeviceRecord,
  device,
  idParams,
  importMode,
  importResult,
  listedDevice,
  livenessStates,
  MAX_BULK_DEVICES,
  registration,
} from "./schemas.ts";

const REFUSALS: Record<Refusal["reason"], string> = {
  not_found: "not registered",
  already_registered: "already registered",
  decommissioned: "decommissioned: register a new id instead",
  kind_changed: "the kind of a registered device cannot change",
};
export const refusalMessage = (r: Refusal) => REFUSALS[r.reason];

/**
 * Registers (or in mode upsert, also updates) `devices`, all or nothing. `where(i)` locates row i in the request
 * for the issues ({index} in JSON, {line} in CSV). Secrets are hashed before the transaction opens.
 */
export async function registerMany(
  ctx: ApiContext,
  devices: readonly NewDevice[],
  mode: "create" | "upsert",
  actor: string,
  where: (i: number) => Partial<Issue>,
) {
  const issues: Issue[] = [];
  const rowOf = new Map<string, number>();
  const fresh: string[] = [];
  devices.forEach((d, i) => {
    const first = rowOf.get(d.id);
    if (first !== undefined) {
      const at = where(first);
      const ref = at.line !== undefined ? `line ${at.line}` : `row ${at.index ?? first}`;
      issues.push({ ...where(i), id: d.id, field: "id", message: `duplicate of ${ref}` });
      return;
    }
    rowOf.set(d.id, i);
    const existing = ctx.registry.devices.get(d.id);
    const refusal = existing && registrationRefusal(existing, d, mode);
    if (refusal) {
      const field = refusal.reason === "kind_changed" ? "kind" : "id";
      issues.push({ ...where(i), id: d.id, field, message: refusalMessage(refusal) });
    } else if (!existing) fresh.push(d.id);
  });
  const refuse = (list: Issue[]) => {
    const rows = new Set(list.map((i) => i.index ?? i.line)).size;
    return validationFailed(`${rows} of ${devices.length} rows are invalid; nothing was imported`, list);
  };
  if (issues.length > 0) throw refuse(issues);
  const secrets = await newSecrets(fresh);
  const result = ctx.registry.lifecycle.register(
    devices.map((d) => ({ device: d, secretHash: secrets.get(d.id)?.hash })),
    mode,
    actor,
  );
  if (!result.ok) {
    // Another request changed these devices while this one was hashing.
    throw refuse(
      result.refusals.map((r) => ({
        ...where(rowOf.get(r.id) ?? 0),
        id: r.id,
        field: "id",
        message: refusalMessage(r),
      })),
    );
  }
  if (result.created.length > 0)
    ctx.changed({ action: "registered", ids: result.created.map((c) => c.id), access: true });
  if (result.updated.length > 0) ctx.changed({ action: "updated", ids: result.updated, access: false });
  const kinds = new Map(devices.map((d) => [d.id, d]));
  return {
    created: result.created.length,
    updated: result.updated.length,
    credentials: result.created.map((c) =>
      credentialsOf(
        kinds.get(c.id) as NewDevice,
        secrets.get(c.id)?.secret as string,
        c.generation,
        ctx.mqttUrl,
      ),
    ),
  };
}

const bulkBody = z.object({
  devices: z.array(registration).min(1).max(MAX_BULK_DEVICES),
  mode: importMode,
});

const listQuery = z.object({
  kind: z.enum(DEVICE_KINDS).optional(),
  district: z.string().optional(),
  status: z.enum(DEVICE_STATUSES).optional(),
  liveness: livenessStates.optional(),
  seen_after: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: "Last seen at or after (ISO 8601)." }),
  seen_before: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: "Last seen before (ISO 8601)." }),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
  after: z.string().optional().meta({ description: "The `next` of the previous page." }),
});

const shape = deviceRegistration.shape;
/** The correctable fields as registered, none with a default: an absent field stays as it is. */
const patchBody = z
  .strictObject({
    district: shape.district.optional(),
    lat: shape.lat.optional(),
    lon: shape.lon.optional(),
    installed_at: shape.installed_at.optional(),
    report_interval_s: shape.report_interval_s.unwrap().optional(),
    led_watts: shape.led_watts,
    legacy_watts: shape.legacy_watts,
    serial: shape.serial,
  } satisfies Record<(typeof PATCHABLE)[number], z.ZodType>)
  .refine((p) => Object.keys(p).length > 0, { error: `give at least one of ${PATCHABLE.join(", ")}` });

const historyAnswer = z.object({
  events: z.array(
    z.object({
      seq: z.number().int(),
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      detail: z.unknown(),
    }),
  ),
});

const iso = (s: string | undefined) => (s === undefined ? undefined : new Date(s).toISOString());

export function devicesRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ["devices"];

    r.post(
      "/v1/devices",
      {
        preValidation: requirePermission("devices:write"),
        schema: {
          tags,
          summary: "Register a device",
          description:
            "Registers one device and answers its MQTT credentials (the secret is shown only here).",
          body: registration,
          response: { 201: z.object({ device, credentials }), ...errorResponses(400, 409) },
        },
      },
      async (req, reply) => {
        const d = req.body;
        const answer = await registerMany(ctx, [d], "create", principalOf(req).name, () => ({})).catch(
          (err) => {
            // Registered already, or meanwhile by another request: the 409 of a single device.
            if (!ctx.registry.devices.get(d.id)) throw err;
            throw lifecycleError({ id: d.id, reason: "already_registered" });
          },
        );
        const registered = ctx.registry.devices.get(d.id) as DeviceRecord;
        return reply
          .status(201)
          .send({ device: registered, credentials: answer.credentials[0] as Credentials });
      },
    );

    r.post(
      "/v1/devices/bulk",
      {
        preValidation: requirePermission("devices:write"),
        schema: {
          tags,
          summary: "Register or update many devices",
          description:
            "All or nothing: if any row is invalid, nothing is written and every bad row is reported (`index`, `id`, " +
            "`field`). Credentials are answered for the newly created devices only.",
          body: bulkBody,
          response: { 200: importResult, ...errorResponses(400) },
        },
      },
      async (req) =>
        registerMany(ctx, req.body.devices, req.body.mode, principalOf(req).name, (index) => ({
          index,
        })),
    );

    r.get(
      "/v1/devices",
      {
        preValidation: requirePermission("devices:read"),
        schema: {
          tags,
          summary: "List devices",
          description: "Filtered, ordered by id, paged with `after` = the previous page's `next`.",
          querystring: listQuery,
          response: {
            200: z.object({ devices: z.array(listedDevice), next: z.string().nullable() }),
            ...errorResponses(400),
          },
        },
      },
      async (req) => {
        const q = req.query;
        const devices = ctx.registry.devices.list({
          kind: q.kind,
          district: q.district,
          status: q.status,
          liveness: q.liveness,
          seenAfter: iso(q.seen_after),
          seenBefore: iso(q.seen_before),
          limit: q.limit,
          after: q.after,
        });
        const last = devices.at(-1);
        return { devices, next: devices.length === q.limit && last ? last.id : null };
      },
    );

    r.patch(
      "/v1/devices/:id",
      {
        preValidation: requirePermission("devices:write"),
        schema: {
          tags,
          summary: "Correct a device's facts",
          description: "E.g. an engineer corrects a position. Kind, id and status cannot be changed here.",
          params: idParams,
          body: patchBody,
          response: { 200: device, ...errorResponses(400, 404, 409) },
        },
      },
      async (req) => {
        const result = ctx.registry.lifecycle.patch(req.params.id, req.body, principalOf(req).name);
        if (!result.ok) throw lifecycleError(result.refusals[0] as Refusal);
        ctx.changed({ action: "updated", ids: [req.params.id], access: false });
        return result.device;
      },
    );

    r.get(
      "/v1/devices/:id/history",
      {
        preValidation: requirePermission("devices:read"),
        schema: {
          tags,
          summary: "A device's history",
          description: "Every change to the device: when, who (the token's name), what, and its details.",
          params: idParams,
          response: { 200: historyAnswer, ...errorResponses(404) },
        },
      },
      async (req) => {
        if (!ctx.registry.devices.get(req.params.id)) throw notFound("device", req.params.id);
        return { events: ctx.registry.audit.history(req.params.id) };
      },
    );
  };
}

/** A single device's refusal as the API's error. */
export function lifecycleError(r: Refusal): ApiError {
  switch (r.reason) {
    case "not_found":
      return notFound("device", r.id);
    case "decommissioned":
      return new ApiError("decommissioned", 409, `device ${r.id} is decommissioned`);
    case "already_registered":
      return new ApiError("already_registered", 409, `device ${r.id} is already registered`);
    case "kind_changed":
      return validationFailed(REFUSALS.kind_changed, [
        { field: "kind", id: r.id, message: REFUSALS.kind_changed },
      ]);
  }
}
