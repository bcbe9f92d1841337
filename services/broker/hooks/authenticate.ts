// CONNECT policy, default deny. Admits
//   - a device: client id == username == device id, allowed (not decommissioned, a live credential), and the
//     password its current secret (scrypt, through the verifier and its verified-secret cache);
//   - a service: username = its API token's name, client id == username or `${username}-…` (several instances),
//     and the password the token itself (sha256, cheap: tokens have 256 bits of entropy).
// Everything is read from the in-memory access cache: no request and no database query per CONNECT.
import { verifyToken } from "../../lib/secrets.ts";
import { type AccessView, type DeviceAccess, type ServiceAccess, sameAccess } from "../access/cache.ts";
import type { SecretVerifier } from "../access/verifier.ts";
import { devicePrincipal, lookup, servicePrincipal } from "./principal.ts";
import { type ConnectDecision, type ConnectRequest, deny } from "./types.ts";

/** Device ids are at most 64 characters (contract); service client ids add a short suffix. */
export const MAX_CLIENT_ID_LENGTH = 128;

export type AuthenticateDeps = { access: AccessView; verifier: SecretVerifier };

function clientIdFits(e: DeviceAccess | ServiceAccess, clientId: string): boolean {
  if (e.type === "device") return clientId === e.principal;
  return clientId === e.principal || clientId.startsWith(`${e.principal}-`);
}

export function createAuthenticate({ access, verifier }: AuthenticateDeps) {
  return async function authenticate(req: ConnectRequest): Promise<ConnectDecision> {
    const arrivedAt = Date.now();
    // [MQTT-3.1.3-6] lets a server accept a zero-length ClientId by assigning one; the platform does not,
    // because sessions, metrics and logs are keyed by client id. Refused with 0x02 [MQTT-3.1.3-9].
    if (req.clientId.length === 0) return deny("empty_client_id");
    if (req.clientId.length > MAX_CLIENT_ID_LENGTH) return deny("client_id_too_long");
    if (!access.ready()) return deny("access_not_ready");
    // A password without a username cannot be sent [MQTT-3.1.2-22]; either missing is bad credentials (0x04).
    if (!req.username || !req.password || req.password.length === 0) return deny("missing_credentials");
    const username = req.username;
    const secret = req.password.toString("utf8");
    // A device registered a moment ago may not have reached the cache yet (a missed change notice).
    if (!lookup(access, username)) await access.refreshForMiss?.(arrivedAt);

    // The entry may change while a scrypt runs (a revocation, a rotation): decide on the entry in force after it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = lookup(access, username);
      if (!entry) return deny("unknown_principal");
      if (!entry.allowed || entry.secret_hash === null) return deny("principal_disallowed");
      // Checked before the secret: a mismatch costs no scrypt (device ids are not secret anyway).
      if (!clientIdFits(entry, req.clientId)) return deny("client_id_mismatch");

      if (entry.type === "service") {
        if (!verifyToken(secret, entry.secret_hash)) return deny("bad_secret");
        return { ok: true, principal: servicePrincipal(entry) };
      }
      const outcome = await verifier.verify({
        principal: entry.principal,
        generation: entry.generation,
        hash: entry.secret_hash,
        secret,
        ...(req.connected ? { wanted: req.connected } : {}),
      });
      if (!sameAccess(lookup(access, username), entry)) continue;
      switch (outcome) {
        case "cache_hit":
        case "verified":
          return { ok: true, principal: devicePrincipal(entry) };
        case "rejected":
          return deny("bad_secret");
        case "busy":
        case "abandoned":
          return deny("auth_busy");
      }
    }
    return deny("access_changed");
  };
}
