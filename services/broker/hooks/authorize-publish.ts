// PUBLISH policy, default deny. A device publishes only to its own telemetry, state and ack topics
// (DEVICE_PUBLISH_CHANNELS), within the contract's message size; a service only to topics its SERVICE_ACL
// filters match; nobody to '$' topics. A session whose access was revoked or replaced publishes nothing (its
// will included), even in the moment before the broker has closed it.
import { MAX_MESSAGE_BYTES } from "../../contract/readings.ts";
import { PLATFORM_ROOT } from "../../contract/topics.ts";
import type { AccessView } from "../access/cache.ts";
import { coveredByAny } from "../access/filters.ts";
import { isCurrent } from "./principal.ts";
import { ALLOW, type ClientInfo, type Decision, deny, type PublishRequest } from "./types.ts";

export function createAuthorizePublish({ access }: { access: AccessView }) {
  return function authorizePublish(client: ClientInfo, msg: PublishRequest): Decision {
    // Topics beginning with '$' are the server's [MQTT-4.7.2-1]; a client publishing to $SYS could spoof
    // broker state (aedes issue #597).
    if (msg.topic.startsWith("$")) return deny("reserved_topic");
    const p = client.principal;
    if (!p) return deny("unauthenticated");
    if (!isCurrent(access, p)) return deny("session_revoked");
    // A PUBLISH topic has no wildcards [MQTT-3.3.2-2] (aedes refuses them first), so matching is coverage.
    if (p.type === "service") return coveredByAny(p.publish, msg.topic) ? ALLOW : deny("topic_not_permitted");
    if (!p.publish.has(msg.topic))
      return deny(msg.topic.startsWith(`${PLATFORM_ROOT}/`) ? "platform_topic" : "topic_not_permitted");
    // The ingest refuses these too; stopping them here keeps them off every subscriber's connection.
    if (msg.payload.length > MAX_MESSAGE_BYTES) return deny("payload_too_large");
    return ALLOW;
  };
}
