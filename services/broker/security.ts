// The broker's access control, wired together: the access cache (who may connect, from the command service's
// access feed), the secret verifier, the policy hooks (hooks/, default deny), the table and counters of denials,
// and the authenticated clients (revocation at once, presence events). broker.ts plugs it into aedes.
import type { Aedes, Client } from "aedes";
import { REGISTRY_CHANGED_TOPIC } from "../contract/topics.ts";
import type { Logger } from "../lib/log.ts";
import { type AccessCache, type AccessChange, createAccessCache } from "./access/cache.ts";
import type { AccessFeed } from "./access/feed.ts";
import { createSecretVerifier } from "./access/verifier.ts";
import type { BrokerConfig } from "./config.ts";
import { createConnectedPrincipals } from "./connected.ts";
import { createDenialTable, type DenialRow } from "./denials.ts";
import { type AedesPolicy, type Peer, toAedesPolicy } from "./hooks/adapter.ts";
import { createPolicyHooks } from "./hooks/index.ts";
import type { BrokerHooks } from "./hooks/types.ts";
import type { BrokerMetrics } from "./metrics.ts";
import type { SessionStore } from "./session-store.ts";

export type Security = {
  readonly access: AccessCache;
  /** aedes' preConnect, authenticate, authorizePublish and authorizeSubscribe. */
  policy(peerOf: (client: Client) => Peer | undefined): AedesPolicy;
  /** Presence, takeover and keepalive events of a started aedes. */
  wire(aedes: Aedes): void;
  /** Called for every PUBLISH that passed authorization (cheap: one string comparison). */
  published(topic: string): void;
  denials(): DenialRow[];
  gauges: { authPending(): number; verifiedCached(): number };
  health(): Record<string, unknown>;
  start(): void;
  /** Before aedes closes: presence "shutdown" for every online device. */
  beforeClose(): Promise<void>;
  stop(): Promise<void>;
};

export function createSecurity(deps: {
  config: BrokerConfig["access"];
  log: Logger;
  feed: AccessFeed | undefined;
  hooks: Partial<BrokerHooks> | undefined;
  store: SessionStore;
  /** Read lazily: the metrics' gauges read this module, so they are made after it. */
  metrics: () => BrokerMetrics;
}): Security {
  const { config, log } = deps;
  const access = createAccessCache({
    feed: deps.feed,
    log,
    pollMs: config.pollMs,
    ...(config.snapshotPath ? { snapshotPath: config.snapshotPath } : {}),
    onSyncFailure: () => deps.metrics().accessSyncFailures.inc(),
  });
  const verifier = createSecretVerifier({
    concurrency: config.authConcurrency,
    maxQueue: config.authQueue,
    maxEntries: config.verifiedCacheSize,
    onOutcome: (outcome) => deps.metrics().authChecks.labels(outcome).inc(),
  });
  const hooks: BrokerHooks = { ...createPolicyHooks({ access, verifier }), ...deps.hooks };
  const denials = createDenialTable(config.denialsTableSize);
  let aedes: Aedes | undefined;
  const connected = createConnectedPrincipals({
    access,
    log,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        if (!aedes || aedes.closed) return resolve();
        // Presence is the broker's own message: it goes straight to routing, past the client policy.
        aedes.publish({ cmd: "publish", topic, payload, qos: 1, retain: true, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        );
      }),
  });

  access.onChange((change: AccessChange) => {
    const closed = connected.revokeStale(change.type, change.principal);
    if (closed > 0) deps.metrics().revocations.inc(closed);
    if (change.type !== "device" || change.entry?.allowed) return;
    // Decommissioned, credential revoked, or gone: forget its verified secret and end its persistent session,
    // so that nothing queues for it (a rotation keeps the session: same device, new secret).
    verifier.forget(change.principal);
    deps.store
      .forget(change.principal)
      .catch((err: Error) =>
        log.warn({ err: err.message, deviceId: change.principal }, "session not dropped"),
      );
  });

  return {
    access,
    policy: (peerOf) =>
      toAedesPolicy(hooks, log, peerOf, {
        onAuthenticated: (client, principal) =>
          connected.authenticated(client, principal, peerOf(client)?.remoteAddress),
        onDenied: (d) => {
          deps.metrics().denials.labels(d.action, d.reason).inc();
          denials.record(d);
        },
      }),
    wire(broker) {
      aedes = broker;
      broker.on("connackSent", (packet, client) => {
        if (packet.returnCode === 0) connected.connected(client);
      });
      broker.on("keepaliveTimeout", (client) => connected.ending(client, "keepalive_timeout"));
      broker.on("clientDisconnect", (client) => connected.disconnected(client));
      // A second connection with a client id in use closes the first [MQTT-3.1.4-2]: say so in its presence.
      const b = broker as unknown as { clients: Record<string, Client>; registerClient(c: Client): void };
      const register = b.registerClient.bind(broker);
      b.registerClient = (client) => {
        const old = b.clients[client.id];
        if (old && old !== client) connected.ending(old, "takeover");
        register(client);
      };
    },
    published(topic) {
      // The command service announces access changes here: pull at once rather than at the next poll.
      if (topic === REGISTRY_CHANGED_TOPIC) access.requestSync();
    },
    denials: () => denials.list(),
    gauges: { authPending: () => verifier.pending(), verifiedCached: () => verifier.size() },
    health() {
      const s = access.status();
      return {
        ready: s.ready,
        source: s.source,
        version: s.version,
        devices: s.devices,
        services: s.services,
        lastSyncAt: s.lastSyncAt === undefined ? null : new Date(s.lastSyncAt).toISOString(),
        lastError: s.lastError ?? null,
        authenticated: connected.size(),
        authPending: verifier.pending(),
      };
    },
    start: () => access.start(),
    beforeClose: () => connected.shutdown(),
    stop: () => access.stop(),
  };
}
