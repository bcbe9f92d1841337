// A device's credentials and the end of its controller's life: rotate (one, or a fleet that lost its secrets),
// revoke, replace the controller at the same point, decommission. Every one of these changes the device's access:
// the broker hears of it on the access feed and drops a session whose credential is no longer live.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { newSecrets } from "../../registry/credentials.ts";
import { isUnusable, usable } from "../../registry/lifecycle.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { errorResponses, validationFailed } from "../errors.ts";
import type { ApiContext } from "./context.ts";
import { lifecycleError, refusalMessage } from "./devices.ts";
import {
  credentials,
  credentialsOf,
  type DeviceRecord,
  device,
  deviceAnswer,
  idParams,
  MAX_BULK_ROTATE,
} from "./schemas.ts";

const replaceBody = z.object({
  serial: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: "Serial or label of the new controller." }),
  note: z.string().max(1000).optional(),
});
const decommissionBody = z.object({ reason: z.string().min(1).max(1000) });
const rotateManyBody = z.object({ ids: z.array(z.string()).min(1).max(MAX_BULK_ROTATE) });

export function deviceLifecycleRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ["device lifecycle"];
    const write = requirePermission("devices:write");
    const get = (id: string) => ctx.registry.devices.get(id) as DeviceRecord;
    /** The device (404 or 409 unless usable) and a new secret for it, hashed before any transaction opens. */
    const withNewSecret = async (id: string) => {
      const d = usable(id, ctx.registry.devices.get(id));
      if (isUnusable(d)) throw lifecycleError(d);
      const secret = (await newSecrets([id])).get(id) as { secret: string; hash: string };
      return { d, secret };
    };

    r.post(
      "/v1/devices/:id/credentials",
      {
        preValidation: write,
        schema: {
          tags,
          summary: "Rotate a device's credentials",
          description: "A new secret (shown once); the previous one stops working at once.",
          params: idParams,
          response: { 200: z.object({ credentials }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const { id } = req.params;
        const { d, secret } = await withNewSecret(id);
        const result = ctx.registry.lifecycle.rotate(
          [{ id, secretHash: secret.hash }],
          principalOf(req).name,
        );
        if (!result.ok) throw lifecycleError(result.refusals[0] as (typeof result.refusals)[0]);
        ctx.changed({ action: "credentials_rotated", ids: [id], access: true });
        return {
          credentials: credentialsOf(d, secret.secret, result.generations.get(id) as number, ctx.mqttUrl),
        };
      },
    );

    r.delete(
      "/v1/devices/:id/credentials",
      {
        preValidation: write,
        schema: {
          tags,
          summary: "Revoke a device's credentials",
          description: "The device is refused (and disconnected) until its credentials are rotated.",
          params: idParams,
          response: { 200: deviceAnswer, ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const result = ctx.registry.lifecycle.revokeCredentials(req.params.id, principalOf(req).name);
        if (!result.ok) throw lifecycleError(result.refusals[0] as (typeof result.refusals)[0]);
        ctx.changed({ action: "credentials_revoked", ids: [req.params.id], access: true });
        return { device: result.device };
      },
    );

    r.post(
      "/v1/devices/credentials/rotate",
      {
        preValidation: write,
        schema: {
          tags,
          summary: "Rotate many devices' credentials",
          description: `For a fleet that lost its secrets; at most ${MAX_BULK_ROTATE} ids, all or nothing.`,
          body: rotateManyBody,
          response: { 200: z.object({ credentials: z.array(credentials) }), ...errorResponses(400) },
        },
      },
      async (req) => {
        const ids = req.body.ids;
        const seen = new Set<string>();
        const issues = ids.flatMap((id, index) => {
          const d = usable(id, ctx.registry.devices.get(id));
          const problem = seen.has(id) ? "duplicate id" : isUnusable(d) ? refusalMessage(d) : undefined;
          seen.add(id);
          return problem ? [{ field: "ids", index, id, message: problem }] : [];
        });
        if (issues.length > 0)
          throw validationFailed(`${issues.length} of ${ids.length} ids cannot be rotated; none was`, issues);
        const secrets = await newSecrets(ids);
        const rows = ids.map((id) => ({ id, secretHash: (secrets.get(id) as { hash: string }).hash }));
        const result = ctx.registry.lifecycle.rotate(rows, principalOf(req).name);
        if (!result.ok) {
          const at = new Map(ids.map((id, i) => [id, i]));
          throw validationFailed(
            "devices changed meanwhile; none was rotated",
            result.refusals.map((f) => ({
              field: "ids",
              index: at.get(f.id) ?? 0,
              id: f.id,
              message: refusalMessage(f),
            })),
          );
        }
        ctx.changed({ action: "credentials_rotated", ids, access: true });
        return {
          credentials: ids.map((id) =>
            credentialsOf(
              get(id),
              secrets.get(id)?.secret as string,
              result.generations.get(id) as number,
              ctx.mqttUrl,
            ),
          ),
        };
      },
    );

    r.post(
      "/v1/devices/:id/replace",
      {
        preValidation: write,
        schema: {
          tags,
          summary: "Replace a device's controller",
          description:
            "A new controller at the same point: same id, place, luminaire and history; new credentials (the old " +
            "ones stop working at once); status back to registered; a running commissioning is cancelled.",
          params: idParams,
          body: replaceBody,
          response: { 200: z.object({ device, credentials }), ...errorResponses(400, 404, 409) },
        },
      },
      async (req) => {
        const { id } = req.params;
        const { d, secret } = await withNewSecret(id);
        const result = ctx.registry.lifecycle.replace(
          id,
          { serial: req.body.serial, note: req.body.note, secretHash: secret.hash },
          principalOf(req).name,
        );
        if (!result.ok) throw lifecycleError(result.refusals[0] as (typeof result.refusals)[0]);
        ctx.changed({ action: "replaced", ids: [id], access: true });
        return {
          device: result.device,
          credentials: credentialsOf(d, secret.secret, result.generation, ctx.mqttUrl),
        };
      },
    );

    r.post(
      "/v1/devices/:id/decommission",
      {
        preValidation: write,
        schema: {
          tags,
          summary: "Decommission a device",
          description:
            "Revokes its credentials for good (the broker refuses and disconnects it); the record stays.",
          params: idParams,
          body: decommissionBody,
          response: { 200: deviceAnswer, ...errorResponses(400, 404, 409) },
        },
      },
      async (req) => {
        const result = ctx.registry.lifecycle.decommission(
          req.params.id,
          req.body.reason,
          principalOf(req).name,
        );
        if (!result.ok) throw lifecycleError(result.refusals[0] as (typeof result.refusals)[0]);
        ctx.changed({ action: "decommissioned", ids: [req.params.id], access: true });
        return { device: result.device };
      },
    );
  };
}
