// Offline checks of the container deployment (docker-compose.yml, Dockerfile, .dockerignore) against the code it
// runs: no Docker engine needed. This is the check that the compose file would be accepted, and keeps working,
// where `docker compose config` is not available (docs/operations.md, "Checking the compose file").
// It also keeps the configuration tables of docs/operations.md in step with the services' zod schemas.
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { BROKER_ENV, brokerConfigSchema } from "../../services/broker/config.ts";
import { commandConfigSchema, commandEnv } from "../../services/command/config.ts";
import { ingestConfigSchema, ingestEnv } from "../../services/ingest/config.ts";
import { INGEST_NODE_FLAGS } from "../../services/ingest/runtime.ts";
import { type EnvMap, loadConfig } from "../../services/lib/config.ts";
import { SIMULATOR_ENV, simulatorConfigSchema } from "../../simulators/config.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(resolve(ROOT, file), "utf8");

// --- what each compose service runs -----------------------------------------------------------------------------

type Protocol = "mqtt" | "ws" | "http";
type Listener = { port: number; protocol: Protocol };

type NodeService<S extends z.ZodType> = {
  /** `config/<name>.json` and the name given to loadConfig by the service's main.ts. */
  configName: string;
  schema: S;
  env: EnvMap;
  entry: string;
  /** The npm script that runs the same entry point outside containers. */
  npmScript: string;
  listeners(c: z.infer<S>): Listener[];
  /** The port of GET /health (undefined: the service serves none). */
  healthPort(c: z.infer<S>): number | undefined;
  hosts(c: z.infer<S>): string[];
  /** Files and folders the service writes and must keep across container restarts. */
  dataPaths(c: z.infer<S>): string[];
};

const nodeService = <S extends z.ZodType>(s: NodeService<S>) => s as unknown as NodeService<z.ZodType>;

const NODE_SERVICES: Record<string, NodeService<z.ZodType>> = {
  broker: nodeService({
    configName: "broker",
    schema: brokerConfigSchema,
    env: BROKER_ENV,
    entry: "services/broker/main.ts",
    npmScript: "broker",
    listeners: (c) => [
      { port: c.mqtt.port, protocol: "mqtt" },
      ...(c.websocket.enabled ? [{ port: c.websocket.port, protocol: "ws" as const }] : []),
      { port: c.ops.port, protocol: "http" },
    ],
    healthPort: (c) => c.ops.port,
    // The WebSocket listener binds the MQTT listener's host (services/broker/broker.ts).
    hosts: (c) => [c.mqtt.host, c.ops.host],
    dataPaths: () => [],
  }),
  command: nodeService({
    configName: "command",
    schema: commandConfigSchema,
    env: commandEnv,
    entry: "services/command/main.ts",
    npmScript: "command",
    listeners: (c) => [{ port: c.http.port, protocol: "http" }],
    healthPort: (c) => c.http.port,
    hosts: (c) => [c.http.host],
    dataPaths: (c) => [c.registryDb],
  }),
  ingest: nodeService({
    configName: "ingest",
    schema: ingestConfigSchema,
    env: ingestEnv,
    entry: "services/ingest/main.ts",
    npmScript: "ingest",
    listeners: (c) => [{ port: c.ops.port, protocol: "http" }],
    healthPort: (c) => c.ops.port,
    hosts: (c) => [c.ops.host],
    dataPaths: (c) => [c.spool.dir],
  }),
  simulator: nodeService({
    configName: "simulator",
    schema: simulatorConfigSchema,
    env: SIMULATOR_ENV,
    entry: "simulators/main.ts",
    npmScript: "simulate",
    listeners: () => [],
    healthPort: () => undefined,
    hosts: () => [],
    dataPaths: (c) => (c.truthFile ? [c.truthFile] : []),
  }),
};

/** The third-party image: what it listens on, fixed by the image. */
const INFLUXDB = { listeners: [{ port: 8086, protocol: "http" }] as Listener[] };

// --- the subset of the Compose specification this file uses, strictly (a misspelt key fails) --------------------

