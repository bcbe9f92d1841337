// Coded API errors, one per failure, each with its HTTP status (after fastify's FST_ERR_* habit).
// The single error handler in app.ts turns them, and fastify's own validation errors, into
// {"error": code, "message": ..., "issues": [{"field", "message", "index"?, "id"?, "line"?}]}.
import { z } from "zod";
import type { Permission, Role } from "../contract/access.ts";

/** Every error code the API answers with, and when (the OpenAPI document lists them too). */
export const ERROR_CODES = {
  validation_failed: "400: the request is malformed; `issues` names each field (and row, line or id).",
  bad_request: "400: the request could not be read (e.g. a body that is not JSON).",
  unauthorized: "401: no token, or an unknown, revoked or expired one (with WWW-Authenticate: Bearer).",
  forbidden: "403: the token's role lacks the permission the route needs.",
  not_found: "404: no such device, token or route.",
  already_registered: "409: a device with this id exists.",
  decommissioned: "409: the device is decommissioned; nothing more can be done to it.",
  name_taken: "409: a live token has this name.",
  provisioned_by_file: "409: the token comes from the token file; change the file and restart instead.",
  not_passed: "409: the device's latest commissioning run has not passed (sign-off).",
  run_in_progress: "409: a commissioning run is in progress.",
  already_exists: "409: a program, calendar or group with this id exists.",
  in_use: "409: the program or calendar is still used by a calendar or an assignment (named in the message).",
  override_ended: "409: the override was already cancelled or has expired.",
  payload_too_large: "413: the body is larger than the route accepts.",
  unsupported_media_type: "415: the body's content type is not accepted by this route.",
  rate_limited: "429: too many requests this minute (Retry-After says when to try again).",
  internal: "500: a bug or an outage; the log has the details.",
  ack_timeout: "504: the device did not acknowledge the command in time.",
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export const issueSchema = z.object({
  field: z.string(),
  message: z.string(),
  /** Row of a bulk request (0-based). */
  index: z.number().int().optional(),
  /** Device (or other) id the issue is about. */
  id: z.string().optional(),
  /** Line of a CSV import (1-based, the header is line 1). */
  line: z.number().int().optional(),
});
export type Issue = z.infer<typeof issueSchema>;

export const apiErrorBody = z.object({
  error: z.string().meta({
    description: Object.entries(ERROR_CODES)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n"),
  }),
  message: z.string(),
  issues: z.array(issueSchema),
});

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly issues: readonly Issue[];
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    issues: readonly Issue[] = [],
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.issues = issues;
    this.headers = headers;
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError("not_found", 404, `${what} ${id} not found`);
export const validationFailed = (message: string, issues: readonly Issue[]) =>
  new ApiError("validation_failed", 400, message, issues);
export const conflict = (code: ErrorCode, message: string) => new ApiError(code, 409, message);

export type AuthFailure = "missing" | "malformed" | "unknown" | "revoked" | "expired";
const AUTH_MESSAGES: Record<AuthFailure, string> = {
  missing: "an API token is required (Authorization: Bearer <token>)",
  malformed: "the Authorization header must be `Bearer <token>`",
  unknown: "the API token is not valid",
  revoked: "the API token has been revoked",
  expired: "the API token has expired",
};
/** RFC 6750 §3: a missing token gets a bare challenge; a bad one says error="invalid_token". */
export const unauthorized = (reason: AuthFailure) =>
  new ApiError("unauthorized", 401, AUTH_MESSAGES[reason], [], {
    "www-authenticate":
      reason === "missing"
        ? 'Bearer realm="command"'
        : `Bearer realm="command", error="invalid_token", error_description="${AUTH_MESSAGES[reason]}"`,
  });
export const forbidden = (role: Role, permission: Permission) =>
  new ApiError("forbidden", 403, `role ${role} lacks the permission ${permission}`);

/** The error answers a route can give, for its OpenAPI description (and the serializer). */
export function errorResponses(...statuses: (400 | 404 | 409 | 415 | 504)[]) {
  const out: Record<number, typeof apiErrorBody> = {
    401: apiErrorBody,
    403: apiErrorBody,
    429: apiErrorBody,
  };
  for (const s of statuses) out[s] = apiErrorBody;
  return out;
}
