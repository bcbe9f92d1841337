// The broker's Prometheus metrics, on a registry of its own (no global default registry).
// Counters are incremented where things happen; gauges are read when /metrics is scraped.
import { Counter, Gauge, type Registry } from "prom-client";
import type { AccessStatus } from "./access/cache.ts";
import type { QueuedWork } from "./overload.ts";

export type OverloadMetrics = {
  active: Gauge;
  overloadSeconds: Counter;
  episodes: Counter;
  pausesTotal: Counter;
  paused: Gauge;
  shedTotal: Counter;
  queuedMessages: Gauge;
  queuedBytes: Gauge;
  delaySeconds: Gauge;
};

export type BrokerMetrics = OverloadMetrics & {
  connects: Counter;
  disconnects: Counter;
  messagesIn: Counter<"qos">;
  messagesOut: Counter<"qos">;
  bytesIn: Counter;
  bytesOut: Counter;
  sessionDropped: Counter;
  /** Refused CONNECT, PUBLISH and SUBSCRIBE, by action and reason (hooks/reasons.ts); no per-device labels. */
  denials: Counter<"action" | "reason">;
  authChecks: Counter<"outcome">;
  revocations: Counter;
  accessSyncFailures: Counter;
};

/** What the scrape-time gauges read. */
export type BrokerGauges = {
  clients(): number;
  subscriptions(): number;
  router(): QueuedWork;
  sessions(): { connected: QueuedWork; disconnected: QueuedWork };
  socketBufferedBytes(): number;
  /** Moves the byte counts of every connection into bytesIn / bytesOut. */
  flushBytes(): void;
  access(): AccessStatus;
  /** Secret checks waiting or running. */
  authPending(): number;
  /** Principals in the verified-secret cache. */
  verifiedCached(): number;
};