const duration = z.string().regex(/^(\d+(\.\d+)?(us|ms|s|m|h))+$/, "a Compose duration such as 10s or 1m30s");
const healthcheck = z
  .object({
    test: z
      .array(z.string())
      .refine((t) => t[0] === "CMD" || t[0] === "CMD-SHELL", "starts with CMD or CMD-SHELL"),
    interval: duration.optional(),
    timeout: duration.optional(),
    retries: z.number().int().positive().optional(),
    start_period: duration.optional(),
    start_interval: duration.optional(),
  })
  .strict();
const service = z
  .object({
    image: z.string().min(1).optional(),
    build: z.object({ context: z.string(), dockerfile: z.string().optional() }).strict().optional(),
    command: z.array(z.string()).min(1).optional(),
    // Strings only (quote numbers): YAML would read 0123 as a number, 1e3 as a float, yes as a string.
    environment: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).optional(),
    ports: z.array(z.string().regex(/^((\d{1,3}\.){3}\d{1,3}:)?\d+:\d+(\/(tcp|udp))?$/)).optional(),
    volumes: z.array(z.string().regex(/^[^:]+:\/[^:]*(:ro)?$/)).optional(),
    depends_on: z
      .record(
        z.string(),
        z
          .object({
            condition: z.enum(["service_started", "service_healthy", "service_completed_successfully"]),
            restart: z.boolean().optional(),
            required: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    healthcheck: healthcheck.optional(),
    restart: z.enum(["no", "always", "on-failure", "unless-stopped"]).optional(),
    init: z.boolean().optional(),
    profiles: z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/)).optional(),
    stop_grace_period: duration.optional(),
  })
  .strict()
  .refine((s) => s.image !== undefined || s.build !== undefined, "needs an image or a build");
const composeFile = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
    services: z.record(z.string().regex(/^[a-zA-Z0-9._-]+$/), service),
    volumes: z.record(z.string(), z.null()).optional(),
  })
  .strict();
type ComposeFile = z.infer<typeof composeFile>;

// --- reading the compose file as `docker compose` would -----------------------------------------------------------

const RAW: unknown = parse(read("docker-compose.yml"), { merge: true });

/** Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === "$$") return "$";
      if (bare) return env[bare] ?? "";
      const v = env[name as string];
      const unset = v === undefined || (colon === ":" && v === "");
      if (op === "-") return unset ? (arg ?? "") : (v as string);
      if (op === "+") return unset ? "" : (arg ?? "");
      if (op === "?" && unset) throw new Error(`\${${name}} is required: ${arg}`);
      return v ?? "";
    },
  );
}

function interpolateAll(node: unknown, env: Readonly<Record<string, string>>): unknown {
  if (typeof node === "string") return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env));
  if (node && typeof node === "object")
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)]));
  return node;
}

/** The compose file as `docker compose` sees it with the given variables (none: a machine without `.env`). */
function compose(vars: Record<string, string> = {}): ComposeFile {
  const doc = interpolateAll(RAW, vars) as Record<string, unknown>;
  // Top-level `x-*` keys are Compose extension fields (used for YAML anchors); the rest must be the spec's.
  const spec = Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith("x-")));
  return composeFile.parse(spec);
}

const svc = (c: ComposeFile, name: string) => {
  const s = c.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};

/**
 * A service's environment with each `X_FILE` (Docker secrets: a file in the platform-secrets volume that the
 * command service writes on first start) replaced by a value of X, as the service would read it.
 */
const envOf = (c: ComposeFile, name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(svc(c, name).environment ?? {}).map(([k, v]) =>
      k.endsWith("_FILE") && v.startsWith("/run/platform-secrets/")
        ? [k.slice(0, -5), "cst_from_secret_file"]
        : [k, v],
    ),
  );

function configOf(c: ComposeFile, name: string) {
  const spec = NODE_SERVICES[name] as NodeService<z.ZodType>;
  // What the container runs: config/<service>.json (copied into the image) + the service's environment.
  return loadConfig(spec.configName, spec.schema, spec.env, { env: envOf(c, name) });
}

/** The ingest's configuration, typed (the tests of its InfluxDB and shutdown settings). */
const ingestOf = (c: ComposeFile) =>
  loadConfig("ingest", ingestConfigSchema, ingestEnv, { env: envOf(c, "ingest") });

