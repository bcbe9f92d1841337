// SUBSCRIBE policy. For now: any filter, granted at the requested QoS.
// Issue 3: devices may subscribe only to their own cmd topic, services to the platform filters, default deny.
import type { ClientInfo, SubscribeDecision, SubscribeRequest } from "./types.ts";

export function authorizeSubscribe(_client: ClientInfo, sub: SubscribeRequest): SubscribeDecision {
  return { ok: true, qos: sub.qos };
}
