// The device registry's record, as devices are registered through the command service's API
// (POST /v1/devices, POST /v1/devices/bulk) and as the change feed hands them to the broker and the ingest.
import { z } from "zod";
import { DISTRICT_NAMES } from "./city.ts";
import { DEVICE_ID_PATTERN, DEVICE_KINDS } from "./topics.ts";

/**
 * The device lifecycle, after TALQ's commissioning model: registered (credentials issued) → connected (first
 * MQTT connection with them) → commissioned (all checks passed and signed off) → decommissioned (credentials
 * revoked, refused by the broker). A failed commissioning leaves the device connected, its failures listed.
 * A replacement keeps the point (id, place, luminaire, history), issues new credentials and goes back to
 * registered.
 */
export const DEVICE_STATUSES = ["registered", "connected", "commissioned", "decommissioned"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** A commissioning run's status, and each of its checks' (GET /v1/devices/{id}/commissioning). */
export const RUN_STATUSES = ["running", "passed", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const CHECK_STATUSES = ["pending", "running", "passed", "failed", "skipped"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** How a device is doing right now (device page, list filter): from broker presence and ingest activity. */
export const LIVENESS = {
  never_seen: "The device has never connected.",
  online: "Connected and reporting at its interval.",
  silent: "Connected, but no reading for three of its intervals.",
  offline: "Not connected (last will, disconnect or connection lost).",
} as const;
export type Liveness = keyof typeof LIVENESS;

/** Prefix of the platform's service accounts (MQTT usernames, client ids); no device id may start with it. */
export const SERVICE_PREFIX = "svc-";

export const deviceRegistration = z
  .object({
    id: z
      .string()
      .regex(DEVICE_ID_PATTERN, { error: `must match ${DEVICE_ID_PATTERN}` })
      .refine((id) => !id.startsWith(SERVICE_PREFIX), {
        error: `must not start with "${SERVICE_PREFIX}" (reserved for the platform's services)`,
      }),
    kind: z.enum(DEVICE_KINDS),
    district: z.enum(DISTRICT_NAMES as [string, ...string[]], {
      error: `must be one of the city's districts: ${DISTRICT_NAMES.join(", ")}`,
    }),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    installed_at: z.iso.date({ error: "must be a date YYYY-MM-DD" }),
    /** Expected seconds between readings; offline detection and commissioning use it. */
    report_interval_s: z.number().int().min(1).max(86_400).default(60),
    /** Streetlights: the LED luminaire's rated system power. */
    led_watts: z.number().positive().max(1000).optional(),
    /** Streetlights: the replaced legacy lamp's system power, lamp plus ballast (IPMVP baseline). */
    legacy_watts: z.number().positive().max(2000).optional(),
    /** Serial or label of the controller hardware. */
    serial: z.string().min(1).max(100).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.kind !== "streetlight") return;
    for (const key of ["led_watts", "legacy_watts"] as const) {
      if (d[key] === undefined)
        ctx.addIssue({ code: "custom", path: [key], message: "required for a streetlight" });
    }
  });
export type DeviceRegistration = z.input<typeof deviceRegistration>;

export const deviceRecord = z.object({
  id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  district: z.string(),
  lat: z.number(),
  lon: z.number(),
  installed_at: z.string(),
  report_interval_s: z.number().int(),
  led_watts: z.number().nullable(),
  legacy_watts: z.number().nullable(),
  /** Lifecycle status (see DEVICE_STATUSES). */
  status: z.enum(DEVICE_STATUSES),
  /** Serial or label of the controller hardware now at this point (changes on replacement). */
  serial: z.string().nullable(),
  /** Generation of the device's current credential (1 at registration, +1 per rotation or replacement). */
  credential_generation: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type DeviceRecord = z.infer<typeof deviceRecord>;

/** One entry of the registry's change feed (GET /v1/registry/changes?since=N). */
export const registryChange = z.object({
  seq: z.number().int(),
  op: z.enum(["upsert", "delete"]),
  id: z.string(),
  device: deviceRecord.nullable(),
});
export type RegistryChange = z.infer<typeof registryChange>;

export const registryChangesResponse = z.object({
  changes: z.array(registryChange),
  /** Highest change sequence number the registry holds; a client is fresh when it has applied up to it. */
  latest: z.number().int(),
});
export type RegistryChangesResponse = z.infer<typeof registryChangesResponse>;
