// The command service's API in-process, set up the way `npm start` sets it up: buildApp (services/command/app.ts)
// over a real registry (SQLite in a temp dir) whose tokens are provisioned from the token file ensureLocalSecrets
// makes, both done before it listens. Hooks on it only record what arrived (the JSON body as sent, before
// validation) and what it answered; it never sends a request of its own. Stopped and listening again, it keeps its
// registry and its port, as a restarted service would.
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { Registry as Metrics } from "prom-client";
import { type AppDeps, buildApp } from "../../../services/command/app.ts";
import { provisionTokens } from "../../../services/command/auth/token-file.ts";
import { ensureLocalSecrets, type LocalSecrets } from "../../../services/command/bootstrap-secrets.ts";
import { commandConfigSchema } from "../../../services/command/config.ts";
import { silentLogger } from "../../../services/lib/log.ts";
import { verifySecret } from "../../../services/lib/secrets.ts";
import { openRegistry, type Registry } from "../../../services/registry/registry.ts";
import { bearerJson, type JsonCall } from "./http.ts";

export type Arrived = { method: string; path: string; contentType?: string; auth?: string; body?: unknown };
export type Answered = { path: string; status: number };

export type CommandApp = {
  /** `http://127.0.0.1:<port>` once it has listened; "" before. */
  readonly url: string;
  readonly dir: string;
  /** The registry's SQLite file, for another connection to open (e.g. to hold its write lock). */
  readonly dbPath: string;
  readonly registry: Registry;
  readonly secrets: LocalSecrets;
  /** The simulator's API token (`simulator.token`, role engineer), as `npm start` makes it. */
  readonly token: string;
  /** Every request that reached the service, with its JSON body as sent (before validation). */
  readonly arrived: Arrived[];
  /** Every answer the service sent. */
  readonly answered: Answered[];
  /** Listens on `port`; without one, on the port it had before, or else on a free one. */
  listen(port?: number): Promise<void>;
  /** Stops listening; the registry stays. */
  stop(): Promise<void>;
  /** An API call as the local engineer. */
  call: JsonCall;
  /** Stops listening, closes the registry and removes its folder. */
  close(): Promise<void>;
};

export type CommandAppOptions = {
  /** The temp folder's name prefix. */
  tmpPrefix: string;
  /**
   * config.mqtt.url, the broker URL the API hands out to devices (the app does not connect to it); a function when
   * the broker starts after the service's registry (its access feed needs the service's svc-broker token).
   */
  mqttUrl?: string | (() => string);
  onRegistryChange?: AppDeps["onRegistryChange"];
};

/** The service over its own registry and token file, not listening yet. */
export function createCommandApp(opts: CommandAppOptions): CommandApp {
  const log = silentLogger();
  const dir = mkdtempSync(join(tmpdir(), opts.tmpPrefix));
  const secrets = ensureLocalSecrets(join(dir, "secrets"));
  const dbPath = join(dir, "registry.sqlite");
  const registry = openRegistry(dbPath);
  provisionTokens(registry.tokens, secrets.tokenFile, log);
  const arrived: Arrived[] = [];
  const answered: Answered[] = [];
  const pathOf = (url: string) => url.split("?")[0] as string;

  const build = (): FastifyInstance => {
    const mqttUrl = typeof opts.mqttUrl === "function" ? opts.mqttUrl() : opts.mqttUrl;
    const app = buildApp({
      registry,
      config: commandConfigSchema.parse({ mqtt: { url: mqttUrl ?? "mqtt://127.0.0.1:1883" } }),
      log,
      metrics: new Metrics(),
      ...(opts.onRegistryChange ? { onRegistryChange: opts.onRegistryChange } : {}),
    });
    app.addHook("onRequest", async (req) => {
      arrived.push({
        method: req.method,
        path: pathOf(req.url),
        contentType: req.headers["content-type"],
        auth: req.headers.authorization,
      });
    });
    app.addHook("preValidation", async (req) => {
      const entry = arrived.findLast((a) => a.path === pathOf(req.url));
      if (entry) entry.body = req.body;
    });
    app.addHook("onResponse", async (req, reply) => {
      answered.push({ path: pathOf(req.url), status: reply.statusCode });
    });
    return app;
  };

  // Built when it first listens, and again after each stop: a closed fastify instance cannot listen again.
  let app: FastifyInstance | undefined;
  let port: number | undefined;
  const service: CommandApp = {
    get url() {
      return port === undefined ? "" : `http://127.0.0.1:${port}`;
    },
    dir,
    dbPath,
    registry,
    secrets,
    token: secrets.token("simulator"),
    arrived,
    answered,
    async listen(at) {
      app ??= build();
      await app.listen({ host: "127.0.0.1", port: at ?? port ?? 0 });
      port = (app.server.address() as AddressInfo).port;
    },
    async stop() {
      await app?.close();
      app = undefined;
    },
    call: (method, path, body) => bearerJson(service.url, secrets.token("engineer"))(method, path, body),
    async close() {
      await service.stop();
      registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return service;
}

/** createCommandApp, listening on a free port. */
export async function startCommandApp(opts: CommandAppOptions): Promise<CommandApp> {
  const service = createCommandApp(opts);
  await service.listen();
  return service;
}

/** Whether `secret` is the device's live credential in the registry (scrypt hash). */
export async function isLiveSecret(
  registry: Registry,
  id: string,
  secret: string | undefined,
): Promise<boolean> {
  const row = registry.db
    .prepare(
      `SELECT c.secret_hash FROM devices d JOIN device_credentials c
         ON c.device_id = d.id AND c.generation = d.credential_generation AND c.revoked_at IS NULL
        WHERE d.id = ?`,
    )
    .get(id) as { secret_hash: string } | undefined;
  return row !== undefined && secret !== undefined && (await verifySecret(secret, row.secret_hash));
}
