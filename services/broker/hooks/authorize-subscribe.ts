// SUBSCRIBE policy, default deny. A device subscribes only to its own cmd and calendar topics (DEVICE_SUBSCRIBE_CHANNELS), by
// its exact name: no wildcards, nothing under '$' or platform/. A service subscribes to filters equal to or
// narrower than one of its SERVICE_ACL filters. A refused filter gets 0x80 in the SUBACK [MQTT-3.9.3-1]; the
// others in the same SUBSCRIBE are still granted.
import { PLATFORM_ROOT } from "../../contract/topics.ts";
import type { AccessView } from "../access/cache.ts";
import { coveredByAny, hasWildcard, isValidFilter } from "../access/filters.ts";
import { isCurrent } from "./principal.ts";
import { type ClientInfo, deny, type SubscribeDecision, type SubscribeRequest } from "./types.ts";

export function createAuthorizeSubscribe({ access }: { access: AccessView }) {
  return function authorizeSubscribe(client: ClientInfo, sub: SubscribeRequest): SubscribeDecision {
    if (!isValidFilter(sub.topic)) return deny("invalid_filter");
    // '#' and '+' do not match '$' topics [MQTT-4.7.2-1]; spelling one out ($SYS/#) is refused here.
    if (sub.topic.startsWith("$")) return deny("reserved_topic");
    const p = client.principal;
    if (!p) return deny("unauthenticated");
    if (!isCurrent(access, p)) return deny("session_revoked");
    const granted: SubscribeDecision = { ok: true, qos: sub.qos };
    if (p.type === "service")
      return coveredByAny(p.subscribe, sub.topic) ? granted : deny("topic_not_permitted");
    if (hasWildcard(sub.topic)) return deny("wildcard_not_permitted");
    if (sub.topic.startsWith(`${PLATFORM_ROOT}/`)) return deny("platform_topic");
    return p.subscribe.has(sub.topic) ? granted : deny("topic_not_permitted");
  };
}
