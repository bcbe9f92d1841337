// API tokens (admin: create, list, revoke) and `whoami` (which token am I using, with what rights).
import { ROLES } from "../../contract/access.ts";
import type { ApiToken, CreatedToken, Whoami } from "../api-types.ts";
import { flag, str } from "../args.ts";
import { type Command, EXIT, failure, printJson } from "../context.ts";
import { fields, table } from "../format/table.ts";
import { localDateTime, when } from "../format/time.ts";

const create: Command = {
  name: "tokens create",
  summary: "create an API token (shown once)",
  principal: "admin",
  options: {
    name: {
      type: "string",
      value: "<name>",
      required: true,
      description: "who or what holds it, e.g. eng-fatima",
    },
    role: { type: "string", value: "<role>", required: true, choices: ROLES, description: ROLES.join(" | ") },
    "expires-at": { type: "string", value: "<time>", description: "ISO 8601 time it stops working" },
  },
  async run(ctx, { values }) {
    const res = await ctx.api.request<CreatedToken>("POST", "/v1/tokens", {
      body: { name: str(values, "name"), role: str(values, "role"), expires_at: str(values, "expires-at") },
    });
    if (res.kind !== "ok") return failure(ctx, res);
    const t = res.body;
    ctx.io.out(`Token ${t.id} for ${t.name} (${t.role}), shown once: hand it over now`);
    ctx.io.out(
      fields([
        ["token", t.token],
        ["expires", t.expires_at ? localDateTime(t.expires_at) : "never"],
      ]),
    );
    ctx.io.out("The holder sets it with: export CITY_API_TOKEN=<token>");
    return EXIT.ok;
  },
};

const list: Command = {
  name: "tokens list",
  summary: "list API tokens (never the tokens themselves)",
  principal: "admin",
  json: true,
  async run(ctx, { values }) {
    const res = await ctx.api.request<{ tokens: ApiToken[] }>("GET", "/v1/tokens");
    if (res.kind !== "ok") return failure(ctx, res);
    const { tokens } = res.body;
    if (flag(values, "json")) {
      printJson(ctx, { tokens });
      return EXIT.ok;
    }
    const now = ctx.now();
    ctx.io.out(
      table(
        ["id", "name", "role", "source", "created", "expires", "state"],
        tokens.map((t) => [
          String(t.id),
          t.name,
          t.role,
          t.source ?? "",
          localDateTime(t.created_at),
          t.expires_at ? localDateTime(t.expires_at) : "never",
          t.revoked_at
            ? `revoked ${when(t.revoked_at, now)}`
            : t.expires_at && new Date(t.expires_at) <= now
              ? "expired"
              : "active",
        ]),
      ),
    );
    return EXIT.ok;
  },
};

const revoke: Command = {
  name: "tokens revoke",
  summary: "revoke an API token at once",
  principal: "admin",
  positionals: ["ID"],
  async run(ctx, { positionals }) {
    const id = positionals[0] as string;
    const res = await ctx.api.request<unknown>("DELETE", `/v1/tokens/${encodeURIComponent(id)}`);
    if (res.kind !== "ok") return failure(ctx, res);
    ctx.io.out(`Token ${id} revoked.`);
    return EXIT.ok;
  },
};

const whoami: Command = {
  name: "whoami",
  summary: "the token in use: its name, role and permissions",
  json: true,
  async run(ctx, { values }) {
    const res = await ctx.api.request<Whoami>("GET", "/v1/whoami");
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) {
      printJson(ctx, res.body);
      return EXIT.ok;
    }
    ctx.io.out(
      fields([
        ["name", res.body.name],
        ["role", res.body.role],
        ["permissions", res.body.permissions.join(", ")],
        ["token from", ctx.config.tokenSource],
        ["api", `${ctx.api.url} (from ${ctx.config.urlSource})`],
      ]),
    );
    return EXIT.ok;
  },
};

export const tokenCommands: readonly Command[] = [create, list, revoke, whoami];
