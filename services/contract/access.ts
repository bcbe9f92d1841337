// Who may do what: API roles and their permissions, the MQTT topics each kind of principal may use, and the
// access feed the broker follows to authenticate devices and services without a database query per connect.
// See docs/security.md.
import { z } from "zod";
import { DEVICE_KINDS, type DeviceKind } from "./topics.ts";

/** Roles a person's API token can have (issue 3). */
export const HUMAN_ROLES = ["operator", "engineer", "energy_manager", "admin"] as const;
/** Roles of the platform's own services; their tokens double as their MQTT passwords. */
export const SERVICE_ROLES = ["service_broker", "service_ingest", "service_command"] as const;
export const ROLES = [...HUMAN_ROLES, ...SERVICE_ROLES] as const;
export type Role = (typeof ROLES)[number];
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** Whether a role (as stored, or as written in the token file) is one of the platform's services. */
export function isServiceRole(role: string): role is ServiceRole {
  return (SERVICE_ROLES as readonly string[]).includes(role);
}

export const PERMISSIONS = {
  "devices:read": "List devices, read a device's page, its history and commissioning.",
  "devices:write":
    "Register, import, correct, replace and decommission devices; rotate and revoke credentials.",
  "commissioning:run": "Start and re-run commissioning, send identify and test-dim commands.",
  "commissioning:signoff": "Sign a device off as commissioned.",
  "reports:read": "Read energy and savings reports and the state of their daily rollups (issue 5).",
  "reports:rebuild":
    "Recompute the energy rollups of lamps from InfluxDB (after an outage or a data repair).",
  "schedules:read":
    "Read programs, calendars, groups, assignments, overrides, rollouts and compliance (issue 4).",
  "schedules:write": "Create and edit programs, calendars and groups; assign calendars.",
  "overrides:write": "Set and cancel overrides of the dimming schedule.",
  "tokens:admin": "Create, list and revoke API tokens.",
  "registry:feed": "Follow the registry change feed (services).",
  "access:feed": "Follow the access feed with credential hashes (the broker).",
} as const;
export type Permission = keyof typeof PERMISSIONS;

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  operator: ["devices:read", "schedules:read", "overrides:write"],
  engineer: [
    "devices:read",
    "devices:write",
    "commissioning:run",
    "commissioning:signoff",
    "schedules:read",
    "schedules:write",
    "overrides:write",
  ],
  energy_manager: ["devices:read", "reports:read", "reports:rebuild", "schedules:read"],
  admin: [
    "devices:read",
    "devices:write",
    "commissioning:run",
    "commissioning:signoff",
    "reports:read",
    "reports:rebuild",
    "schedules:read",
    "schedules:write",
    "overrides:write",
    "tokens:admin",
    "registry:feed",
  ],
  service_broker: ["access:feed", "registry:feed"],
  service_ingest: ["registry:feed"],
  service_command: [],
};

export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** Channels of its own topic prefix a device may publish to / subscribe to; later issues append here. */
export const DEVICE_PUBLISH_CHANNELS = ["telemetry", "state", "ack"] as const;
export const DEVICE_SUBSCRIBE_CHANNELS = ["cmd", "calendar"] as const;

/**
 * MQTT topic filters each service role may publish to and subscribe to. A requested subscription must be
 * covered by one of these (equal or narrower); a publish topic must match one.
 */
export const SERVICE_ACL: Readonly<
  Record<ServiceRole, { publish: readonly string[]; subscribe: readonly string[] }>
> = {
  service_ingest: {
    publish: ["platform/v1/ingest/#"],
    subscribe: ["city/v1/+/+/telemetry", "platform/v1/registry/changed"],
  },
  service_command: {
    publish: ["city/v1/+/+/cmd", "city/v1/streetlight/+/calendar", "platform/v1/registry/changed"],
    subscribe: ["city/v1/+/+/state", "city/v1/+/+/ack", "platform/v1/presence/#", "platform/v1/ingest/#"],
  },
  service_broker: { publish: [], subscribe: [] },
};

/**
 * One principal's access as of the feed's sequence number: the broker replaces what it held for `principal`.
 * Devices authenticate with username = client id = device id and their secret (scrypt hash here); services
 * with username = their token's name and the token as password (sha256 here).
 */
export const accessEntry = z.discriminatedUnion("type", [
  z.object({
    seq: z.number().int(),
    type: z.literal("device"),
    principal: z.string(),
    kind: z.enum(DEVICE_KINDS),
    /** False for a decommissioned device or one without a live credential: refuse, and disconnect if online. */
    allowed: z.boolean(),
    /** Increases with every new credential (rotate, replace); a change disconnects the current session. */
    generation: z.number().int(),
    /** "scrypt$ln=…,r=…,p=…$salt$hash" (services/lib/secrets.ts), null when there is no live credential. */
    secret_hash: z.string().nullable(),
  }),
  z.object({
    seq: z.number().int(),
    type: z.literal("service"),
    principal: z.string(),
    role: z.enum(SERVICE_ROLES),
    allowed: z.boolean(),
    generation: z.number().int(),
    /** "sha256$hex" of the token. */
    secret_hash: z.string().nullable(),
  }),
]);
export type AccessEntry = z.infer<typeof accessEntry>;

export const accessChangesResponse = z.object({
  entries: z.array(accessEntry),
  /** Cursor for the next page (?since=next): the last change examined. The consumer is current when next ≥ latest. */
  next: z.number().int(),
  /** Highest sequence number of the feed. */
  latest: z.number().int(),
});
export type AccessChangesResponse = z.infer<typeof accessChangesResponse>;

export type DeviceKindOrService = DeviceKind | "service";
