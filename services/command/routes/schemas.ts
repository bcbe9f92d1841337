// Schemas the device routes share: what they validate and what the OpenAPI document shows (fastify-type-provider-
// zod turns the same zod schemas into both). `.meta({id})` names a schema as an OpenAPI component; it returns a
// copy, so the contract's own schemas stay as they are.
import { z } from "zod";
import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS } from "../../contract/access.ts";
import type { DeviceRecord, Liveness } from "../../contract/devices.ts";
import { deviceRecord, deviceRegistration, LIVENESS } from "../../contract/devices.ts";
import { type DeviceKind, deviceTopic } from "../../contract/topics.ts";

export const MAX_BULK_DEVICES = 10_000;
export const MAX_BULK_ROTATE = 1000;

export const registration = deviceRegistration.meta({
  id: "DeviceRegistration",
  description:
    "A device as registered: its point (district, position), kind and, for streetlights, luminaire.",
});
export const device = deviceRecord.meta({ id: "DeviceRecord", description: "A device of the registry." });

/** The liveness states of contract/devices.ts LIVENESS (the list filter takes one). */
export const livenessStates = z.enum(Object.keys(LIVENESS) as [Liveness, ...Liveness[]]);
/** A device's liveness as answered, each state described in the OpenAPI document. */
export const livenessState = livenessStates.meta({
  description: Object.entries(LIVENESS)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n"),
});

export const listedDevice = deviceRecord
  .extend({
    liveness: livenessState,
    online: z.boolean(),
    last_seen_at: z.string().nullable(),
  })
  .meta({ id: "ListedDevice" });

export const credentials = z
  .object({
    id: z.string(),
    client_id: z.string(),
    username: z.string(),
    secret: z.string().meta({ description: "Shown once: only its scrypt hash is stored." }),
    generation: z.number().int(),
    mqtt_url: z.string(),
    topics: z.object({ publish: z.array(z.string()), subscribe: z.array(z.string()) }),
  })
  .meta({
    id: "Credentials",
    description: "MQTT credentials of a device: client id = username = device id.",
  });
export type Credentials = z.infer<typeof credentials>;

export function credentialsOf(
  d: { id: string; kind: DeviceKind },
  secret: string,
  generation: number,
  mqttUrl: string,
): Credentials {
  return {
    id: d.id,
    client_id: d.id,
    username: d.id,
    secret,
    generation,
    mqtt_url: mqttUrl,
    topics: {
      publish: DEVICE_PUBLISH_CHANNELS.map((c) => deviceTopic(d.kind, d.id, c)),
      subscribe: DEVICE_SUBSCRIBE_CHANNELS.map((c) => deviceTopic(d.kind, d.id, c)),
    },
  };
}

export const importResult = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    credentials: z.array(credentials).meta({ description: "For the newly created devices only." }),
  })
  .meta({ id: "ImportResult" });

export const importMode = z
  .enum(["create", "upsert"])
  .default("create")
  .meta({ description: "create: refuse ids that exist; upsert: update them (their credentials stay)." });

export const idParams = z.object({ id: z.string().meta({ description: "Device id" }) });
export const deviceAnswer = z.object({ device });

/** The query of the change feeds (GET /v1/registry/changes, /v1/access/changes). */
export const feedQuery = z.object({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export type { DeviceRecord };
