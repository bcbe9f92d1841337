// The device registry's record, as devices are registered through the command service's API
// (POST /v1/devices, POST /v1/devices/bulk) and as the change feed hands them to the broker and the ingest.
import { z } from "zod";
import { DISTRICT_NAMES } from "./city.ts";
import { DEVICE_ID_PATTERN, DEVICE_KINDS } from "./topics.ts";

export const deviceRegistration = z
  .object({
    id: z.string().regex(DEVICE_ID_PATTERN, { error: `must match ${DEVICE_ID_PATTERN}` }),
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
  /** Lifecycle status; issue 3 adds connected, commissioned, decommissioned. */
  status: z.string(),
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
