// The schedule CRUD routes (issue 4): programs, calendars and their preview, groups, assignments. main.ts passes
// them to buildApp's `routes` with the planner's `replan` (services/command/schedules/), which every committed
// change that can move a lamp's calendar calls with the lamps concerned.
import type { DatabaseSync } from "node:sqlite";
import type { FastifyPluginAsync } from "fastify";
import type { Replan } from "../schedules/types.ts";
import { assignmentsRoutes } from "./assignments.ts";
import { calendarPreviewRoutes } from "./calendar-preview.ts";
import { calendarsRoutes } from "./calendars.ts";
import { groupsRoutes } from "./groups.ts";
import { programsRoutes } from "./programs.ts";

export type { ScheduleCrudDeps } from "./schedule-schemas.ts";

export function scheduleCrudRoutes(deps: {
  db: DatabaseSync;
  now: () => Date;
  replan: Replan;
}): FastifyPluginAsync[] {
  return [
    programsRoutes(deps),
    calendarsRoutes(deps),
    calendarPreviewRoutes(deps),
    groupsRoutes(deps),
    assignmentsRoutes(deps),
  ];
}
