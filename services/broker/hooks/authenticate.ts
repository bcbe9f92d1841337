// CONNECT policy. For now: anyone may connect, provided the client id identifies it.
// Issue 3: per-device credentials, default deny (return deny("bad_credentials") unless they match).
import { ALLOW, type ConnectRequest, type Decision, deny } from "./types.ts";

/** Device ids are at most 64 characters (contract); services use short fixed ids. */
export const MAX_CLIENT_ID_LENGTH = 128;

export function authenticate(req: ConnectRequest): Decision {
  // [MQTT-3.1.3-6] lets a server accept a zero-length ClientId by assigning one; the platform does not,
  // because sessions, metrics and logs are keyed by client id. Refused with 0x02 [MQTT-3.1.3-9].
  if (req.clientId.length === 0) return deny("empty_client_id");
  if (req.clientId.length > MAX_CLIENT_ID_LENGTH) return deny("client_id_too_long");
  return ALLOW;
}
