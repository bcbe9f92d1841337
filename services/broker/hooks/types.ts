// The broker's security seam: three policy hooks, one file each (authenticate.ts, authorize-publish.ts,
// authorize-subscribe.ts). They see plain values, not aedes objects, and answer with a decision value; the
// adapter (adapter.ts) maps decisions onto MQTT. createBroker({ hooks }) may replace any of them (tests do).
import type { ServiceRole } from "../../contract/access.ts";
import type { DeviceKind } from "../../contract/topics.ts";
import type { BrokerReason } from "./reasons.ts";

export type QoS = 0 | 1 | 2;
export type Transport = "tcp" | "ws" | "unknown";

/** An authenticated device: what it may use, worked out once at CONNECT (no parsing per message). */
export type DevicePrincipal = {
  type: "device";
  id: string;
  kind: DeviceKind;
  generation: number;
  /** Exact topics it may publish to and subscribe to (its own; no wildcards). */
  publish: ReadonlySet<string>;
  subscribe: ReadonlySet<string>;
};

/** An authenticated platform service (username = its API token's name). */
export type ServicePrincipal = {
  type: "service";
  id: string;
  role: ServiceRole;
  generation: number;
  /** MQTT filters from SERVICE_ACL (contract/access.ts). */
  publish: readonly string[];
  subscribe: readonly string[];
};

export type Principal = DevicePrincipal | ServicePrincipal;

/** Who is asking. `clientId` is as sent in CONNECT (possibly empty, before the broker assigns one). */
export type ClientInfo = {
  clientId: string;
  username: string | undefined;
  transport: Transport;
  remoteAddress: string | undefined;
  /** Set once authenticate admitted the client with a principal (undefined under permissive test hooks). */
  principal?: Principal | undefined;
};

export type ConnectRequest = ClientInfo & {
  password: Buffer | undefined;
  cleanSession: boolean;
  /** False once the connection is gone: a check queued behind others is then skipped. */
  connected?: () => boolean;
};
export type PublishRequest = { topic: string; qos: QoS; retain: boolean; payload: Buffer };
export type SubscribeRequest = { topic: string; qos: QoS };

export type Deny = { ok: false; reason: BrokerReason };
export type Decision = { ok: true } | Deny;
export type ConnectDecision = { ok: true; principal?: Principal } | Deny;
/** A subscription may be granted at a lower QoS than requested (MQTT 3.1.1 section 3.9.3). */
export type SubscribeDecision = { ok: true; qos: QoS } | Deny;

type MaybeAsync<T> = T | Promise<T>;

export type BrokerHooks = {
  authenticate(req: ConnectRequest): MaybeAsync<ConnectDecision>;
  authorizePublish(client: ClientInfo, msg: PublishRequest): MaybeAsync<Decision>;
  authorizeSubscribe(client: ClientInfo, sub: SubscribeRequest): MaybeAsync<SubscribeDecision>;
};

export const ALLOW: Decision = Object.freeze({ ok: true });

export function deny(reason: BrokerReason): Deny {
  return { ok: false, reason };
}
