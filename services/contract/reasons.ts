// Every reason code the platform gives for a rejected message or reading, in one place (STYLE.md, habit 6).
// docs/contract.md documents each; tests/unit/contract-docs.test.ts keeps the two in step.

/** Reasons that reject a whole MQTT message before any reading is looked at. */
export const MESSAGE_REASONS = {
  not_json: "The payload is not valid UTF-8 JSON.",
  too_large: "The payload exceeds the maximum message size (256 KiB).",
  bad_topic: "The topic is not city/v1/{kind}/{deviceId}/telemetry with a known kind and a valid device id.",
  bad_shape: "The payload is neither a reading object nor an array of reading objects.",
  empty_batch: "The payload is an empty array.",
  batch_too_large: "The array holds more than 500 readings.",
  unknown_device: "The device id is not in the device registry.",
  kind_mismatch: "The device is registered as another kind than the topic says.",
  internal_error:
    "The platform failed to process the message (a defect, logged at error level); an excerpt of the payload is kept in ingest_rejects.",
} as const;
export type MessageReason = keyof typeof MESSAGE_REASONS;

/**
 * Rules a single reading's field can break. A reading's reason code is `<field>.<rule>`, e.g.
 * `dim_pct.out_of_range`, `energy_wh.backwards`, `ts.in_future`; a reading that is not an object is `reading.not_object`.
 */
export const FIELD_RULES = {
  missing: "A required field is absent.",
  wrong_type: "The value has the wrong JSON type (for example a string where a number is expected).",
  not_integer: "A counter or count that must be a whole number is not.",
  negative: "A count, concentration, energy or power is below zero.",
  out_of_range: "The value lies outside the physically plausible range given for the field.",
  invalid:
    "The value cannot be interpreted (for example a timestamp that is not ISO 8601 or epoch milliseconds).",
  in_future: "The measurement time is more than 5 minutes ahead of the platform's clock.",
  too_old: "The measurement time is before 2000-01-01 (a device whose clock was never set).",
  backwards: "A cumulative meter decreased without the reading's meter_reset flag.",
  inconsistent: "Fields contradict each other (for example more vehicles by class than in total).",
  not_object: "A reading in the message is not a JSON object.",
} as const;
export type FieldRule = keyof typeof FIELD_RULES;

export type RejectReason = MessageReason | `${string}.${FieldRule}`;

export function fieldReason(field: string, rule: FieldRule): RejectReason {
  return `${field}.${rule}`;
}

export function isFieldRule(value: string): value is FieldRule {
  return Object.hasOwn(FIELD_RULES, value);
}
