// Section S: what access control costs at CONNECT. N devices connect (at most `inFlight` CONNECTs outstanding,
// one TCP connection each, raw mqtt-packet so that the client side is cheap) against three brokers in one run:
//   permissive  the platform broker with permissive hooks: the cost of a connection without access control;
//   cold        the platform broker with its policy, just started: every CONNECT pays a scrypt (~40 ms of a core);
//   warm        the same broker once every device has connected once: a reconnect costs an HMAC (verified cache).
// Figures: connects/s and the broker's CPU ms per CONNECT, and their ratios. The fleet shares one secret and so
// one stored hash (hashing N secrets would take N × 40 ms before the run); each device is still its own
// principal, so the verified cache is cold for each one.
//   node bench/auth.ts [--devices 2000] [--in-flight 100]
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import mqttPacket from "mqtt-packet";
import { generateSecret, hashSecret } from "../services/lib/secrets.ts";
import { createAccessStore } from "../services/registry/access.ts";
import { openRegistryDb } from "../services/registry/store.ts";
import type { AuthServerCommand, AuthServerMessage } from "./auth-server.ts";

export type AuthRound = {
  label: "permissive" | "cold" | "warm";
  connected: number;
  refused: number;
  seconds: number;
  connectsPerS: number;
  brokerCpuMsPerConnect: number;
};
export type AuthBenchResult = {
  devices: number;
  inFlight: number;
  rounds: AuthRound[];
  /** warm / cold and so on, for connects/s: > 1 is faster. */
  ratios: { warmVsCold: number; coldVsPermissive: number; warmVsPermissive: number };
};

const SERVER = resolve(import.meta.dirname, "auth-server.ts");
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

/** Registers the fleet straight in a registry database (the access feed reads it) with one shared secret. */
async function provision(dbPath: string, ids: readonly string[]): Promise<string> {
  const secret = generateSecret();
  const hash = await hashSecret(secret);
  const db = openRegistryDb(dbPath);
  const access = createAccessStore(db);
  const at = new Date().toISOString();
  const device = db.prepare(
    `INSERT INTO devices (id, kind, district, lat, lon, installed_at, report_interval_s, status, created_at,
       updated_at, credential_generation) VALUES (?, 'streetlight', 'Anfa', 33.59, -7.63, '2024-03-01', 60,
       'commissioned', ?, ?, 1)`,
  );
  const credential = db.prepare(
    "INSERT INTO device_credentials (device_id, generation, secret_hash, created_at, created_by) VALUES (?, 1, ?, ?, 'bench')",
  );
  db.exec("BEGIN");
  for (const id of ids) {
    device.run(id, at, at);
    credential.run(id, hash, at);
    access.touch("device", id, at);
  }
  db.exec("COMMIT");
  db.close();
  return secret;
}

type Server = { port: number; cpuMs(): Promise<number>; stop(): Promise<void> };