function listenersOf(c: ComposeFile, name: string): Listener[] {
  if (name === "influxdb") return INFLUXDB.listeners;
  const spec = NODE_SERVICES[name];
  return spec ? spec.listeners(configOf(c, name)) : [];
}

/** Named volume mounts of a service: [volume, target]. */
const mounts = (c: ComposeFile, name: string) =>
  (svc(c, name).volumes ?? []).map((v) => v.split(":") as [string, string]);

const within = (path: string, dir: string) => path === dir || path.startsWith(`${dir.replace(/\/$/, "")}/`);

// --- the tests ----------------------------------------------------------------------------------------------------

describe("docker-compose.yml", () => {
  // In a hook, not at collection: a file Compose would refuse then fails every test with the reason.
  let c: ComposeFile;
  beforeAll(() => {
    c = compose();
  });

  it("parses as the subset of the Compose specification it uses, with every variable defaulted", () => {
    expect(() => compose()).not.toThrow();
    // `docker compose up` must work with no .env at all: no ${VAR:?…} and no bare ${VAR}.
    const vars = [...read("docker-compose.yml").matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)];
    expect(vars.length).toBeGreaterThan(0);
    for (const [whole, , rest] of vars) expect(rest, `${whole} needs a default`).toMatch(/^:?-/);
  });

  it("runs InfluxDB and every Node service, the simulator behind the demo profile", () => {
    expect(Object.keys(c.services).sort()).toEqual(["influxdb", ...Object.keys(NODE_SERVICES)].sort());
    expect(svc(c, "simulator").profiles).toEqual(["demo"]);
    for (const name of Object.keys(c.services)) {
      if (name !== "simulator") expect(svc(c, name).profiles, name).toBeUndefined();
      expect(svc(c, name).restart, `${name} restart policy`).toBeDefined();
    }
  });

  describe.each(Object.keys(NODE_SERVICES))("%s", (name) => {
    const spec = NODE_SERVICES[name] as NodeService<z.ZodType>;
    const s = () => svc(c, name);

    it("sets only environment variables its config module maps", () => {
      // X_FILE is the Docker-secrets form of X (services/lib/config.ts).
      const unknown = Object.keys(s().environment ?? {}).filter(
        (k) => !(k in spec.env) && !(k.endsWith("_FILE") && k.slice(0, -5) in spec.env),
      );
      expect(unknown, `not in the env map of ${spec.configName}; renamed?`).toEqual([]);
    });

    it("gets a configuration its schema accepts from config/ + that environment", () => {
      expect(() => configOf(c, name)).not.toThrow();
    });

    it("listens on all interfaces inside its container", () => {
      for (const host of spec.hosts(configOf(c, name))) expect(["0.0.0.0", "::"]).toContain(host);
    });

    it("runs the entry point of its npm script, built from the Dockerfile", () => {
      expect(s().build?.context).toBe(".");
      expect(s().build?.dockerfile ?? "Dockerfile").toBe("Dockerfile");
      const flags = spec.entry === "services/ingest/main.ts" ? [...INGEST_NODE_FLAGS] : [];
      expect(s().command).toEqual(["node", ...flags, spec.entry]);
      expect(existsSync(resolve(ROOT, spec.entry)), spec.entry).toBe(true);
      const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
      expect(scripts[spec.npmScript]).toBe(["node", ...flags, spec.entry].join(" "));
    });

    it("checks its health on the port it serves /health on", () => {
      const port = spec.healthPort(configOf(c, name));
      if (port === undefined) return expect(s().healthcheck).toBeUndefined();
      const test = (s().healthcheck?.test ?? []).join(" ");
      const url = /https?:\/\/[^'"\s)]+/.exec(test)?.[0];
      expect(url, `healthcheck of ${name}: ${test}`).toBeDefined();
      const u = new URL(url as string);
      expect(["127.0.0.1", "localhost"]).toContain(u.hostname);
      expect(Number(u.port)).toBe(port);
      expect(u.pathname).toBe("/health");
      // The node image has no curl: the check is Node's own fetch.
      expect(s().healthcheck?.test.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
    });

    it("keeps what it writes in a named volume", () => {
      const targets = mounts(c, name).map(([, target]) => target);
      for (const path of spec.dataPaths(configOf(c, name))) {
        expect(path.startsWith("/"), `${path} should be absolute in a container`).toBe(true);
        expect(
          targets.some((t) => within(path, t)),
          `${path} is not inside a volume of ${name}`,
        ).toBe(true);
      }
    });
  });

  it("points every URL at a port its target service listens on, with the matching protocol", () => {
    const names = new Set(Object.keys(c.services));
    let checked = 0;
    for (const [from, s] of Object.entries(c.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!/^[a-z]+:\/\//.test(value)) continue;
        const u = new URL(value);
        if (!names.has(u.hostname)) continue;
        const protocol = ({ "mqtt:": "mqtt", "ws:": "ws", "http:": "http" } as const)[u.protocol as "mqtt:"];
        const port = Number(u.port) || ({ mqtt: 1883, ws: 80, http: 80 } as const)[protocol];
        expect(listenersOf(c, u.hostname), `${from}: ${key}=${value}`).toContainEqual({ port, protocol });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it("publishes only ports the services listen on", () => {
    for (const name of Object.keys(c.services)) {
      const listening = listenersOf(c, name).map((l) => l.port);
      for (const p of svc(c, name).ports ?? []) {
        const containerPort = Number(p.split("/")[0]?.split(":").at(-1));
        expect(listening, `${name} publishes ${p}`).toContain(containerPort);
      }
    }
  });

  it("gives a healthcheck to every service another one waits for, and names only existing ones", () => {
    for (const [name, s] of Object.entries(c.services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(c.services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(svc(c, dep).healthcheck, `${dep} (needed by ${name})`).toBeDefined();
        // A service in a profile is not there without it: production services must not wait for it.
        if (svc(c, dep).profiles) expect(s.profiles, `${name} → ${dep}`).toEqual(svc(c, dep).profiles);
        if (condition === "service_healthy") expect(svc(c, dep).healthcheck).toBeDefined();
      }
    }
  });

  it("declares every named volume it mounts, and mounts every one it declares", () => {
    const declared = Object.keys(c.volumes ?? {}).sort();
    const used = [...new Set(Object.keys(c.services).flatMap((n) => mounts(c, n).map(([v]) => v)))];
    for (const v of used) expect(v.startsWith(".") || v.startsWith("/"), `${v}: a named volume`).toBe(false);
    expect(used.sort()).toEqual(declared);
  });

  it("initialises InfluxDB 2 with the organisation, bucket and token the ingest uses", () => {
    const influx = svc(c, "influxdb");
    expect(influx.image).toMatch(/^influxdb:2(\.|$)/);
    const init = influx.environment ?? {};
    expect(init.DOCKER_INFLUXDB_INIT_MODE).toBe("setup");
    expect(init.DOCKER_INFLUXDB_INIT_USERNAME).toBeTruthy();
    expect((init.DOCKER_INFLUXDB_INIT_PASSWORD ?? "").length).toBeGreaterThanOrEqual(8); // influxd's minimum
    const ingest = ingestOf(c);
    expect(new URL(ingest.influx.url).hostname).toBe("influxdb");
    expect(init.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN).toBe(ingest.influx.token);
    expect(init.DOCKER_INFLUXDB_INIT_ORG).toBe(ingest.influx.org);
    expect(init.DOCKER_INFLUXDB_INIT_BUCKET).toBe(ingest.influx.bucket);
    expect(mounts(c, "influxdb").map(([, t]) => t)).toContain("/var/lib/influxdb2");
  });

  it("lets the same variables reconfigure the InfluxDB set-up and the ingest together", () => {
    const vars = { INFLUX_TOKEN: "prod-token", INFLUX_ORG: "casa", INFLUX_BUCKET: "city" };
    const prod = compose(vars);
    const ingest = ingestOf(prod);
    expect(ingest.influx).toMatchObject({ token: "prod-token", org: "casa", bucket: "city" });
    expect(svc(prod, "influxdb").environment?.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN).toBe("prod-token");
    // An InfluxDB elsewhere, 1.x with "user:password".
    const ext = ingestOf(compose({ INFLUX_URL: "https://influx.example:8086/", INFLUX_TOKEN: "u:p" }));
    expect(ext.influx).toMatchObject({ url: "https://influx.example:8086", token: "u:p" });
  });

  it("gives the ingest time to flush its spool before it is killed, and waits for its subscription", () => {
    const grace = svc(c, "ingest").stop_grace_period ?? "10s";
    const ms = [...grace.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)].reduce(
      (sum, [, n, unit]) =>
        sum + Number(n) * { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "s"],
      0,
    );
    // The writer's grace, plus the spool flush and the MQTT disconnect before it.
    expect(ms).toBeGreaterThanOrEqual(ingestOf(c).writer.shutdownGraceMs + 10_000);
    // The broker keeps QoS 1 messages only for sessions it knows: the ingest's must exist before devices publish.
    expect(svc(c, "simulator").depends_on?.ingest?.condition).toBe("service_healthy");
  });
});

// --- the image ----------------------------------------------------------------------------------------------------

describe("Dockerfile and .dockerignore", () => {
  const dockerfile = read("Dockerfile");
  const allowed = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("!"))
    .map((l) => l.slice(1).replace(/\/$/, ""));
  const lock = JSON.parse(read("package-lock.json")) as {
    packages: Record<string, { dev?: boolean }>;
  };

  it("starts from Node 24 or later and installs the runtime dependencies only", () => {
    const bases = [...dockerfile.matchAll(/^ARG NODE_IMAGE=(\S+)$|^FROM (\S+)/gm)].map((m) => m[1] ?? m[2]);
    const images = bases.filter((b) => b && !b.startsWith("$"));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      const major = Number(/^node:(\d+)/.exec(image as string)?.[1]);
      expect(major, `${image}: type stripping needs Node >= 24`).toBeGreaterThanOrEqual(24);
    }
    expect(dockerfile).toMatch(/npm (ci|install) --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it("creates the volume mount points owned by the service user", () => {
    const c = compose();
    for (const name of Object.keys(NODE_SERVICES)) {
      for (const [, target] of mounts(c, name)) expect(dockerfile, target).toContain(target);
    }
    expect(dockerfile).toMatch(/chown -R node:node \/data/);
  });

  // Walks the static imports of each entry point: every local file must exist and be let into the image, every
  // package must be installed with `--omit=dev` (a dependency, or a non-dev package of the lockfile).
  it.each(Object.values(NODE_SERVICES).map((s) => s.entry))(
    "%s: everything it imports is in the image",
    (entry) => {
      const seen = new Set<string>();
      const packages = new Set<string>();
      const queue = [resolve(ROOT, entry)];
      while (queue.length > 0) {
        const file = queue.pop() as string;
        if (seen.has(file)) continue;
        seen.add(file);
        expect(existsSync(file), relative(ROOT, file)).toBe(true);
        const top = relative(ROOT, file).split("/")[0] as string;
        expect(allowed, `${relative(ROOT, file)} is not let into the image by .dockerignore`).toContain(top);
        for (const spec of importsOf(readFileSync(file, "utf8"))) {
          if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec));
          else if (!spec.startsWith("node:") && !builtinModules.includes(spec)) packages.add(spec);
        }
      }
      for (const spec of packages) {
        const name = spec.startsWith("@")
          ? spec.split("/").slice(0, 2).join("/")
          : (spec.split("/")[0] as string);
        const entryInLock = lock.packages[`node_modules/${name}`];
        expect(entryInLock, `${name} (imported by ${entry}) is not installed`).toBeDefined();
        expect(entryInLock?.dev, `${name} (imported by ${entry}) is a devDependency`).not.toBe(true);
      }
      expect(allowed).toContain("package.json"); // "type": "module"
    },
  );
});

/** Module specifiers a TypeScript file loads at run time (type-only imports are erased by type stripping). */
function importsOf(source: string): string[] {
  const specs: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^;'"]*?\s+from\s+)?["']([^"']+)["']/gm;
  for (const m of source.matchAll(statement)) {
    const [, kind, typeOnly, from, spec] = m;
    if (typeOnly || (kind === "export" && !from)) continue;
    specs.push(spec as string);
  }
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

// --- docs/operations.md ------------------------------------------------------------------------------------------

type Leaf = { path: string; default: string };

/** Every leaf key of a config schema with its default as the docs show it: `JSON`, (unset) or (required). */
function leavesOf(schema: z.ZodType, prefix = ""): Leaf[] {
  type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; defaultValue?: unknown };
  const def = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
  let s = schema;
  let shown: string | undefined;
  let optional = false;
  for (let d = def(s); ; d = def(s)) {
    if (d.type === "default") shown ??= `\`${JSON.stringify(d.defaultValue)}\``;
    else if (d.type === "optional") optional = true;
    else if (d.type === "pipe") {
      // .transform() is a pipe into a transform (keep its input); z.preprocess() a pipe out of one.
      s = (def(d.out as z.ZodType).type === "transform" ? d.in : d.out) as z.ZodType;
      continue;
    } else if (!["prefault", "nullable", "readonly", "catch"].includes(d.type)) break;
    s = d.innerType as z.ZodType;
  }
  if (s instanceof z.ZodObject)
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) =>
      leavesOf(v, prefix ? `${prefix}.${k}` : k),
    );
  return [{ path: prefix, default: shown ?? (optional ? "(unset)" : "(required)") }];
}

/** Rows of the Markdown table that follows `<!-- config:<name> -->`: [key, env, default] without backticks on keys. */
function docTable(doc: string, name: string): string[][] {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => l.trim() === `<!-- config:${name} -->`);
  if (start < 0) throw new Error(`docs/operations.md has no <!-- config:${name} --> table`);
  const rows: string[][] = [];
  for (let i = start + 3; i < lines.length && (lines[i] as string).startsWith("|"); i++) {
    const cells = (lines[i] as string)
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    rows.push([(cells[0] ?? "").replaceAll("`", ""), cells[1] ?? "", cells[2] ?? ""]);
  }
  return rows;
}

describe("docs/operations.md configuration tables", () => {
  it.each(Object.keys(NODE_SERVICES))("%s: every key with its environment variable and default", (name) => {
    const spec = NODE_SERVICES[name] as NodeService<z.ZodType>;
    const envOf = (path: string) =>
      Object.entries(spec.env)
        .filter(([, p]) => p === path)
        .map(([e]) => `\`${e}\``)
        .join(", ") || "—";
    const expected = leavesOf(spec.schema).map((l) => [l.path, envOf(l.path), l.default]);
    expect(docTable(read("docs/operations.md"), name)).toEqual(expected);
    // And every env var maps to a real key (a typo in an env map would be silently ignored).
    const paths = new Set(expected.map(([p]) => p));
    for (const [env, path] of Object.entries(spec.env)) expect(paths, `${env} → ${path}`).toContain(path);
  });

  it("lists every Prometheus metric the services define", () => {
    const doc = read("docs/operations.md");
    const files = ["services/ingest/metrics.ts", "services/broker/metrics.ts", "services/command/main.ts"];
    const names = files.flatMap((f) =>
      [...read(f).matchAll(/\b(?:name:\s*|(?:counter|gauge|sessionGauge|bytesCounter)\()"([a-z_]+)"/g)].map(
        (m) => m[1] as string,
      ),
    );
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  it.each(Object.keys(NODE_SERVICES))(
    "%s: the repository's config/<service>.json, if any, restates the documented defaults",
    (name) => {
      const spec = NODE_SERVICES[name] as NodeService<z.ZodType>;
      const file = resolve(ROOT, "config", `${spec.configName}.json`);
      if (!existsSync(file)) return;
      const documented = new Map(leavesOf(spec.schema).map((l) => [l.path, l.default]));
      const walk = (node: unknown, prefix: string): void => {
        if (node && typeof node === "object" && !Array.isArray(node)) {
          for (const [k, v] of Object.entries(node))
            if (!k.startsWith("$")) walk(v, prefix ? `${prefix}.${k}` : k);
        } else
          expect(`\`${JSON.stringify(node)}\``, `config/${spec.configName}.json ${prefix}`).toBe(
            documented.get(prefix),
          );
      };
      walk(JSON.parse(readFileSync(file, "utf8")), "");
    },
  );
});
