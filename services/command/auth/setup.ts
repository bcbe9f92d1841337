// Authentication and rate limiting of the /v1 API, set up on the root instance before any route:
//   1. onRequest (instance): a bearer token is looked up by its SHA-256 (registry/tokens.ts) and the caller set
//      as req.principal, or the reason it is not as req.authFailure. Nothing is refused yet, so that
//   2. onRequest (route, @fastify/rate-limit): counts the request against the token (rateLimit.perToken a
//      minute) or, without a valid token, against the client address (rateLimit.anonymous): bad tokens are
//      rate limited too;
//   3. preParsing (instance): a /v1 request without a valid token gets 401 before its body is even read;
//   4. route hooks (auth/guard.ts requirePermission): 403 unless the role has the route's permission.
// /health, /metrics, /openapi.json and /docs stay open and unlimited.
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Role } from "../../contract/access.ts";
import type { TokenStore } from "../../registry/tokens.ts";
import { ApiError, type AuthFailure, unauthorized } from "../errors.ts";
import type { Principal } from "./guard.ts";

export type AuthOptions = {
  tokens: TokenStore;
  /** Requests per minute: per token, and per client address for requests without a valid token. */
  rateLimit: { perToken: number; anonymous: number };
};

const isApi = (url: string) => url.startsWith("/v1/") || url === "/v1";
const BEARER = /^Bearer +([\x21-\x7e]{1,512}) *$/i;

function authenticate(tokens: TokenStore, req: FastifyRequest): Principal | AuthFailure {
  const header = req.headers.authorization;
  if (header === undefined || header === "") return "missing";
  const m = BEARER.exec(header);
  if (!m) return "malformed";
  const found = tokens.authenticate(m[1] as string);
  if (!found.ok) return found.reason;
  return { name: found.token.name, role: found.token.role as Role, tokenId: found.token.id };
}

export function setupAuth(app: FastifyInstance, opts: AuthOptions): void {
  app.decorateRequest("principal", null);
  app.decorateRequest("authFailure", null);
  app.addHook("onRequest", async (req) => {
    if (!isApi(req.url)) return;
    const who = authenticate(opts.tokens, req);
    if (typeof who === "string") req.authFailure = who;
    else req.principal = who;
  });
  // Registered before the routes: its onRoute hook adds the limiter to each route declared after it.
  app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    allowList: (req) => !isApi(req.url),
    keyGenerator: (req) => (req.principal ? `token:${req.principal.tokenId}` : `addr:${req.ip}`),
    max: (req) => (req.principal ? opts.rateLimit.perToken : opts.rateLimit.anonymous),
    errorResponseBuilder: (req, ctx) =>
      new ApiError(
        "rate_limited",
        429,
        `more than ${ctx.max} requests a minute ${req.principal ? `with token ${req.principal.name}` : "from this address without a valid token"}; retry in ${ctx.after}`,
      ),
  });
  app.addHook("preParsing", async (req) => {
    if (isApi(req.url) && !req.principal) throw unauthorized(req.authFailure ?? "missing");
  });
}
