// The API's OpenAPI document (GET /openapi.json) and its browsable form (GET /docs), both open. They are made from
// the routes' own zod schemas (fastify-type-provider-zod's transforms), so the documentation cannot drift from
// what is validated. Set up before the routes: @fastify/swagger collects them as they are declared.
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import { PERMISSIONS, ROLE_PERMISSIONS } from "../../contract/access.ts";

const DESCRIPTION = `The device registry and commissioning of the Casablanca city telemetry platform.

Every /v1 route needs an API token: \`Authorization: Bearer <token>\`. A token has a role; a role has permissions:

${Object.entries(ROLE_PERMISSIONS)
  .map(([role, perms]) => `- **${role}**: ${perms.join(", ") || "none (an MQTT account only)"}`)
  .join("\n")}

Permissions: ${Object.entries(PERMISSIONS)
  .map(([p, what]) => `**${p}** ${what}`)
  .join(" ")}

Errors are \`{error, message, issues: [{field, message, index?, id?, line?}]}\`.`;

export function setupDocs(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Command service API", version: "1", description: DESCRIPTION },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API token (cst_…)." } },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: "devices", description: "Register, import, list and correct devices." },
        { name: "device lifecycle", description: "Credentials, replacement, decommissioning." },
        { name: "commissioning", description: "Checks that a device works where it stands; sign-off." },
        { name: "tokens", description: "API tokens and roles." },
        { name: "feeds", description: "Change feeds the platform's services follow." },
        { name: "operations", description: "Health and metrics (no token)." },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.register(swaggerUi, { routePrefix: "/docs" });
  const document: FastifyPluginAsync = async (docs) => {
    docs.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  };
  app.register(document);
}
