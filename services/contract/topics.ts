// MQTT topics of the wire contract (plain MQTT 3.1.1). See docs/contract.md.
//   city/v1/{kind}/{deviceId}/telemetry  device → platform, QoS 1, one reading or an array of ≤ 500
//   city/v1/{kind}/{deviceId}/state      device → platform, retained, {"online":true|false} (last will)
//   city/v1/{kind}/{deviceId}/cmd        platform → device, QoS 1, commands (contract/commands.ts)
//   city/v1/{kind}/{deviceId}/ack        device → platform, QoS 1, command and calendar acks
//   city/v1/{kind}/{deviceId}/calendar   platform → device, QoS 1, retained: the lamp's calendar (contract/schedule.ts)
export const TOPIC_ROOT = "city/v1";
export const DEVICE_KINDS = ["streetlight", "airquality", "traffic"] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export const CHANNELS = ["telemetry", "state", "cmd", "ack", "calendar"] as const;
export type Channel = (typeof CHANNELS)[number];

export const DEVICE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{2,63}$/;

/** Subscriptions the platform's services use. */
export const TELEMETRY_FILTER = `${TOPIC_ROOT}/+/+/telemetry`;
export const STATE_FILTER = `${TOPIC_ROOT}/+/+/state`;

/** Platform-internal topics (not for devices). The command service announces registry changes here. */
export const PLATFORM_ROOT = "platform/v1";
export const REGISTRY_CHANGED_TOPIC = `${PLATFORM_ROOT}/registry/changed`;

export function isDeviceKind(value: string): value is DeviceKind {
  return (DEVICE_KINDS as readonly string[]).includes(value);
}

export function isDeviceId(value: string): boolean {
  return DEVICE_ID_PATTERN.test(value);
}

export function deviceTopic(kind: DeviceKind, deviceId: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${kind}/${deviceId}/${channel}`;
}

export type DeviceTopic = { kind: DeviceKind; deviceId: string; channel: Channel };
export type TopicError = { ok: false; reason: "bad_topic"; detail: string };

/** Parses a device topic. Mis-addressed topics are a value, not an exception. */
export function parseDeviceTopic(topic: string): ({ ok: true } & DeviceTopic) | TopicError {
  const parts = topic.split("/");
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) {
    return { ok: false, reason: "bad_topic", detail: `expected ${TOPIC_ROOT}/{kind}/{deviceId}/{channel}` };
  }
  const [, , kind, deviceId, channel] = parts as [string, string, string, string, string];
  if (!isDeviceKind(kind)) {
    return {
      ok: false,
      reason: "bad_topic",
      detail: `unknown kind "${kind}" (one of ${DEVICE_KINDS.join(", ")})`,
    };
  }
  if (!isDeviceId(deviceId)) {
    return {
      ok: false,
      reason: "bad_topic",
      detail: `device id "${deviceId}" does not match ${DEVICE_ID_PATTERN}`,
    };
  }
  if (!(CHANNELS as readonly string[]).includes(channel)) {
    return { ok: false, reason: "bad_topic", detail: `unknown channel "${channel}"` };
  }
  return { ok: true, kind, deviceId, channel: channel as Channel };
}
