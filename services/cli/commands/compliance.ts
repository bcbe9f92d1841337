// `compliance`: did the lamps of a device, group or district do what their schedule said over a window? The
// platform compares every reported dim_pct (and power) with the level the calendars and overrides it sent
// asked for; this prints the summary, the least compliant lamps and the deviations, worst first.
import type { ComplianceReport } from "../api-types.ts";
import { flag, num, str } from "../args.ts";
import { type Command, EXIT, failure, printJson, usage } from "../context.ts";
import { formatCompliance } from "../format/compliance.ts";
import { parseLocalTime, parseTarget, TARGET_OPTIONS } from "./schedule-flags.ts";
import { parseDuration } from "./schedule-syntax.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A --from/--to bound: a date (its local noon, the night's start) is passed as is, a time is made absolute. */
function bound(
  flagName: string,
  raw: string,
  now: Date,
): { ok: true; value: string } | { ok: false; message: string } {
  if (DATE.test(raw.trim())) return { ok: true, value: raw.trim() };
  const t = parseLocalTime(flagName, raw, now);
  return t.ok ? { ok: true, value: t.value.toISOString() } : t;
}

const compliance: Command = {
  name: "compliance",
  summary: "do the lamps obey their schedule? compliance %, worst lamps, deviations (default: last night)",
  json: true,
  options: {
    ...TARGET_OPTIONS,
    night: {
      type: "string",
      value: "<YYYY-MM-DD>",
      description: "one night: local noon that day to noon the next",
    },
    from: {
      type: "string",
      value: "<time>",
      description: "window start: a date (its noon) or a time (local unless zoned)",
    },
    to: { type: "string", value: "<time>", description: "window end, like --from" },
    since: {
      type: "string",
      value: "<duration>",
      description:
        "the window from that long ago until now (3h, 90m): a platform that has not run a night yet",
    },
    "tolerance-pct": {
      type: "number",
      value: "<pct>",
      description: "allowed difference in level (service default 5)",
    },
    lamps: { type: "integer", value: "<n>", description: "least compliant lamps to list (default 10)" },
    deviations: { type: "integer", value: "<n>", description: "deviations to list (default 20)" },
  },
  details: [
    "Deviation kinds: burning_by_day (lit while the sun is up and the schedule says off), dark (off while it",
    "should burn), wrong_level (more than the tolerance away). A lamp without samples is listed, not counted.",
    "Examples:",
    "  compliance --district Anfa                       last complete night",
    "  compliance --group bd-anfa --night 2026-11-28",
    "  compliance --device sl-anfa-0042 --from 2026-11-20 --to 2026-11-27 --json",
    "  compliance --district Anfa --since 2h            the last two hours",
  ].join("\n"),
  async run(ctx, { values }) {
    const target = parseTarget(values);
    if (!target.ok) return usage(ctx, target.message);
    const night = str(values, "night");
    const fromRaw = str(values, "from");
    const toRaw = str(values, "to");
    const sinceRaw = str(values, "since");
    const windows = [night, fromRaw ?? toRaw, sinceRaw].filter((w) => w !== undefined).length;
    if (windows > 1) return usage(ctx, "give one of --night, --from/--to, --since");
    if ((fromRaw === undefined) !== (toRaw === undefined)) return usage(ctx, "give --from and --to together");
    if (night !== undefined && !DATE.test(night))
      return usage(ctx, `--night must be a date YYYY-MM-DD (got "${night}")`);
    const now = ctx.now();
    const query: Record<string, string | number | undefined> = {
      [target.value.type]: target.value.id,
      night,
      tolerance_pct: num(values, "tolerance-pct"),
    };
    if (sinceRaw !== undefined) {
      const since = parseDuration("since", sinceRaw, 31 * 86_400_000);
      if (!since.ok) return usage(ctx, since.message);
      query.from = new Date(now.getTime() - since.value).toISOString();
      query.to = now.toISOString();
    }
    if (fromRaw !== undefined && toRaw !== undefined) {
      const from = bound("from", fromRaw, now);
      if (!from.ok) return usage(ctx, from.message);
      const to = bound("to", toRaw, now);
      if (!to.ok) return usage(ctx, to.message);
      query.from = from.value;
      query.to = to.value;
    }
    const tolerance = num(values, "tolerance-pct");
    if (tolerance !== undefined && (tolerance < 0 || tolerance > 100))
      return usage(ctx, `--tolerance-pct must be 0 to 100 (got ${tolerance})`);
    const res = await ctx.api.request<ComplianceReport>("GET", "/v1/compliance", {
      query,
      timeoutMs: 120_000,
    });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else
      ctx.io.out(
        formatCompliance(res.body, {
          lamps: num(values, "lamps") ?? 10,
          deviations: num(values, "deviations") ?? 20,
        }),
      );
    return EXIT.ok;
  },
};

export const complianceCommands: readonly Command[] = [compliance];
