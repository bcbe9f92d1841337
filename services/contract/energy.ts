// Energy and savings reports (issue 5), after IPMVP (shared/DOMAIN.md): the query an energy manager sends, the report
// the command service answers (GET /v1/energy/report, role energy_manager), and the CSV tables it can be downloaded
// as. The CSV columns are part of the contract: spreadsheets and the auditors' own sheets are built on their names.
//
// Days are local calendar days in Africa/Casablanca (a month is the 1st 00:00 to the next 1st 00:00, local time).
// Per lamp and day:
//   burning hours  = the astronomical night (sunset to sunrise, sun's upper limb at −0.833°, at the lamp's own
//                    position) within the day, counted only over the stretches the report has data for
//   baseline       = legacy system watts (lamp + ballast) × burning hours
//   reporting      = metered energy (increase of the cumulative meter, Option B) + estimated energy (Option A)
//   savings        = baseline − reporting = retrofit + dimming
//   retrofit       = (legacy watts − LED watts) × burning hours
//   dimming        = LED watts × burning hours − reporting  (what the schedule saved below full LED power)
//   cost / CO2     = savings kWh × tariff (MAD/kWh) / × grid factor (kg CO2/kWh)
// Lamp-hours (24 per lamp and day in service) are metered, estimated or missing; missing hours are left out of
// both the baseline and the reporting energy, so savings are never claimed for hours without data.
import { z } from "zod";
import { CITY } from "./city.ts";

export const ENERGY_TIME_ZONE = CITY.timeZone;

/** What a report covers: one lamp, a group of lamps, a district, or every streetlight of the city. */
export const ENERGY_SCOPES = ["lamp", "group", "district", "city"] as const;
export type EnergyScope = (typeof ENERGY_SCOPES)[number];

/** Relative periods, resolved in Africa/Casablanca when the report is asked for (weeks start on Monday). */
export const RELATIVE_PERIODS = [
  "yesterday",
  "this-week",
  "last-week",
  "this-month",
  "last-month",
  "this-year",
  "last-year",
] as const;

/** A calendar period: a day 2026-10-05, an ISO week 2026-W41, a month 2026-10, a year 2026, or a relative one. */
export const PERIOD_PATTERN = /^\d{4}(?:-\d{2}(?:-\d{2})?|-W\d{2})?$/;
export const periodText = z
  .string()
  .refine((s) => PERIOD_PATTERN.test(s) || (RELATIVE_PERIODS as readonly string[]).includes(s), {
    error: `must be a day YYYY-MM-DD, a week YYYY-Www, a month YYYY-MM, a year YYYY or one of ${RELATIVE_PERIODS.join(", ")}`,
  });

/** Longest period one report covers. */
export const MAX_REPORT_DAYS = 3 * 366;

/** How lamp-hours are accounted for. */
export const COVERAGE = {
  metered:
    "Energy from the increase of the lamp's cumulative meter between two readings (IPMVP Option B). A gap " +
    "between readings that the meter bridges (no restart) is metered too; its energy is spread over the gap " +
    "in proportion to the burning hours in it.",
  estimated:
    "No usable meter increase: the meter restarted inside a gap, or its increase was implausible. Estimated " +
    "from the reported power held until the next reading (short intervals), or from the LED watts and the " +
    "level of the lamp's calendar and overrides as the platform sent them (gaps; IPMVP Option A).",
  missing:
    "No data: before the lamp's first reading, after its latest, or a gap longer than the estimate limit. " +
    "Left out of both the baseline and the reporting energy.",
} as const;
export type Coverage = keyof typeof COVERAGE;

export const CSV_TABLES = ["lamps", "days", "summary"] as const;
export type CsvTable = (typeof CSV_TABLES)[number];

const tariff = z.coerce.number().positive().max(100);
const gridFactor = z.coerce.number().min(0).max(5);

/** GET /v1/energy/report query. No lamp, group or district: the whole city. */
export const energyReportQuery = z
  .object({
    lamp: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    district: z.string().min(1).optional(),
    period: periodText.optional(),
    from: z.iso.date({ error: "must be a date YYYY-MM-DD" }).optional(),
    to: z.iso.date({ error: "must be a date YYYY-MM-DD (inclusive)" }).optional(),
    format: z.enum(["json", "csv"]).default("json"),
    /** CSV only: which table. */
    table: z.enum(CSV_TABLES).default("lamps"),
    /** Override the configured tariff for this report (the report states which it used). */
    tariff_mad_per_kwh: tariff.optional(),
    /** Override the configured grid emission factor for this report. */
    grid_kg_co2_per_kwh: gridFactor.optional(),
  })
  .superRefine((q, ctx) => {
    const targets = (["lamp", "group", "district"] as const).filter((k) => q[k] !== undefined);
    if (targets.length > 1)
      ctx.addIssue({
        code: "custom",
        path: [targets[1] as string],
        message: `give one of lamp, group, district`,
      });
    if (q.period !== undefined && (q.from !== undefined || q.to !== undefined))
      ctx.addIssue({ code: "custom", path: ["period"], message: "give either period or from/to, not both" });
    if (q.period === undefined && (q.from === undefined) !== (q.to === undefined))
      ctx.addIssue({
        code: "custom",
        path: [q.from === undefined ? "from" : "to"],
        message: "required with the other",
      });
    if (q.period === undefined && q.from === undefined)
      ctx.addIssue({ code: "custom", path: ["period"], message: "required (or from and to)" });
    if (q.from !== undefined && q.to !== undefined && q.to < q.from)
      ctx.addIssue({ code: "custom", path: ["to"], message: "must not be before from" });
  });
