// Every reason the broker's policy refuses a client, in one place (STYLE.md, habit 6). MQTT 3.1.1 gives
// each refusal a fixed outcome on the wire:
//   CONNECT   → CONNACK with a return code, then the connection is closed [MQTT-3.2.2-5]
//   PUBLISH   → no negative ack exists, so the connection is closed [MQTT-3.3.5-2]
//   SUBSCRIBE → return code 0x80 (failure) for that filter in the SUBACK [MQTT-3.9.3-1]
export const BROKER_REASONS = {
  empty_client_id: "CONNECT with a zero-length client id; the platform keys sessions and logs by client id",
  client_id_too_long: "CONNECT with a client id longer than the platform accepts",
  bad_credentials: "username or password not accepted (CONNACK 0x04)",
  not_authorized: "client not authorized to connect, publish or subscribe here",
  reserved_topic: "PUBLISH to a topic starting with '$' (reserved for the broker, e.g. $SYS) [MQTT-4.7.2-1]",
  policy_error: "the policy hook itself failed (a bug or an outage, logged at error); refused to be safe",
} as const;

export type BrokerReason = keyof typeof BROKER_REASONS;

/** CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3) for refused CONNECTs. */
export function connackCode(reason: BrokerReason): 2 | 3 | 4 | 5 {
  switch (reason) {
    case "empty_client_id":
    case "client_id_too_long":
      return 2; // identifier rejected [MQTT-3.1.3-9]
    case "bad_credentials":
      return 4;
    case "policy_error":
      return 3; // server unavailable
    case "not_authorized":
    case "reserved_topic":
      return 5;
  }
}
