// The API's view of commissioning runs (zod: validation, serialization and the OpenAPI document in one).
// The CLI reads the same shapes.
import { z } from "zod";
import { CHECK_STATUSES, RUN_STATUSES } from "../../contract/devices.ts";
import { CHECKS } from "./checks.ts";

export const commissioningCheck = z
  .object({
    name: z.string().meta({
      description: Object.entries(CHECKS)
        .map(([name, c]) => `${name}: ${c.about}`)
        .join("\n"),
    }),
    status: z.enum(CHECK_STATUSES),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    detail: z.string().nullable().meta({ description: "What was found, for the engineer at the device." }),
    data: z.record(z.string(), z.unknown()).nullable().meta({ description: "The same as values." }),
  })
  .meta({ id: "CommissioningCheck" });

export const commissioningRun = z
  .object({
    id: z.string(),
    device_id: z.string(),
    generation: z.number().int().meta({ description: "The device's credential generation during the run." }),
    status: z.enum(RUN_STATUSES),
    started_at: z.string(),
    started_by: z.string(),
    finished_at: z.string().nullable(),
    signed_off_at: z.string().nullable(),
    signed_off_by: z.string().nullable(),
    note: z.string().nullable(),
    checks: z.array(commissioningCheck),
  })
  .meta({ id: "CommissioningRun", description: "A commissioning run; checks in the order they run." });
export type CommissioningRun = z.infer<typeof commissioningRun>;