export type EnergyReportQuery = z.infer<typeof energyReportQuery>;

const kwh = z.number();
const hours = z.number();

/** The figures of a report, a lamp or a day. Energies in kWh, money in MAD, CO2 in tonnes, durations in hours. */
export const energyFigures = z.object({
  /** Astronomical burning hours (sunset → sunrise at each lamp) over the hours with data, summed over lamps. */
  burning_h: hours,
  baseline_kwh: kwh,
  metered_kwh: kwh,
  estimated_kwh: kwh,
  /** metered + estimated. */
  reporting_kwh: kwh,
  savings_kwh: kwh,
  /** savings / baseline, %; null without a baseline. */
  savings_pct: z.number().nullable(),
  retrofit_savings_kwh: kwh,
  dimming_savings_kwh: kwh,
  savings_mad: z.number(),
  savings_t_co2: z.number(),
  metered_h: hours,
  estimated_h: hours,
  missing_h: hours,
});
export type EnergyFigures = z.infer<typeof energyFigures>;

export const energyLampRow = energyFigures.extend({
  id: z.string(),
  district: z.string(),
  /** The wattages the baseline used (if they changed within the period: burning-hour weighted means). */
  legacy_w: z.number().nullable(),
  led_w: z.number().nullable(),
  /** Hours the lamp reported itself lit (its dim level above 0) over the hours with data. */
  lit_h: hours,
  meter_resets: z.number().int(),
  gaps: z.number().int(),
});
export type EnergyLampRow = z.infer<typeof energyLampRow>;

export const energyDayRow = energyFigures.extend({
  date: z.string(),
  /** Lamps in service that day. */
  lamps: z.number().int(),
});
export type EnergyDayRow = z.infer<typeof energyDayRow>;

/** A lamp with estimated or missing hours, worst first: what an auditor asks about. */
export const responsibleLamp = z.object({
  id: z.string(),
  district: z.string(),
  estimated_h: hours,
  missing_h: hours,
  /** Days of the period with missing hours (local dates), at most 31 listed. */
  missing_days: z.array(z.string()),
  /** Why, in words: never reported, silent since …, gaps, meter restarts. */
  why: z.string(),
});

export const energyReport = z.object({
  scope: z.object({
    kind: z.enum(ENERGY_SCOPES),
    /** Lamp id, group id or district name; null for the city. */
    id: z.string().nullable(),
    name: z.string(),
    /** Streetlights in the scope that were in service at some time of the period. */
    lamps: z.number().int(),
  }),
  period: z.object({
    from: z.string(),
    to: z.string(),
    days: z.number().int(),
    time_zone: z.string(),
    /** The period's bounds as instants (UTC, ISO 8601): [start, end). */
    start: z.string(),
    end: z.string(),
    /** True when the period reaches past now: the figures cover only what has happened. */
    partial: z.boolean(),
  }),
  generated_at: z.string(),
  method: z.object({
    protocol: z.string(),
    baseline: z.string(),
    reporting: z.string(),
    savings: z.string(),
    burning_hours: z.string(),
    coverage: z.record(z.string(), z.string()),
    tariff_mad_per_kwh: z.number(),
    tariff_source: z.enum(["config", "query"]),
    grid_kg_co2_per_kwh: z.number(),
    grid_factor_source: z.enum(["config", "query"]),
    /** Longest interval between two readings still treated as continuous metering, s. */
    gap_s: z.number(),
    /** Longest stretch without usable meter data that is estimated; longer ones are missing, h. */
    estimate_max_h: z.number(),
    /** The baseline's wattage classes: legacy and LED system watts and how many lamps of the scope have them. */
    wattages: z.array(z.object({ legacy_w: z.number(), led_w: z.number(), lamps: z.number().int() })),
  }),
  totals: energyFigures,
  completeness: z.object({
    /** Lamp-hours in service over the period (24 per lamp and day, up to now). */
    lamp_h: hours,
    metered_pct: z.number().nullable(),
    estimated_pct: z.number().nullable(),
    missing_pct: z.number().nullable(),
    lamps_with_estimates: z.number().int(),
    lamps_with_missing: z.number().int(),
    /** Worst first, at most 100 (every lamp is in `lamps` with its hours). */
    responsible: z.array(responsibleLamp),
  }),
  /** The rollups the figures come from: how far they have been computed. */
  freshness: z.object({
    /** Oldest "computed through" instant among the scope's lamps with data (ISO), null if none. */
    computed_through: z.string().nullable(),
    /** Lamps with readings waiting to be rolled up. */
    pending_lamps: z.number().int(),
  }),
  series: z.array(energyDayRow),
  lamps: z.array(energyLampRow),
});
export type EnergyReport = z.infer<typeof energyReport>;