async function startServer(mode: "policy" | "permissive", dbPath: string): Promise<Server> {
  const child = fork(SERVER, [mode, dbPath], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const next = <T extends AuthServerMessage["type"]>(type: T) =>
    new Promise<Extract<AuthServerMessage, { type: T }>>((ok, fail) => {
      const on = (m: AuthServerMessage) => {
        if (m.type !== type) return;
        child.off("message", on);
        ok(m as Extract<AuthServerMessage, { type: T }>);
      };
      child.on("message", on);
      child.once("exit", (code) => fail(new Error(`auth broker (${mode}) exited (${code})`)));
    });
  const { port } = await next("ready");
  const ask = (cmd: AuthServerCommand) => child.send(cmd);
  return {
    port,
    async cpuMs() {
      const reply = next("cpu");
      ask({ type: "cpu" });
      return (await reply).ms;
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      ask({ type: "stop" });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Connects every device, `inFlight` CONNECTs outstanding at most; resolves with the open sockets. */
async function connectAll(port: number, ids: readonly string[], secret: string, inFlight: number) {
  const sockets: Socket[] = [];
  let connected = 0;
  let refused = 0;
  const one = (id: string) =>
    new Promise<void>((done) => {
      const socket = tcpConnect({ port, host: "127.0.0.1", noDelay: true });
      sockets.push(socket);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on("packet", (p) => {
        if (p.cmd !== "connack") return;
        if (p.returnCode === 0) connected++;
        else refused++;
        done();
      });
      socket.on("data", (buf) => parser.parse(buf));
      socket.on("error", () => {});
      socket.on("close", () => done());
      socket.write(
        mqttPacket.generate({
          cmd: "connect",
          protocolId: "MQTT",
          protocolVersion: 4,
          clientId: id,
          username: id,
          password: Buffer.from(secret),
          clean: true,
          keepalive: 120,
        }),
      );
    });
  let cursor = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(inFlight, ids.length) }, async () => {
      while (cursor < ids.length) await one(ids[cursor++] as string);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { sockets, connected, refused, seconds };
}

async function disconnectAll(sockets: Socket[]): Promise<void> {
  const disconnect = mqttPacket.generate({ cmd: "disconnect" });
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((ok) => {
          if (s.destroyed) return ok();
          s.once("close", () => ok());
          s.end(disconnect);
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 500)); // let the broker finish its side
}

async function measure(
  label: AuthRound["label"],
  server: Server,
  ids: string[],
  secret: string,
  inFlight: number,
) {
  const cpu0 = await server.cpuMs();
  const r = await connectAll(server.port, ids, secret, inFlight);
  const cpu1 = await server.cpuMs();
  await disconnectAll(r.sockets);
  const result: AuthRound = {
    label,
    connected: r.connected,
    refused: r.refused,
    seconds: round(r.seconds, 2),
    connectsPerS: round(r.connected / r.seconds),
    brokerCpuMsPerConnect: round((cpu1 - cpu0) / Math.max(1, r.connected), 3),
  };
  return result;
}

export async function benchAuth(
  opts: { devices?: number; inFlight?: number; print?: (line: string) => void } = {},
): Promise<AuthBenchResult> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const devices = opts.devices ?? 2000;
  const inFlight = opts.inFlight ?? 100;
  const dir = mkdtempSync(join(tmpdir(), "bench-auth-"));
  try {
    const ids = Array.from({ length: devices }, (_, i) => `bench-auth-${String(i + 1).padStart(5, "0")}`);
    const dbPath = join(dir, "registry.sqlite");
    const secret = await provision(dbPath, ids);
    const rounds: AuthRound[] = [];
    const report = (r: AuthRound) => {
      rounds.push(r);
      print(
        `auth: ${r.label}: ${r.connected} connected (${r.refused} refused) in ${r.seconds} s = ${r.connectsPerS} connects/s, broker ${r.brokerCpuMsPerConnect} ms CPU per CONNECT`,
      );
    };
    print(`auth: ${devices} devices, ${inFlight} CONNECTs in flight`);
    const permissive = await startServer("permissive", dbPath);
    report(await measure("permissive", permissive, ids, secret, inFlight));
    await permissive.stop();
    const policy = await startServer("policy", dbPath);
    report(await measure("cold", policy, ids, secret, inFlight));
    report(await measure("warm", policy, ids, secret, inFlight));
    await policy.stop();
    const rate = (label: string) => rounds.find((r) => r.label === label)?.connectsPerS ?? 0;
    const ratio = (a: number, b: number) => round(a / Math.max(b, 1e-9), 3);
    const ratios = {
      warmVsCold: ratio(rate("warm"), rate("cold")),
      coldVsPermissive: ratio(rate("cold"), rate("permissive")),
      warmVsPermissive: ratio(rate("warm"), rate("permissive")),
    };
    print(
      `auth: connects/s warm / cold ×${ratios.warmVsCold}, cold / permissive ×${ratios.coldVsPermissive}, warm / permissive ×${ratios.warmVsPermissive}`,
    );
    return { devices, inFlight, rounds, ratios };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      devices: { type: "string", default: "2000" },
      "in-flight": { type: "string", default: "100" },
    },
  });
  await benchAuth({ devices: Number(values.devices), inFlight: Number(values["in-flight"]) });
  process.exit(0);
}
