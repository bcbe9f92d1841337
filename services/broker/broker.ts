// The platform's MQTT broker: aedes (MQTT 3.1.1) over TCP and WebSocket, access control (policy hooks over an
// in-memory copy of the access feed, revocation, presence), Prometheus metrics and health, and admission control
// that keeps it standing when publishers outrun subscribers.
// A function of its dependencies (STYLE.md, habit 3); services/broker/main.ts reads config and listens.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Aedes, type Client } from "aedes";
import { Registry } from "prom-client";
import type { Logger } from "../lib/log.ts";
import { type OpsServer, startOpsServer } from "../lib/ops-server.ts";
import type { AccessCache } from "./access/cache.ts";
import type { AccessFeed } from "./access/feed.ts";
import type { BrokerConfig } from "./config.ts";
import type { DenialRow } from "./denials.ts";
import type { Peer } from "./hooks/adapter.ts";
import type { BrokerHooks } from "./hooks/types.ts";
import { type Listener, listenTcp, listenWs } from "./listeners.ts";
import { createBrokerMetrics } from "./metrics.ts";
import {
  createOverloadController,
  newPublisher,
  type OverloadSnapshot,
  type Publisher,
  type QueuedWork,
} from "./overload.ts";
import { gateReads } from "./read-gate.ts";
import { createRouter } from "./router.ts";
import { createSecurity } from "./security.ts";
import { createSessionStore } from "./session-store.ts";

export type BrokerDeps = {
  config: BrokerConfig;
  log: Logger;
  /**
   * Who may connect: the access feed (main.ts: httpAccessFeed). Without one, only a snapshot admits anyone, so
   * every CONNECT is refused with 0x03 unless `hooks` say otherwise.
   */
  feed?: AccessFeed;
  /** Policy overrides (tests); the policy in force is hooks/, default deny. */
  hooks?: Partial<BrokerHooks>;
  /** Monotonic clock in ms (tests may drive it). */
  now?: () => number;
};

export type BrokerPorts = { mqttPort: number; wsPort: number | undefined; opsPort: number };

export type Broker = {
  start(): Promise<BrokerPorts>;
  stop(): Promise<void>;
  readonly registry: Registry;
  /** The access list (tests may sync it rather than wait for the poll). */
  readonly access: AccessCache;
  overload(): OverloadSnapshot;
  denials(): DenialRow[];
};

type Connection = Publisher & { stream: Duplex; peer: Peer; client?: Client };
type RawPublish = (
  packet: { qos: number; topic: string },
  client: Client | null,
  done?: (err?: Error) => void,
) => void;

const ZERO: QueuedWork = Object.freeze({ messages: 0, bytes: 0 });