export function createBrokerMetrics(registry: Registry, gauges: BrokerGauges): BrokerMetrics {
  const registers = [registry];
  type Spec = { name: string; help: string };
  const counter = <L extends string = never>(spec: Spec & { labelNames?: L[] }) =>
    new Counter<L>({ labelNames: [], ...spec, registers });
  const gauge = (spec: Spec, read?: () => number) =>
    new Gauge({
      ...spec,
      registers,
      ...(read && {
        collect(this: Gauge) {
          this.set(read());
        },
      }),
    });
  const sessionGauge = (spec: Spec, pick: (q: QueuedWork) => number) =>
    new Gauge({
      ...spec,
      labelNames: ["state"],
      registers,
      collect(this: Gauge<"state">) {
        const s = gauges.sessions();
        this.set({ state: "connected" }, pick(s.connected));
        this.set({ state: "disconnected" }, pick(s.disconnected));
      },
    });
  // Both byte counters are brought up to date by whichever is collected first.
  const bytesCounter = (spec: Spec) =>
    new Counter({ ...spec, registers, collect: () => gauges.flushBytes() });

  gauge({ name: "broker_clients_connected", help: "MQTT clients currently connected" }, gauges.clients);
  gauge(
    { name: "broker_subscriptions", help: "Subscriptions held by connected clients" },
    gauges.subscriptions,
  );
  gauge(
    { name: "broker_router_queued_messages", help: "Messages inside the router (queued or being written)" },
    () => gauges.router().messages,
  );
  gauge(
    { name: "broker_router_queued_bytes", help: "Payload bytes inside the router" },
    () => gauges.router().bytes,
  );
  gauge(
    { name: "broker_socket_buffered_bytes", help: "Bytes written to client sockets and not yet flushed" },
    gauges.socketBufferedBytes,
  );
  sessionGauge(
    { name: "broker_session_queued_messages", help: "QoS 1/2 messages held for persistent sessions" },
    (q) => q.messages,
  );
  sessionGauge(
    { name: "broker_session_queued_bytes", help: "Approximate bytes held for persistent sessions" },
    (q) => q.bytes,
  );

  gauge(
    {
      name: "broker_access_ready",
      help: "1 once the access list is loaded (feed or snapshot); until then CONNACK 0x03",
    },
    () => (gauges.access().ready ? 1 : 0),
  );
  gauge(
    { name: "broker_access_version", help: "Sequence number of the access feed applied" },
    () => gauges.access().version,
  );
  gauge(
    {
      name: "broker_access_last_sync_timestamp_seconds",
      help: "When the access feed was last read successfully",
    },
    () => (gauges.access().lastSyncAt ?? 0) / 1000,
  );
  new Gauge({
    name: "broker_access_principals",
    help: "Principals in the access list",
    labelNames: ["type"],
    registers,
    collect(this: Gauge<"type">) {
      const a = gauges.access();
      this.set({ type: "device" }, a.devices);
      this.set({ type: "service" }, a.services);
    },
  });
  gauge(
    { name: "broker_auth_pending", help: "Device secret checks (scrypt) waiting or running" },
    gauges.authPending,
  );
  gauge(
    { name: "broker_auth_verified_cache_entries", help: "Principals whose verified secret is remembered" },
    gauges.verifiedCached,
  );

  return {
    denials: counter({
      name: "broker_denials_total",
      help: "Refused CONNECT, PUBLISH and SUBSCRIBE requests, by action and reason",
      labelNames: ["action", "reason"],
    }),
    authChecks: counter({
      name: "broker_auth_secret_checks_total",
      help: "Device secret checks at CONNECT by outcome: cache_hit, verified (scrypt), rejected, busy, abandoned",
      labelNames: ["outcome"],
    }),
    revocations: counter({
      name: "broker_access_revocations_total",
      help: "Connected clients closed because their access was revoked, replaced or removed",
    }),
    accessSyncFailures: counter({
      name: "broker_access_sync_failures_total",
      help: "Failed reads of the access feed",
    }),
    connects: counter({
      name: "broker_connects_total",
      help: "Clients that connected (CONNACK accepted)",
    }),
    disconnects: counter({
      name: "broker_disconnects_total",
      help: "Clients that disconnected, for any reason",
    }),
    messagesIn: counter({
      name: "broker_messages_received_total",
      help: "PUBLISH packets received from clients",
      labelNames: ["qos"],
    }),
    messagesOut: counter({
      name: "broker_messages_sent_total",
      help: "PUBLISH packets forwarded to subscribers, by QoS as published",
      labelNames: ["qos"],
    }),
    bytesIn: bytesCounter({
      name: "broker_bytes_received_total",
      help: "MQTT bytes received from clients",
    }),
    bytesOut: bytesCounter({
      name: "broker_bytes_sent_total",
      help: "MQTT bytes sent to clients",
    }),
    sessionDropped: counter({
      name: "broker_session_messages_dropped_total",
      help: "Messages not queued for a persistent session because it was at its bound (sessions.maxQueued*)",
    }),
    active: gauge({
      name: "broker_overload_active",
      help: "1 while the broker is overloaded and admitting publishers selectively",
    }),
    overloadSeconds: counter({
      name: "broker_overload_seconds_total",
      help: "Time spent overloaded",
    }),
    episodes: counter({
      name: "broker_overload_episodes_total",
      help: "Times the broker entered overload",
    }),
    pausesTotal: counter({
      name: "broker_publishers_paused_total",
      help: "Times a publisher's connection was paused",
    }),
    paused: gauge({
      name: "broker_publishers_paused",
      help: "Publishers currently paused",
    }),
    shedTotal: counter({
      name: "broker_messages_shed_total",
      help: "QoS 0 PUBLISHes dropped from heavy publishers while overloaded",
    }),
    queuedMessages: gauge({
      name: "broker_queued_messages",
      help: "Queued work the admission control acts on: router + sessions",
    }),
    queuedBytes: gauge({
      name: "broker_queued_bytes",
      help: "Queued work in bytes: router payloads + sessions",
    }),
    delaySeconds: gauge({
      name: "broker_queue_delay_seconds",
      help: "Estimated time for connected subscribers to drain the queued work at their recent rate",
    }),
  };
}
