// Coded API errors, one per failure, each with its HTTP status (after fastify's FST_ERR_* habit).
// The single error handler in app.ts turns them, and fastify's own validation errors, into
// {"error": code, "message": ..., "issues": [{"field", "message"}]}.
export type Issue = { field: string; message: string; index?: number; id?: string };

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly issues: readonly Issue[];
  constructor(code: string, status: number, message: string, issues: readonly Issue[] = []) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.issues = issues;
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError("not_found", 404, `${what} ${id} not found`);
export const validationFailed = (message: string, issues: readonly Issue[]) =>
  new ApiError("validation_failed", 400, message, issues);