export function createBroker(deps: BrokerDeps): Broker {
  const { config } = deps;
  const log = deps.log.child({ module: "broker" });
  const now = deps.now ?? (() => performance.now());
  const registry = new Registry();
  const connections = new Map<Duplex, Connection>();
  const online = new Map<string, Connection>(); // client id → connection, once CONNACK is sent
  const router = createRouter({ concurrency: config.aedes.concurrency });
  let droppedLogged = 0;
  const store = createSessionStore({
    limits: config.sessions,
    onDrop: (clientId, packet) => {
      metrics.sessionDropped.inc();
      // Rate-limited: at the bound this fires for every message.
      if (now() - droppedLogged > 5000) {
        droppedLogged = now();
        log.warn({ clientId, topic: packet.topic, limits: config.sessions }, "session queue full: dropping");
      }
    },
  });

  const flushBytes = (c: Connection): void => {
    const { read, written } = c.gate.takeBytes();
    metrics.bytesIn.inc(read);
    metrics.bytesOut.inc(written);
  };
  const sessionTotals = () => {
    const s = { connected: { ...ZERO }, disconnected: { ...ZERO } };
    for (const [id, q] of store.sessions()) {
      const t = online.has(id) ? s.connected : s.disconnected;
      t.messages += q.messages;
      t.bytes += q.bytes;
    }
    return s;
  };
  const security = createSecurity({
    config: config.access,
    log,
    feed: deps.feed,
    hooks: deps.hooks,
    store,
    metrics: () => metrics,
  });
  const metrics = createBrokerMetrics(registry, {
    clients: () => online.size,
    subscriptions: () => {
      let n = 0;
      // aedes keeps a client's subscriptions (restored ones too) on client.subscriptions, keyed by filter.
      for (const c of online.values())
        n += Object.keys((c.client as { subscriptions?: object })?.subscriptions ?? {}).length;
      return n;
    },
    router: () => router.inFlight(),
    sessions: sessionTotals,
    socketBufferedBytes: () => {
      let n = 0;
      for (const c of connections.values()) n += c.stream.writableLength;
      return n;
    },
    flushBytes: () => {
      for (const c of connections.values()) flushBytes(c);
    },
    access: () => security.access.status(),
    ...security.gauges,
  });
  const inByQos = [0, 1, 2].map((q) => metrics.messagesIn.labels(String(q)));
  const outByQos = [0, 1, 2].map((q) => metrics.messagesOut.labels(String(q)));

  const queuedNow = (): QueuedWork => {
    const r = router.inFlight();
    const s = store.total();
    return { messages: r.messages + s.messages, bytes: r.bytes + s.bytes };
  };
  const overload = createOverloadController({
    settings: config.overload,
    log,
    metrics,
    queuedNow,
    measure: () => {
      let connected = 0; // a disconnected session does not drain: it counts, but has no delay
      for (const [id, q] of store.sessions()) if (online.has(id)) connected += q.messages;
      return {
        ...queuedNow(),
        stages: [
          { queued: router.inFlight().messages, completed: router.completed() },
          { queued: connected, completed: store.cleared() },
        ],
      };
    },
    exempt: (p) => store.queuedFor(p.id) > 0,
  });

  let aedes: Aedes | undefined;
  let listeners: Listener[] = [];
  let ops: OpsServer | undefined;
  let timer: NodeJS.Timeout | undefined;

  const onConnection = (stream: Duplex, peer: Peer, req?: IncomingMessage): void => {
    if (!aedes || aedes.closed) {
      stream.destroy();
      return;
    }
    const conn: Connection = {
      ...newPublisher(peer.remoteAddress ?? "?", gateReads(stream), now()),
      stream,
      peer,
    };
    connections.set(stream, conn);
    overload.track(conn);
    stream.once("close", () => {
      flushBytes(conn);
      overload.untrack(conn);
      connections.delete(stream);
    });
    conn.client = aedes.handle(stream, req);
  };

  const wire = (broker: Aedes): void => {
    broker.on("client", (client) => {
      const conn = connections.get(client.conn);
      if (!conn) return;
      conn.id = client.id;
      online.set(client.id, conn);
      metrics.connects.inc();
      log.debug({ clientId: client.id, transport: conn.peer.transport }, "client connected");
    });
    broker.on("clientDisconnect", (client) => {
      if (online.get(client.id)?.stream === client.conn) online.delete(client.id);
      metrics.disconnects.inc();
      log.debug({ clientId: client.id }, "client disconnected");
    });
    broker.on("clientError", (client, err) =>
      log.debug({ clientId: client.id, err: err.message }, "client error"),
    );
    broker.on("connectionError", (_client, err) => log.debug({ err: err.message }, "connection error"));
    broker.on("keepaliveTimeout", (client) => log.info({ clientId: client.id }, "keepalive timeout"));
    security.wire(broker);

    // Every PUBLISH a client sends goes through broker.publish once authorized (and the will, from a
    // closing client): the one place to rate publishers and shed QoS 0 while overloaded.
    const publish = broker.publish.bind(broker) as unknown as RawPublish;
    (broker as unknown as { publish: RawPublish }).publish = (packet, client, done) => {
      if (typeof client === "function") return publish(packet, null, client);
      if (client) security.published(packet.topic);
      const conn = client && !client.closed ? connections.get(client.conn) : undefined;
      if (conn) {
        const t = now();
        overload.notePublish(conn, t);
        inByQos[packet.qos]?.inc();
        if (overload.shed(conn, packet.qos, t)) {
          setImmediate(() => done?.());
          return;
        }
      }
      publish(packet, client, done);
    };
  };

  const health = () => ({
    status: aedes && !aedes.closed && listeners.length > 0 ? ("ok" as const) : ("degraded" as const),
    checks: {
      listeners: listeners.map((l) => l.port),
      clients: online.size,
      overload: (({ active, paused, queued }) => ({ active, paused, queued }))(overload.snapshot()),
      // Reported, but not part of the status: a broker waiting for the feed is up and answers 0x03, and the
      // command service (the feed) may itself wait for a healthy broker (docker-compose.yml).
      access: security.health(),
    },
  });

  const stop = async (): Promise<void> => {
    if (timer) clearInterval(timer);
    timer = undefined;
    // Stop accepting, then close the clients (a listener's close completes only once its connections are gone).
    const closingListeners = Promise.all(listeners.map((l) => l.close()));
    listeners = [];
    if (aedes && !aedes.closed) await security.beforeClose();
    const closing = aedes;
    aedes = undefined;
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    await closingListeners;
    await ops?.close();
    ops = undefined;
    await security.stop();
  };

  return {
    registry,
    access: security.access,
    overload: () => overload.snapshot(),
    denials: () => security.denials(),
    stop,
    async start() {
      try {
        security.start();
        aedes = await Aedes.createBroker({
          mq: router,
          persistence: store.persistence,
          concurrency: config.aedes.concurrency,
          drainTimeout: config.aedes.drainTimeoutMs,
          connectTimeout: config.aedes.connectTimeoutMs,
          heartbeatInterval: config.aedes.heartbeatIntervalMs,
          ...security.policy((client) => connections.get(client.conn)?.peer),
          authorizeForward: (_client, packet) => {
            outByQos[packet.qos]?.inc();
            return packet;
          },
        });
        wire(aedes);
        const tcp = await listenTcp(config.mqtt.host, config.mqtt.port, onConnection);
        listeners.push(tcp);
        const ws = config.websocket.enabled
          ? await listenWs(config.mqtt.host, config.websocket.port, config.websocket.path, onConnection)
          : undefined;
        if (ws) listeners.push(ws);
        ops = await startOpsServer({
          host: config.ops.host,
          port: config.ops.port,
          registry,
          health,
          routes: { "/denials": () => ({ denials: security.denials() }) },
        });
        timer = setInterval(() => overload.tick(now()), config.overload.checkIntervalMs);
        const ports = { mqttPort: tcp.port, wsPort: ws?.port, opsPort: ops.port };
        log.info(ports, "broker listening");
        return ports;
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
