// PUBLISH policy. For now: any client may publish anywhere except the broker's own '$' topics.
// Issue 3: a device may publish only under city/v1/{kind}/{its own id}/..., default deny.
import { ALLOW, type ClientInfo, type Decision, deny, type PublishRequest } from "./types.ts";

export function authorizePublish(_client: ClientInfo, msg: PublishRequest): Decision {
  // Topics beginning with '$' are the server's [MQTT-4.7.2-1]; a client publishing to $SYS could spoof
  // broker state (aedes issue #597).
  if (msg.topic.startsWith("$")) return deny("reserved_topic");
  return ALLOW;
}
