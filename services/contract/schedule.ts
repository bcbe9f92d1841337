// Dimming schedules on the wire (issue 4; docs/contract.md §13), after TALQ's programs, calendars and overrides.
//   city/v1/streetlight/{deviceId}/calendar  platform → device, QoS 1, RETAINED: the lamp's resolved calendar
//   city/v1/streetlight/{deviceId}/ack       device → platform, QoS 1: calendarAck (applied | rejected)
//   city/v1/streetlight/{deviceId}/cmd       platform → device: override / cancel_override (contract/commands.ts)
//
// A program covers one NIGHT: the operating day D runs from local noon on D to local noon on D+1. A fixed time
// at or after 12:00 falls on D, one before 12:00 on D+1; `sunset` is D's sunset and `sunrise` D+1's sunrise, both
// at the lamp's own position. Calendar rules are matched against D ("the night of Saturday 28 November" starts
// that evening). At any instant the level is that of the latest switch point at or before it, in time order
// across nights (a night's first points continue the previous night's last level); a point with a ramp moves
// linearly from the level in effect to its own over ramp_s. Local time is the IANA zone Africa/Casablanca.
import { z } from "zod";
import { CITY } from "./city.ts";

/** Ids of programs, calendars and groups: lower-case slugs, like device ids. */
export const SCHEDULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,63}$/;
export const scheduleId = z.string().regex(SCHEDULE_ID_PATTERN, {
  error: `must be 2–64 characters of a-z, 0-9 and "-", starting with a letter or digit`,
});

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `at` of a switch point: "sunset", "sunrise" or a local time "HH:MM" (24-hour). */
export const SWITCH_AT = /^(sunset|sunrise|([01]\d|2[0-3]):[0-5]\d)$/;
const isoDate = z.iso.date({ error: "must be a date YYYY-MM-DD" });

/** One switch point of a program: a fixed local time "HH:MM", or sunset / sunrise with an offset in minutes. */
export const switchPoint = z
  .object({
    at: z.string().regex(SWITCH_AT, { error: 'must be "sunset", "sunrise" or a local time "HH:MM"' }),
    /** Astronomical points only: minutes after (+) or before (−) the event. */
    offset_min: z.number().int().min(-180).max(180).optional(),
    level_pct: z.number().min(0).max(100),
    /** Seconds to move from the level in effect to this one (0 = at once). */
    ramp_s: z.number().int().min(0).max(3600).default(0),
  })
  .superRefine((p, ctx) => {
    if (p.offset_min !== undefined && p.at !== "sunset" && p.at !== "sunrise")
      ctx.addIssue({ code: "custom", path: ["offset_min"], message: "only for sunset or sunrise" });
  });
export type SwitchPoint = z.infer<typeof switchPoint>;
export type SwitchPointInput = z.input<typeof switchPoint>;

export const MAX_SWITCH_POINTS = 24;

export const programBody = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  switch_points: z.array(switchPoint).min(1).max(MAX_SWITCH_POINTS),
});
export type ProgramBody = z.infer<typeof programBody>;

/**
 * One rule of a calendar: the program for the nights it matches. Every condition given must hold (a date range
 * and weekdays = "Fridays and Saturdays during Ramadan"); at least one is required. The first matching rule wins.
 */
export const calendarRule = z
  .object({
    /** Shown in explanations: "match night", "Ramadan", "weekend". */
    name: z.string().max(100).optional(),
    program: scheduleId,
    /** Inclusive range of nights (the date the night starts). */
    from: isoDate.optional(),
    to: isoDate.optional(),
    weekdays: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional(),
    /** The nth weekday of a month (n = −1: the last one), optionally only in some months (1–12). */
    nth_weekday: z
      .object({
        n: z.union([z.literal(-1), z.number().int().min(1).max(5)]),
        weekday: z.enum(WEEKDAYS),
        months: z.array(z.number().int().min(1).max(12)).min(1).max(12).optional(),
      })
      .optional(),
    /** Fixed nights: holidays, match nights. */
    dates: z.array(isoDate).min(1).max(366).optional(),
  })
  .superRefine((r, ctx) => {
    if (!r.from && !r.to && !r.weekdays && !r.nth_weekday && !r.dates)
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "a rule needs at least one of from/to, weekdays, nth_weekday, dates",
      });
    if (r.from && r.to && r.from > r.to)
      ctx.addIssue({ code: "custom", path: ["to"], message: "is before from" });
  });
export type CalendarRule = z.infer<typeof calendarRule>;

export const MAX_CALENDAR_RULES = 64;

export const calendarBody = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(500).optional(),
  rules: z.array(calendarRule).max(MAX_CALENDAR_RULES).default([]),
  /** Program for nights no rule matches. */
  default_program: scheduleId,
});
export type CalendarBody = z.infer<typeof calendarBody>;

/** A program as a lamp receives it (inside a calendar document). */
export const deliveredProgram = programBody.pick({ name: true, switch_points: true });

/**
 * The retained payload on …/calendar: one lamp's resolved calendar with every program it names. `version`
 * increases with every delivery the platform makes (platform-wide), so a lamp can refuse an older one (`stale`).
 */
