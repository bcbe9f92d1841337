// The authenticated clients, by principal: revocation and presence.
//   Revocation: when the access feed says a principal is no longer allowed, has a new credential generation, or
//   is gone, its clients are closed at once (the issue: "refused at once, also if already connected").
//   Presence: for devices, a presence event (contract/platform.ts, QoS 1, retained) once the CONNACK is sent
//   and when the connection ends, with why it ended, as far as aedes lets us tell:
//     disconnect         the client sent DISCONNECT [MQTT-3.14.4]
//     keepalive_timeout  nothing within 1.5 × keep alive [MQTT-3.1.2-24]
//     takeover           a new connection with the same client id [MQTT-3.1.4-2]
//     revoked            closed here because its access ended or changed
//     shutdown           the broker is stopping
//     connection_lost    anything else (socket closed or errored, protocol error, refused PUBLISH)
import type { Client } from "aedes";
import { type PresenceEvent, presenceTopic } from "../contract/platform.ts";
import type { Logger } from "../lib/log.ts";
import type { AccessView } from "./access/cache.ts";
import { isCurrent } from "./hooks/principal.ts";
import type { Principal } from "./hooks/types.ts";

export type EndReason = NonNullable<PresenceEvent["reason"]>;

export type ConnectedPrincipals = {
  /** authenticate admitted the client (before its CONNACK): from now on it can be revoked. */
  authenticated(client: Client, principal: Principal, remoteAddress: string | undefined): void;
  /** Its CONNACK (accepted) was sent: the device is online. */
  connected(client: Client): void;
  /** Why the connection is about to end (the first reason given wins). */
  ending(client: Client, reason: EndReason): void;
  /** aedes unregistered the client. */
  disconnected(client: Client): void;
  /** Closes the clients of a principal whose access no longer admits them; returns how many. */
  revokeStale(type: Principal["type"], id: string): number;
  /** Announces every online device as gone (reason shutdown); no presence events after this. */
  shutdown(timeoutMs?: number): Promise<void>;
  /** Authenticated clients. */
  size(): number;
};

type State = { principal: Principal; remoteAddress: string | undefined; online: boolean; reason?: EndReason };

export function createConnectedPrincipals(deps: {
  access: AccessView;
  log: Logger;
  /** Publishes a presence event; resolves once routed. */
  publish(topic: string, payload: Buffer): Promise<void>;
  /** Wall clock, ms. */
  now?: () => number;
}): ConnectedPrincipals {
  const log = deps.log.child({ module: "presence" });
  const now = deps.now ?? Date.now;
  const states = new Map<Client, State>();
  const byPrincipal = new Map<string, Set<Client>>();
  let closing = false;
  const keyOf = (type: string, id: string) => `${type}:${id}`;

  const announce = (client: Client, st: State, online: boolean): Promise<void> => {
    const p = st.principal;
    if (p.type !== "device" || closing) return Promise.resolve();
    const event: PresenceEvent = {
      id: p.id,
      kind: p.kind,
      online,
      at: new Date(now()).toISOString(),
      ...(online ? {} : { reason: st.reason ?? endReasonOf(client) }),
      ...(st.remoteAddress ? { remote_address: st.remoteAddress } : {}),
    };
    return deps
      .publish(presenceTopic(p.kind, p.id), Buffer.from(JSON.stringify(event)))
      .catch((err: Error) => log.warn({ deviceId: p.id, err: err.message }, "presence event not published"));
  };

  const remove = (client: Client, st: State): void => {
    states.delete(client);
    const key = keyOf(st.principal.type, st.principal.id);
    const set = byPrincipal.get(key);
    set?.delete(client);
    if (set?.size === 0) byPrincipal.delete(key);
  };

  return {
    authenticated(client, principal, remoteAddress) {
      const st: State = { principal, remoteAddress, online: false };
      states.set(client, st);
      const key = keyOf(principal.type, principal.id);
      const set = byPrincipal.get(key) ?? new Set<Client>();
      byPrincipal.set(key, set);
      set.add(client);
      // A connection that ends before aedes registers it never reaches disconnected(): forget it here too.
      client.conn.once("close", () => {
        if (states.get(client) === st && !st.online) remove(client, st);
      });
    },
    connected(client) {
      const st = states.get(client);
      if (!st || st.online || client.closed) return;
      st.online = true;
      void announce(client, st, true);
    },
    ending(client, reason) {
      const st = states.get(client);
      if (st && !st.reason) st.reason = reason;
    },
    disconnected(client) {
      const st = states.get(client);
      if (!st) return;
      remove(client, st);
      if (st.online) void announce(client, st, false);
      st.online = false;
    },
    revokeStale(type, id) {
      let n = 0;
      for (const client of [...(byPrincipal.get(keyOf(type, id)) ?? [])]) {
        const st = states.get(client);
        if (!st || isCurrent(deps.access, st.principal)) continue;
        st.reason ??= "revoked";
        log.info({ principal: id, clientId: client.id }, "access revoked or replaced: disconnecting");
        client.close();
        n++;
      }
      return n;
    },
    async shutdown(timeoutMs = 2000) {
      const events: Promise<void>[] = [];
      for (const [client, st] of states) {
        if (!st.online) continue;
        st.reason = "shutdown";
        events.push(announce(client, st, false));
        st.online = false;
      }
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs);
      });
      await Promise.race([Promise.all(events), late]);
      clearTimeout(timer);
    },
    size: () => states.size,
  };
}

function endReasonOf(client: Client): EndReason {
  // aedes sets _disconnected when the client sent DISCONNECT [MQTT-3.14.4-3].
  return (client as unknown as { _disconnected?: boolean })._disconnected ? "disconnect" : "connection_lost";
}
