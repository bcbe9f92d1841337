// Builders for reading fields. Each field is a zod schema carrying its unit, InfluxDB field type and bounds as
// metadata, so that validation, line protocol, the simulators and docs/contract.md all read one definition.
// Error messages are rule codes from reasons.ts, so a zod issue maps straight to `<field>.<rule>`.
import { z } from "zod";
import type { FieldRule } from "./reasons.ts";

export type InfluxType = "float" | "integer" | "boolean";
export type FieldMeta = { unit: string; influx: InfluxType; description: string; min?: number; max?: number };

/** Field metadata lives in its own registry (not zod's global one) so nothing else can collide with it. */
export const fieldRegistry = z.registry<FieldMeta>();

const typeError = (iss: { input?: unknown }): FieldRule =>
  iss.input === undefined ? "missing" : "wrong_type";
const lowError = (min: number): FieldRule => (min === 0 ? "negative" : "out_of_range");

export function float(unit: string, min: number, max: number, description: string) {
  return z
    .number({ error: typeError })
    .min(min, { error: lowError(min) })
    .max(max, { error: "out_of_range" })
    .register(fieldRegistry, { unit, influx: "float", description, min, max });
}

export function integer(unit: string, min: number, max: number, description: string) {
  return (
    z
      .number({ error: typeError })
      // Bounds before .int(): zod's int check also refuses values beyond 2^53, which are out of range, not fractions.
      .min(min, { error: lowError(min) })
      .max(max, { error: "out_of_range" })
      .int({ error: "not_integer" })
      .register(fieldRegistry, { unit, influx: "integer", description, min, max })
  );
}

export function boolean(description: string) {
  return z
    .boolean({ error: typeError })
    .register(fieldRegistry, { unit: "", influx: "boolean", description });
}

export function fieldMeta(schema: z.ZodType): FieldMeta | undefined {
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  return fieldRegistry.get(inner);
}
