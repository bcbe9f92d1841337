// Maps the policy hooks (plain values in, decision values out) onto aedes' callback handlers and onto
// MQTT 3.1.1's ways of saying no (see reasons.ts). Refusals are logged at info with the client id, principal,
// topic and reason, and reported (onDenied: metrics, the /denials table); a hook that throws or rejects is
// logged at error, and a failing hook never lets the request through. The principal authenticate admitted a
// client as is kept for that client's later hooks (and reported: onAuthenticated, for revocation and presence).
import type { AedesOptions, AuthenticateError, Client } from "aedes";
import type { Logger } from "../../lib/log.ts";
import { type BrokerReason, connackCode } from "./reasons.ts";
import type { BrokerHooks, ClientInfo, Principal, QoS, Transport } from "./types.ts";

export type Peer = { transport: Transport; remoteAddress: string | undefined };

/** A refusal, for the broker's counters and its table of recent denials. */
export type Denial = {
  action: "connect" | "publish" | "subscribe";
  clientId: string;
  /** The principal's id once authenticated, else the username the CONNECT claimed. */
  principal: string | undefined;
  topic: string | undefined;
  reason: BrokerReason;
};

export type PolicyEvents = {
  /** authenticate admitted `client` as `principal` (before its CONNACK). */
  onAuthenticated?(client: Client, principal: Principal): void;
  onDenied?(denial: Denial): void;
};

export type AedesPolicy = Required<
  Pick<AedesOptions, "preConnect" | "authenticate" | "authorizePublish" | "authorizeSubscribe">
>;

/** Calls a hook that may or may not be async without paying a promise per message when it is not. */
function settle<T>(fn: () => T | Promise<T>, done: (err: unknown, value?: T) => void): void {
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (err) {
    done(err);
    return;
  }
  if (result instanceof Promise) result.then((v) => done(null, v), done);
  else done(null, result);
}

export function toAedesPolicy(
  hooks: BrokerHooks,
  log: Logger,
  peerOf: (client: Client) => Peer | undefined,
  events: PolicyEvents = {},
): AedesPolicy {
  // What the CONNECT said, kept per client: aedes replaces an empty client id before authenticate runs.
  const infos = new WeakMap<Client, ClientInfo & { cleanSession: boolean }>();
  const unknownPeer: Peer = { transport: "unknown", remoteAddress: undefined };
  const infoOf = (client: Client | null, fallbackId = ""): ClientInfo =>
    (client && infos.get(client)) ?? {
      clientId: client?.id ?? fallbackId,
      username: undefined,
      ...((client && peerOf(client)) ?? unknownPeer),
    };
  const refuse = (
    reason: BrokerReason,
    action: Denial["action"],
    info: ClientInfo,
    topic?: string,
  ): Error => {
    const principal = info.principal?.id ?? info.username;
    log.info({ clientId: info.clientId, principal, topic, reason }, `${action} refused`);
    events.onDenied?.({ action, clientId: info.clientId, principal, topic, reason });
    return new Error(reason);
  };
  const hookFailed = (action: Denial["action"], info: ClientInfo, err: unknown, topic?: string): Error => {
    const principal = info.principal?.id ?? info.username;
    log.error({ clientId: info.clientId, principal, topic, err }, `${action} policy hook failed`);
    events.onDenied?.({ action, clientId: info.clientId, principal, topic, reason: "policy_error" });
    return new Error("policy_error");
  };

  return {
    preConnect(client, packet, callback) {
      infos.set(client, {
        clientId: packet.clientId ?? "",
        username: packet.username,
        cleanSession: packet.clean ?? true,
        ...(peerOf(client) ?? unknownPeer),
      });
      callback(null, true);
    },

    authenticate(client, _username, password, callback) {
      const info = infos.get(client) ?? { ...infoOf(client), cleanSession: client.clean };
      const fail = (err: Error, reason: BrokerReason) =>
        callback(Object.assign(err, { returnCode: connackCode(reason) }) as AuthenticateError, false);
      settle(
        () => hooks.authenticate({ ...info, password, connected: () => !client.closed }),
        (err, decision) => {
          if (err || !decision) return fail(hookFailed("connect", info, err), "policy_error");
          if (!decision.ok) return fail(refuse(decision.reason, "connect", info), decision.reason);
          if (decision.principal) {
            // Later hooks of this client see who it is, and the broker can revoke it.
            infos.set(client, { ...info, principal: decision.principal });
            events.onAuthenticated?.(client, decision.principal);
          }
          callback(null, true);
        },
      );
    },

    authorizePublish(client, packet, callback) {
      const info = infoOf(client, (packet as { clientId?: string }).clientId);
      const payload: unknown = packet.payload;
      const msg = {
        topic: packet.topic,
        qos: packet.qos as QoS,
        retain: packet.retain,
        payload: Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === "string" ? payload : ""),
      };
      settle(
        () => hooks.authorizePublish(info, msg),
        (err, decision) => {
          if (err || !decision) return callback(hookFailed("publish", info, err, packet.topic));
          // No negative PUBACK in MQTT 3.1.1: an error makes aedes close the connection [MQTT-3.3.5-2].
          if (!decision.ok) return callback(refuse(decision.reason, "publish", info, packet.topic));
          callback(null);
        },
      );
    },

    authorizeSubscribe(client, sub, callback) {
      const info = infoOf(client);
      settle(
        () => hooks.authorizeSubscribe(info, { topic: sub.topic, qos: sub.qos as QoS }),
        (err, decision) => {
          // A null subscription is granted as 0x80 (failure) in the SUBACK [MQTT-3.9.3-1].
          if (err || !decision) {
            hookFailed("subscribe", info, err, sub.topic);
            return callback(null, null);
          }
          if (!decision.ok) {
            refuse(decision.reason, "subscribe", info, sub.topic);
            return callback(null, null);
          }
          callback(null, { ...sub, qos: decision.qos });
        },
      );
    },
  };
}
