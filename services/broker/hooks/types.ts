// The broker's security seam: three policy hooks, one file each (authenticate.ts, authorize-publish.ts,
// authorize-subscribe.ts). They see plain values, not aedes objects, and answer with a decision value.
// Issue 3 swaps in per-device credentials and ACLs (default deny) by replacing these files or by passing
// `hooks` to createBroker; the adapter (adapter.ts) maps decisions onto MQTT.
import type { BrokerReason } from "./reasons.ts";

export type QoS = 0 | 1 | 2;
export type Transport = "tcp" | "ws" | "unknown";

/** Who is asking. `clientId` is as sent in CONNECT (possibly empty, before the broker assigns one). */
export type ClientInfo = {
  clientId: string;
  username: string | undefined;
  transport: Transport;
  remoteAddress: string | undefined;
};

export type ConnectRequest = ClientInfo & { password: Buffer | undefined; cleanSession: boolean };
export type PublishRequest = { topic: string; qos: QoS; retain: boolean; payload: Buffer };
export type SubscribeRequest = { topic: string; qos: QoS };

export type Deny = { ok: false; reason: BrokerReason };
export type Decision = { ok: true } | Deny;
/** A subscription may be granted at a lower QoS than requested (MQTT 3.1.1 section 3.9.3). */
export type SubscribeDecision = { ok: true; qos: QoS } | Deny;

type MaybeAsync<T> = T | Promise<T>;

export type BrokerHooks = {
  authenticate(req: ConnectRequest): MaybeAsync<Decision>;
  authorizePublish(client: ClientInfo, msg: PublishRequest): MaybeAsync<Decision>;
  authorizeSubscribe(client: ClientInfo, sub: SubscribeRequest): MaybeAsync<SubscribeDecision>;
};

export const ALLOW: Decision = Object.freeze({ ok: true });

export function deny(reason: BrokerReason): Deny {
  return { ok: false, reason };
}
