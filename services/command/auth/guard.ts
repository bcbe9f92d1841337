// What route files use: `requirePermission(p)` as a route hook (preHandler, or preValidation so that a caller
// without the permission hears 403 before any 400), and `principalOf(req)`, the authenticated caller whose name is
// the actor of every change. The authentication itself runs for every /v1 request (auth/setup.ts).
import type { FastifyReply, FastifyRequest } from "fastify";
import { can, type Permission, type Role } from "../../contract/access.ts";
import { type AuthFailure, forbidden, unauthorized } from "../errors.ts";

export type Principal = { name: string; role: Role; tokenId: string };

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the authentication hook for a valid token; null otherwise (see authFailure). */
    principal: Principal | null;
    authFailure: AuthFailure | null;
  }
}

/** Throws 401 or 403 unless the request carries a valid token whose role has `permission`. */
export function requirePermission(
  permission: Permission,
): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req) => {
    const p = req.principal;
    if (!p) throw unauthorized(req.authFailure ?? "missing");
    if (!can(p.role, permission)) throw forbidden(p.role, permission);
  };
}

/** The authenticated caller; throws 401 on a route that somehow runs without one (a bug, or an unguarded route). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized(req.authFailure ?? "missing");
  return req.principal;
}