export const calendarDocument = z
  .object({
    version: z.number().int().positive(),
    calendar: z.object({ id: z.string(), name: z.string(), revision: z.number().int().positive() }),
    time_zone: z.literal(CITY.timeZone),
    issued_at: z.string(),
    rules: z.array(calendarRule).max(MAX_CALENDAR_RULES),
    default_program: scheduleId,
    programs: z.record(scheduleId, deliveredProgram),
  })
  .superRefine((d, ctx) => {
    const named = [d.default_program, ...d.rules.map((r) => r.program)];
    for (const id of named)
      if (!d.programs[id])
        ctx.addIssue({ code: "custom", path: ["programs", id], message: "is named but not included" });
  });
export type CalendarDocument = z.infer<typeof calendarDocument>;

/** The id a lamp's ack of a calendar carries: "calendar-{version}". */
export const calendarAckId = (version: number) => `calendar-${version}`;

/** Why a lamp refuses a calendar or an override (acks' `reason`; see also ACK_REASONS in commands.ts). */
export const SCHEDULE_REJECT_REASONS = {
  invalid: "The document failed the lamp's own validation (its schema).",
  stale: "The lamp already holds a newer version.",
  too_large: "More rules or switch points than the controller can store.",
  unsupported: "A feature the controller's firmware does not implement (ramps, nth weekday, …).",
  expired: "An override whose expiry had passed when it arrived: never applied late.",
} as const;
export type ScheduleRejectReason = keyof typeof SCHEDULE_REJECT_REASONS;

export const calendarAck = z.object({
  id: z.string().min(1).max(64),
  version: z.number().int().positive(),
  status: z.enum(["applied", "rejected"]),
  reason: z
    .enum(Object.keys(SCHEDULE_REJECT_REASONS) as [ScheduleRejectReason, ...ScheduleRejectReason[]])
    .optional(),
  detail: z.string().max(500).optional(),
  /** Device time of the ack, epoch ms. */
  ts: z.number(),
});
export type CalendarAck = z.infer<typeof calendarAck>;

/** The built-in program of a lamp that has never received a calendar (also expected by compliance then). */
export const FACTORY_PROGRAM_ID = "factory-default";
export const FACTORY_CALENDAR: CalendarDocument = {
  version: 1,
  calendar: {
    id: FACTORY_PROGRAM_ID,
    name: "Factory default (dusk to dawn, 50 % from 00:00 to 05:00)",
    revision: 1,
  },
  time_zone: CITY.timeZone,
  issued_at: "2025-01-01T00:00:00.000Z",
  rules: [],
  default_program: FACTORY_PROGRAM_ID,
  programs: {
    [FACTORY_PROGRAM_ID]: {
      name: "Dusk to dawn, 50 % after midnight",
      switch_points: [
        { at: "sunset", level_pct: 100, ramp_s: 0 },
        { at: "00:00", level_pct: 50, ramp_s: 0 },
        { at: "05:00", level_pct: 100, ramp_s: 0 },
        { at: "sunrise", level_pct: 0, ramp_s: 0 },
      ],
    },
  },
};

/** Where a calendar or an override applies. The most specific assignment wins: device > group > district. */
export const ASSIGNMENT_LEVELS = ["device", "group", "district"] as const;
export type AssignmentLevel = (typeof ASSIGNMENT_LEVELS)[number];
export const assignmentTarget = z.object({ type: z.enum(ASSIGNMENT_LEVELS), id: z.string().min(1).max(64) });
export type AssignmentTarget = z.infer<typeof assignmentTarget>;

/**
 * A lamp's delivery of one calendar version or one override, as the platform tracks it:
 *   pending    waiting to be sent (the lamp is offline, or the send is queued)
 *   delivered  the broker took it while the lamp was connected; no ack yet
 *   applied    the lamp acknowledged it in effect
 *   rejected   the lamp refused it (reason from the ack)
 *   expired    an override whose expiry passed before the lamp acknowledged it; never sent after that
 *   superseded a newer delivery to the same lamp replaced this one before it ended
 */
export const DELIVERY_STATES = [
  "pending",
  "delivered",
  "applied",
  "rejected",
  "expired",
  "superseded",
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
/** Lamps per delivery state, every state present (a rollout's progress). */
export type DeliveryCounts = Record<DeliveryState, number>;
export const zeroDeliveryCounts = (): DeliveryCounts =>
  Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as DeliveryCounts;
export const FINAL_DELIVERY_STATES: readonly DeliveryState[] = [
  "applied",
  "rejected",
  "expired",
  "superseded",
];

/** What a rollout carries to its lamps. */
export const ROLLOUT_KINDS = ["calendar", "override", "cancel_override"] as const;
export type RolloutKind = (typeof ROLLOUT_KINDS)[number];

/** Deviations found by the compliance check (GET /v1/compliance). */
export const DEVIATION_KINDS = {
  burning_by_day: "Lit (level or power above standby) while the sun is up and the schedule says off.",
  dark: "Off while the schedule says it should burn.",
  wrong_level: "Burning at a level more than the tolerance away from the scheduled one.",
} as const;
export type DeviationKind = keyof typeof DEVIATION_KINDS;
