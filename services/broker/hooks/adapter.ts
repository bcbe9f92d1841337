// Maps the policy hooks (plain values in, decision values out) onto aedes' callback handlers and onto
// MQTT 3.1.1's ways of saying no (see reasons.ts). Refusals are logged at info, a hook that throws or
// rejects at error, and a failing hook never lets the request through.
import type { AedesOptions, AuthenticateError, Client } from "aedes";
import type { Logger } from "../../lib/log.ts";
import { type BrokerReason, connackCode } from "./reasons.ts";
import type { BrokerHooks, ClientInfo, QoS, Transport } from "./types.ts";

export type Peer = { transport: Transport; remoteAddress: string | undefined };

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
  const refuse = (reason: BrokerReason, what: string, ctx: Record<string, unknown>): Error => {
    log.info({ ...ctx, reason }, `${what} refused`);
    return new Error(reason);
  };
  const hookFailed = (what: string, ctx: Record<string, unknown>, err: unknown): Error => {
    log.error({ ...ctx, err }, `${what} policy hook failed`);
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
      const ctx = { clientId: info.clientId, transport: info.transport, remoteAddress: info.remoteAddress };
      const fail = (err: Error, reason: BrokerReason) =>
        callback(Object.assign(err, { returnCode: connackCode(reason) }) as AuthenticateError, false);
      settle(
        () => hooks.authenticate({ ...info, password }),
        (err, decision) => {
          if (err || !decision) return fail(hookFailed("connect", ctx, err), "policy_error");
          if (!decision.ok) return fail(refuse(decision.reason, "connect", ctx), decision.reason);
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
          const ctx = { clientId: info.clientId, topic: packet.topic };
          if (err || !decision) return callback(hookFailed("publish", ctx, err));
          // No negative PUBACK in MQTT 3.1.1: an error makes aedes close the connection [MQTT-3.3.5-2].
          if (!decision.ok) return callback(refuse(decision.reason, "publish", ctx));
          callback(null);
        },
      );
    },

    authorizeSubscribe(client, sub, callback) {
      const info = infoOf(client);
      settle(
        () => hooks.authorizeSubscribe(info, { topic: sub.topic, qos: sub.qos as QoS }),
        (err, decision) => {
          const ctx = { clientId: info.clientId, filter: sub.topic };
          // A null subscription is granted as 0x80 (failure) in the SUBACK [MQTT-3.9.3-1].
          if (err || !decision) {
            hookFailed("subscribe", ctx, err);
            return callback(null, null);
          }
          if (!decision.ok) {
            refuse(decision.reason, "subscribe", ctx);
            return callback(null, null);
          }
          callback(null, { ...sub, qos: decision.qos });
        },
      );
    },
  };
}
