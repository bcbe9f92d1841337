// /v1/tokens (tokens:admin): create, list and revoke API tokens; /v1/whoami (any valid token): who am I.
// A token is shown once, at creation; only its SHA-256 is stored.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { isServiceRole, PERMISSIONS, ROLE_PERMISSIONS, ROLES } from "../../contract/access.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import { tokenIdentity } from "../auth/token-file.ts";
import { conflict, errorResponses, notFound, validationFailed } from "../errors.ts";
import type { ApiContext } from "./context.ts";

const tokenRecord = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    source: z.enum(["api", "file"]),
    created_at: z.string(),
    created_by: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    revoked_by: z.string().nullable(),
    last_used_at: z.string().nullable().meta({ description: "To the minute." }),
  })
  .meta({ id: "ApiToken" });

const createBody = z.object({
  name: tokenIdentity.shape.name,
  role: tokenIdentity.shape.role,
  expires_at: z.iso.datetime({ offset: true }).optional().meta({ description: "ISO 8601; default: never." }),
});
const created = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  token: z.string().meta({ description: "Shown once: `Authorization: Bearer <token>`." }),
  created_at: z.string(),
  expires_at: z.string().nullable(),
});

const ROLE_DOC = Object.entries(ROLE_PERMISSIONS)
  .map(([role, perms]) => `${role}: ${perms.join(", ") || "(MQTT account only)"}`)
  .join("; ");

export function tokensRoutes(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ["tokens"];
    const admin = requirePermission("tokens:admin");
    const tokens = ctx.registry.tokens;

    r.post(
      "/v1/tokens",
      {
        preValidation: admin,
        schema: {
          tags,
          summary: "Create an API token",
          description: `Roles: ${ROLE_DOC}. A service role's token is also its MQTT password (username = name, which starts with "svc-").`,
          body: createBody,
          response: { 201: created, ...errorResponses(400, 409) },
        },
      },
      async (req, reply) => {
        const id = tokenIdentity.safeParse({ name: req.body.name, role: req.body.role });
        if (!id.success)
          throw validationFailed(
            "token is invalid",
            id.error.issues.map((i) => ({ field: i.path.join("."), message: i.message })),
          );
        const expires =
          req.body.expires_at === undefined ? undefined : new Date(req.body.expires_at).toISOString();
        if (expires !== undefined && expires <= new Date().toISOString())
          throw validationFailed("token is invalid", [
            { field: "expires_at", message: "must be in the future" },
          ]);
        const result = tokens.create({ ...id.data, expires_at: expires }, principalOf(req).name);
        if (!result.ok)
          throw result.reason === "name_taken"
            ? conflict("name_taken", `a live token is named ${req.body.name}`)
            : conflict("provisioned_by_file", `${req.body.name} is provisioned by the token file`);
        const t = result.record;
        req.log.info({ token: t.name, role: t.role, by: principalOf(req).name }, "token created");
        ctx.changed({ action: "token_created", ids: [t.name], access: isServiceRole(t.role) });
        return reply.status(201).send({
          id: t.id,
          name: t.name,
          role: t.role,
          token: result.token,
          created_at: t.created_at,
          expires_at: t.expires_at,
        });
      },
    );

    r.get(
      "/v1/tokens",
      {
        preValidation: admin,
        schema: {
          tags,
          summary: "List API tokens",
          description: "Every token, revoked ones included (never the token itself).",
          response: { 200: z.object({ tokens: z.array(tokenRecord) }), ...errorResponses() },
        },
      },
      async () => ({ tokens: tokens.list() }),
    );

    r.delete(
      "/v1/tokens/:id",
      {
        preValidation: admin,
        schema: {
          tags,
          summary: "Revoke an API token",
          description:
            "Takes effect at once (no cache outlives it). Tokens from the token file are removed there.",
          params: z.object({ id: z.string() }),
          response: { 200: z.object({ token: tokenRecord }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const result = tokens.revoke(req.params.id, principalOf(req).name);
        if (!result.ok)
          throw result.reason === "not_found"
            ? notFound("token", req.params.id)
            : conflict(
                "provisioned_by_file",
                "this token comes from the token file: remove it there and restart",
              );
        req.log.info({ token: result.record.name, by: principalOf(req).name }, "token revoked");
        ctx.changed({
          action: "token_revoked",
          ids: [result.record.name],
          access: isServiceRole(result.record.role),
        });
        return { token: result.record };
      },
    );

    r.get(
      "/v1/whoami",
      {
        schema: {
          tags,
          summary: "The caller's token",
          description: "The name, role and permissions of the token the request carries.",
          response: {
            200: z.object({
              name: z.string(),
              role: z.enum(ROLES),
              permissions: z.array(z.enum(Object.keys(PERMISSIONS) as [keyof typeof PERMISSIONS])),
            }),
            ...errorResponses(),
          },
        },
      },
      async (req) => {
        const p = principalOf(req);
        return { name: p.name, role: p.role, permissions: [...ROLE_PERMISSIONS[p.role]] };
      },
    );
  };
}
