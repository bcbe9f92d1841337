// From an access entry (the feed) to the principal a session runs as, and whether a session is still current.
// A device's topics are spelled out at CONNECT, so each PUBLISH costs one Set lookup.
import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS, SERVICE_ACL } from "../../contract/access.ts";
import { SERVICE_PREFIX } from "../../contract/devices.ts";
import { TOPIC_ROOT } from "../../contract/topics.ts";
import type { AccessView, DeviceAccess, ServiceAccess } from "../access/cache.ts";
import type { DevicePrincipal, Principal, ServicePrincipal } from "./types.ts";

export function devicePrincipal(e: DeviceAccess): DevicePrincipal {
  const own = (channel: string) => `${TOPIC_ROOT}/${e.kind}/${e.principal}/${channel}`;
  return {
    type: "device",
    id: e.principal,
    kind: e.kind,
    generation: e.generation,
    publish: new Set(DEVICE_PUBLISH_CHANNELS.map(own)),
    subscribe: new Set(DEVICE_SUBSCRIBE_CHANNELS.map(own)),
  };
}

export function servicePrincipal(e: ServiceAccess): ServicePrincipal {
  const acl = SERVICE_ACL[e.role];
  return {
    type: "service",
    id: e.principal,
    role: e.role,
    generation: e.generation,
    publish: acl.publish,
    subscribe: acl.subscribe,
  };
}

/**
 * The access entry a username names. Device ids never start with "svc-" and a service token's name always does
 * (contract/devices.ts, services/command/auth/token-file.ts), so the prefix says where to look; people's API
 * tokens are no MQTT accounts.
 */
export function lookup(access: AccessView, username: string): DeviceAccess | ServiceAccess | undefined {
  return username.startsWith(SERVICE_PREFIX) ? access.service(username) : access.device(username);
}

/** A session stays current while its principal is allowed, as what and with the generation it connected with. */
export function isCurrent(access: AccessView, p: Principal): boolean {
  if (p.type === "device") {
    const e = access.device(p.id);
    if (!e) return false;
    return e.allowed && e.generation === p.generation && e.kind === p.kind;
  }
  const e = access.service(p.id);
  if (!e) return false;
  return e.allowed && e.generation === p.generation && e.role === p.role;
}
