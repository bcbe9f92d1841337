// Every reason the broker's policy refuses a client, in one place (STYLE.md, habit 6). They appear in the logs,
// in broker_denials_total{action,reason} and in the ops server's /denials table. MQTT 3.1.1 gives each refusal a
// fixed outcome on the wire:
//   CONNECT   → CONNACK with a return code, then the connection is closed [MQTT-3.2.2-5]
//   PUBLISH   → no negative ack exists, so the connection is closed [MQTT-3.3.5-2]
//   SUBSCRIBE → return code 0x80 (failure) for that filter in the SUBACK [MQTT-3.9.3-1]
export const BROKER_REASONS = {
  // CONNECT
  empty_client_id: "CONNECT with a zero-length client id; the platform keys sessions and logs by client id",
  client_id_too_long: "CONNECT with a client id longer than the platform accepts",
  access_not_ready:
    "the broker has not yet read the access feed (nor a snapshot of it), so it cannot tell who may connect",
  auth_busy: "too many secret checks waiting (a reconnect storm); the client should retry later",
  access_changed:
    "the principal's access changed while its secret was being checked; the client should retry",
  missing_credentials: "CONNECT without a username or without a password",
  unknown_principal: "the username is neither a known device nor a known service account",
  bad_secret: "the password is not the principal's current secret or token",
  principal_disallowed:
    "the device is decommissioned or has no live credential, or the service token is revoked",
  client_id_mismatch:
    "the client id is not the principal's: a device's must equal its id, a service's its username or username-…",
  // PUBLISH and SUBSCRIBE
  unauthenticated: "PUBLISH or SUBSCRIBE from a client the policy admitted without a principal",
  session_revoked:
    "PUBLISH or SUBSCRIBE on a session whose access was revoked or replaced since it connected",
  reserved_topic: "a topic or filter starting with '$' (reserved for the broker, e.g. $SYS) [MQTT-4.7.2-1]",
  platform_topic: "a device used a platform/… topic (services only)",
  wildcard_not_permitted: "a device subscribed with '+' or '#'; devices subscribe to their own topics only",
  invalid_filter: "a SUBSCRIBE filter that MQTT 3.1.1 section 4.7 does not allow",
  topic_not_permitted:
    "a topic or filter outside what the principal may use (a device: its own telemetry, state, ack, cmd and calendar)",
  payload_too_large: "a device PUBLISH larger than the contract's maximum message size (256 KiB)",
  // Any
  policy_error: "the policy hook itself failed (a bug or an outage, logged at error); refused to be safe",
} as const;

export type BrokerReason = keyof typeof BROKER_REASONS;

/** CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3) for refused CONNECTs. */
export function connackCode(reason: BrokerReason): 2 | 3 | 4 | 5 {
  switch (reason) {
    case "empty_client_id":
    case "client_id_too_long":
      return 2; // identifier rejected [MQTT-3.1.3-9]
    case "access_not_ready":
    case "auth_busy":
    case "access_changed":
    case "policy_error":
      return 3; // server unavailable: try again later
    case "missing_credentials":
    case "unknown_principal":
    case "bad_secret":
      return 4; // bad user name or password
    case "principal_disallowed":
    case "client_id_mismatch":
    case "unauthenticated":
    case "session_revoked":
    case "reserved_topic":
    case "platform_topic":
    case "wildcard_not_permitted":
    case "invalid_filter":
    case "topic_not_permitted":
    case "payload_too_large":
      return 5; // not authorized
  }
}