/** One CSV column: its header (units in the name) and what it holds. */
export type CsvColumn = { name: string; description: string };

const figureColumns: CsvColumn[] = [
  {
    name: "burning_h",
    description: "astronomical burning hours (sunset to sunrise) over the hours with data",
  },
  { name: "baseline_kwh", description: "legacy watts × burning hours" },
  { name: "metered_kwh", description: "metered energy (Option B)" },
  { name: "estimated_kwh", description: "estimated energy (Option A)" },
  { name: "reporting_kwh", description: "metered + estimated" },
  { name: "savings_kwh", description: "baseline − reporting" },
  { name: "savings_pct", description: "savings / baseline, % (empty without a baseline)" },
  { name: "retrofit_savings_kwh", description: "(legacy − LED watts) × burning hours" },
  { name: "dimming_savings_kwh", description: "LED watts × burning hours − reporting" },
  { name: "savings_mad", description: "savings × tariff" },
  { name: "savings_t_co2", description: "savings × grid factor, tonnes" },
  { name: "metered_h", description: "lamp-hours metered" },
  { name: "estimated_h", description: "lamp-hours estimated" },
  { name: "missing_h", description: "lamp-hours without data (left out)" },
];

/**
 * The CSV tables (RFC 4180, UTF-8 with a byte-order mark so spreadsheets read accents, CRLF, comma separator,
 * decimal point, no thousands separator, one header row). `summary` is key,value,unit rows: scope, period, method,
 * tariff, factor, totals and completeness, so a CSV sent on carries how it was computed.
 */
export const ENERGY_CSV_COLUMNS: Record<Exclude<CsvTable, "summary">, CsvColumn[]> & {
  summary: CsvColumn[];
} = {
  lamps: [
    { name: "lamp_id", description: "streetlight id" },
    { name: "district", description: "district" },
    { name: "legacy_w", description: "legacy system watts (lamp + ballast) of the baseline" },
    { name: "led_w", description: "LED system watts" },
    ...figureColumns,
    { name: "lit_h", description: "hours the lamp reported itself lit" },
    { name: "meter_resets", description: "meter restarts seen" },
    { name: "gaps", description: "gaps between readings longer than gap_s" },
  ],
  days: [
    { name: "date", description: "local date (Africa/Casablanca), YYYY-MM-DD" },
    { name: "lamps", description: "lamps in service that day" },
    ...figureColumns,
  ],
  summary: [
    { name: "key", description: "what" },
    { name: "value", description: "its value" },
    { name: "unit", description: "unit, empty for text" },
  ],
};

/** Decimal places of each unit in CSV and text output (JSON carries the same rounding). */
export const ENERGY_DECIMALS = { kwh: 3, h: 2, mad: 2, t_co2: 4, pct: 2, w: 1 } as const;

/** GET /v1/energy/rollups: how far the daily rollups are computed. */
export const rollupStatus = z.object({
  lamps_with_data: z.number().int(),
  pending_lamps: z.number().int(),
  computed_through: z.string().nullable(),
  last_cycle_at: z.string().nullable(),
  last_reconcile_at: z.string().nullable(),
  /** Lamp-days recomputed because data arrived late or a count did not match, since the service started. */
  recomputed_lamp_days: z.number().int(),
  rows: z.number().int(),
  /** Streetlights without led_watts or legacy_watts in the registry: not rolled up until both are recorded. */
  lamps_without_wattages: z.number().int(),
});
export type RollupStatus = z.infer<typeof rollupStatus>;

/** POST /v1/energy/rollups/rebuild: recompute lamps' rollups from `from` on, from InfluxDB (after an outage). */
export const rollupRebuildBody = z.object({
  from: z.iso.date({ error: "must be a date YYYY-MM-DD" }),
  district: z.string().min(1).optional(),
  lamps: z.array(z.string().min(1)).min(1).max(10_000).optional(),
});
export type RollupRebuildBody = z.infer<typeof rollupRebuildBody>;

/** The rebuild's 202 answer. */
export const rollupRebuildAnswer = z.object({
  /** Local date (Africa/Casablanca) the lamps are recomputed from. */
  from: z.string(),
  /** Streetlights queued for the recompute. */
  lamps: z.number().int(),
  /** Streetlights of the selection left out: the registry has no wattages for them. */
  lamps_without_wattages: z.number().int(),
});
export type RollupRebuildAnswer = z.infer<typeof rollupRebuildAnswer>;
