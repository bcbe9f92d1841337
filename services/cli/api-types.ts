// The answers of the command service's HTTP API as the CLI reads them. Where the API names its zod schema, the
// type is derived from it (type-only imports: erased at run time, so the CLI loads none of the service's code);
// the few answers whose schemas the routes keep private are typed here after .design/issue3.md.

import type { z } from "zod";
import type { commissioningRun } from "../command/commissioning/schema.ts";
import type { DevicePage } from "../command/routes/device-page.ts";
import type { Credentials, importResult, listedDevice } from "../command/routes/schemas.ts";
import type { DeviationOut } from "../command/schedules/compliance-report.ts";
import type { DeviceRecord } from "../contract/devices.ts";
import type { DeliveryRow } from "../registry/schedules/rollouts.ts";

export type { Credentials, DevicePage, DeviceRecord };
export type CommissioningRun = z.infer<typeof commissioningRun>;
export type Check = CommissioningRun["checks"][number];
export type CheckStatus = Check["status"];
export type RunStatus = CommissioningRun["status"];
export type ListedDevice = z.infer<typeof listedDevice>;
export type ImportResult = z.infer<typeof importResult>;

export type ApiIssue = {
  field?: string;
  message: string;
  index?: number;
  id?: string;
  line?: number;
};

/** `{error, message, issues}`: every refusal of the API. */
export type ApiErrorBody = { error: string; message: string; issues: ApiIssue[] };

export type HistoryEvent = { seq: number; at: string; actor: string; action: string; detail: unknown };

export type ApiToken = {
  id: string;
  name: string;
  role: string;
  source: "api" | "file";
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
};

export type CreatedToken = Pick<ApiToken, "id" | "name" | "role" | "created_at" | "expires_at"> & {
  token: string;
};

export type Whoami = { name: string; role: string; permissions: string[] };

export type { RolloutSummary } from "../command/schedules/types.ts";
// Dimming schedules (issue 4). Stored records come from the registry's stores (type-only imports); the answers the
// routes build are typed after .design/issue4.md (C's routes: rollouts, overrides, device schedule, compliance).
export type { CalendarRecord as Calendar } from "../registry/schedules/calendars.ts";
export type { GroupMember, GroupRecord as Group } from "../registry/schedules/groups.ts";
export type { ProgramRecord as Program } from "../registry/schedules/programs.ts";

import type { RolloutSummary } from "../command/schedules/types.ts";
import type { AssignmentTarget, DeliveryCounts, DeviationKind, RolloutKind } from "../contract/schedule.ts";

export type Assignment = {
  target: AssignmentTarget;
  calendar: string;
  assigned_at: string;
  assigned_by: string;
};

export type { DeliveryCounts };

/** GET /v1/rollouts/{id}: a rollout's progress. */
export type Rollout = {
  id: number;
  kind: RolloutKind;
  cause: string;
  target: { type: string; id?: string; ids?: string[] } | null;
  version: number | null;
  calendar_id: string | null;
  override_id: string | null;
  created_at: string;
  created_by: string;
  total: number;
  counts: DeliveryCounts;
  done: boolean;
  rejected_sample: { device_id: string; reason: string | null; detail: string | null }[];
};

/** GET /v1/rollouts/{id}/deliveries: one lamp's delivery (the store's row without its rollout id). */
export type Delivery = Omit<DeliveryRow, "rollout_id">;

export type OverrideTarget =
  | { type: "devices"; ids: string[] }
  | { type: "group"; id: string }
  | { type: "district"; id: string };

export type Override = {
  id: string;
  target: OverrideTarget;
  level_pct: number;
  ramp_s: number;
  starts_at: string;
  expires_at: string;
  reason: string;
  created_at: string;
  created_by: string;
  cancelled_at: string | null;
  cancelled_by: string | null;
  status: "scheduled" | "active" | "expired" | "cancelled";
  /** GET /v1/overrides/{id}: its rollout's progress, and its cancel's. */
  progress?: Rollout | null;
  cancel_progress?: Rollout | null;
};

export type AssignResult = { assignment?: Assignment; rollouts: RolloutSummary[] };

/** One switch instant of a night, as the API shows it (calendar preview, device schedule). */
export type SwitchInstant = {
  /** UTC ISO. */
  at: string;
  /** Local ISO with its offset. */
  local?: string;
  label?: string;
  level_pct: number;
  ramp_s?: number;
};

/** GET /v1/calendars/{id}/preview (services/command/routes/calendar-preview.ts), one night. */
export type PreviewNight = {
  night: string;
  weekday?: string;
  rule: { index: number; name: string | null } | null;
  program: string;
  program_name?: string;
  sunset?: { at: string; local: string };
  sunrise?: { at: string; local: string };
  switches: SwitchInstant[];
};

/** GET /v1/devices/{id}/schedule (services/command/routes/device-schedule.ts). */
export type DeviceSchedule = {
  device_id: string;
  online: boolean;
  resolution: {
    calendar_id: string | null;
    level: "device" | "group" | "district" | "factory";
    target_id: string | null;
    assigned_at: string | null;
    assigned_by: string | null;
    shadowed: { level: string; target_id: string; calendar_id: string }[];
  };
  /** The lamp's latest calendar delivery; null: never sent one. */
  delivery: (Omit<Delivery, "device_id"> & { rollout_id: number; version: number }) | null;
  override: Override | null;
  level_now: number;
  expected_from: { kind: "calendar"; version: number; program: string } | { kind: "override"; id: string };
  tonight: {
    night: string;
    program: string;
    rule_index: number | null;
    rule_name: string | null;
    switches: SwitchInstant[];
  };
};

export type ComplianceDeviation = DeviationOut;

/** GET /v1/compliance (services/command/routes/compliance.ts). */
export type ComplianceReport = {
  scope: { type: string; id: string };
  window: { from: string; to: string; basis: "last_night" | "night" | "range"; night: string | null };
  tolerance_pct: number;
  grace_s: number;
  standby_w: number;
  lamps: number;
  samples: number;
  compliant: number;
  compliance_pct: number | null;
  deviations_by_kind: Partial<Record<DeviationKind, number>>;
  deviations_total: number;
  /** Lamps with samples, least compliant first. */
  per_lamp: {
    device_id: string;
    samples: number;
    compliant: number;
    compliance_pct: number;
    deviations: number;
  }[];
  /** The worst deviations (at most 500): most samples first. */
  deviations: ComplianceDeviation[];
  no_data: string[];
};

// Energy audit (issue 5): the report and the rollup routes' answers are the contract's schemas.
/** GET /v1/energy/rollups and POST /v1/energy/rollups/rebuild (202). */
export type {
  EnergyReport,
  RollupRebuildAnswer as EnergyRebuild,
  RollupStatus as EnergyRollups,
} from "../contract/energy.ts";
