// What the schedule routes and the delivery engine say to each other (issue 4). The CRUD routes for programs,
// calendars, groups and assignments (services/command/routes/) call `replan` after a committed change; the
// planner (services/command/schedules/planner.ts) resolves each candidate lamp's calendar now, and for every lamp
// whose resolved document differs from the one it was last sent, stores a new document version and a rollout.
import type { AssignmentTarget, RolloutKind } from "../../contract/schedule.ts";

export const REPLAN_CAUSES = [
  "assign",
  "unassign",
  "calendar_edit",
  "program_edit",
  "group_members",
  "device_change",
  "redeliver",
] as const;
export type ReplanCause = (typeof REPLAN_CAUSES)[number];

export type ReplanInput = {
  cause: ReplanCause;
  /** Who made the change (API token name, or the service's account for automatic ones). */
  actor: string;
  /** What the user named, recorded on the rollouts (absent for edits of a calendar or a program). */
  target?: AssignmentTarget;
  /** Lamps whose calendar may have changed. Non-streetlights and decommissioned devices are skipped. */
  deviceIds: readonly string[];
};

/** A rollout as the API shows it right after it was created (progress: GET /v1/rollouts/{id}). */
export type RolloutSummary = {
  id: number;
  kind: RolloutKind;
  /** Calendar rollouts: the document version and the calendar it carries (null: the factory default). */
  version: number | null;
  calendar_id: string | null;
  override_id: string | null;
  total: number;
};

export type Replan = (input: ReplanInput) => RolloutSummary[];
