// `override`, `overrides`, `cancel-override`: a level for devices, a group or a district from a start to an
// expiry, with a reason (TALQ override). A newer override replaces a lamp's older one; cancel or expiry returns
// each lamp to its program. The platform never sends an override after its expiry (issue 4).
import type { Override, OverrideTarget, RolloutSummary } from "../api-types.ts";
import { flag, num, str } from "../args.ts";
import { type Command, type Context, EXIT, failure, printJson, usage } from "../context.ts";
import { formatOverride, formatOverrideList, overrideLabel } from "../format/override.ts";
import { lamps } from "../format/rollout.ts";
import { localDateTime } from "../format/time.ts";
import { watchRollouts } from "./rollout-watch.ts";
import { WATCH_OPTIONS, watchTimeout } from "./rollouts.ts";
import { idList, parseLocalTime, parseTarget, TARGET_OPTIONS } from "./schedule-flags.ts";
import { printRollouts, resourcePath } from "./schedule-shared.ts";
import { durationMs, parseDuration } from "./schedule-syntax.ts";

/** The API's limit on how long one override may last (.design/issue4.md). */
export const MAX_OVERRIDE_MS = 7 * 86_400_000;

type OverrideAnswer = { override: Override; rollout: RolloutSummary | null };

/** What the flags ask for, as the POST /v1/overrides body; a usage message when they do not add up. */
export function overrideBody(
  values: Parameters<typeof parseTarget>[0],
  now: Date,
): { ok: true; body: Record<string, unknown> } | { ok: false; message: string } {
  const target = parseTarget(values, { manyDevices: true });
  if (!target.ok) return target;
  const t = target.value;
  const apiTarget: OverrideTarget =
    t.type === "device" ? { type: "devices", ids: idList(t.id) } : { type: t.type, id: t.id };
  const level = num(values, "level") as number;
  if (level < 0 || level > 100) return { ok: false, message: `--level must be 0 to 100 (%), got ${level}` };
  const body: Record<string, unknown> = {
    target: apiTarget,
    level_pct: level,
    reason: str(values, "reason"),
  };
  const rampRaw = str(values, "ramp");
  if (rampRaw !== undefined) {
    const ms = /^\d+$/.test(rampRaw) ? Number(rampRaw) * 1000 : durationMs(rampRaw);
    if (ms === null || ms % 1000 !== 0 || ms > 3_600_000)
      return {
        ok: false,
        message: `--ramp must be whole seconds up to 3600 (300) or a duration (5m), got "${rampRaw}"`,
      };
    body.ramp_s = ms / 1000;
  }
  const fromRaw = str(values, "from");
  let start = now;
  if (fromRaw !== undefined) {
    const from = parseLocalTime("from", fromRaw, now);
    if (!from.ok) return from;
    start = from.value;
    body.starts_at = start.toISOString();
  }
  const untilRaw = str(values, "until");
  const forRaw = str(values, "for");
  if ((untilRaw === undefined) === (forRaw === undefined))
    return { ok: false, message: "give one of --until TIME or --for DURATION: an override always ends" };
  if (untilRaw !== undefined) {
    const until = parseLocalTime("until", untilRaw, fromRaw === undefined ? now : start);
    if (!until.ok) return until;
    if (until.value.getTime() <= start.getTime())
      return {
        ok: false,
        message: `--until ${localDateTime(until.value)} is not after the start ${localDateTime(start)}`,
      };
    body.expires_at = until.value.toISOString();
  } else {
    const d = parseDuration("for", forRaw as string, MAX_OVERRIDE_MS);
    if (!d.ok) return d;
    if (fromRaw !== undefined) body.expires_at = new Date(start.getTime() + d.value).toISOString();
    else if (d.value % 60_000 === 0) body.duration_min = d.value / 60_000;
    else return { ok: false, message: `--for must be whole minutes (got "${forRaw}")` };
  }
  return { ok: true, body };
}

async function afterOverride(
  ctx: Context,
  answer: OverrideAnswer,
  watch: boolean,
  json: boolean,
  timeoutMs: number | undefined,
): Promise<number> {
  const rollouts = answer.rollout ? [answer.rollout] : [];
  if (watch) {
    if (!json) printRollouts(ctx, rollouts, undefined, true);
    return watchRollouts(
      ctx,
      rollouts.map((r) => r.id),
      overrideLabel(answer.override),
      { json, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    );
  }
  if (json) printJson(ctx, answer);
  else printRollouts(ctx, rollouts, "No lamp to send it to.");
  return EXIT.ok;
}

const override: Command = {
  name: "override",
  summary: "set a level for devices, a group or a district until a time, with a reason (--watch: live)",
  json: true,
  options: {
    ...TARGET_OPTIONS,
    device: { type: "string", value: "<id,id,…>", description: "streetlight ids, comma-separated" },
    level: { type: "number", value: "<pct>", required: true, description: "level 0–100 %" },
    until: {
      type: "string",
      value: "<time>",
      description: "when it ends: HH:MM (next), or ISO (local unless zoned)",
    },
    for: {
      type: "string",
      value: "<duration>",
      description: "or how long it lasts: 90m, 3h, 2d (at most 7 d)",
    },
    from: { type: "string", value: "<time>", description: "when it starts (default: now), like --until" },
    ramp: { type: "string", value: "<seconds>", description: "seconds (or 5m) to move to the level" },
    reason: { type: "string", value: "<text>", required: true, description: "why (kept, shown to others)" },
    ...WATCH_OPTIONS,
  },
  details: [
    "A newer override replaces a lamp's older one at once, even one that starts later; when it ends (expiry or",
    "cancel-override) each lamp goes back to its program. Lamps offline get it on reconnect, never after expiry.",
    "Examples:",
    '  override --group bd-anfa --level 100 --until 23:30 --reason "Raja–Wydad match" --watch',
    '  override --district "Sidi Belyout" --level 100 --for 3h --reason "incident, police request"',
    '  override --device sl-anfa-0042,sl-anfa-0043 --level 0 --from 2026-11-28T09:00 --for 4h --reason "works"',
  ].join("\n"),
  async run(ctx, { values }) {
    const made = overrideBody(values, ctx.now());
    if (!made.ok) return usage(ctx, made.message);
    const timeoutMs = watchTimeout(ctx, str(values, "timeout"));
    if (timeoutMs === "bad") return EXIT.usage;
    const res = await ctx.api.request<OverrideAnswer>("POST", "/v1/overrides", { body: made.body });
    if (res.kind !== "ok") return failure(ctx, res);
    const json = flag(values, "json");
    if (!json) ctx.io.out(`Override ${formatOverride(res.body.override, ctx.now(), true)}`);
    return afterOverride(ctx, res.body, flag(values, "watch"), json, timeoutMs);
  },
};

const overrides: Command = {
  name: "overrides",
  summary: "overrides: all, only those in effect (--active), a device's, or one with its delivery",
  positionals: ["[ID]"],
  json: true,
  options: {
    active: { type: "boolean", description: "only those in effect or still to start" },
    device: { type: "string", value: "<id>", description: "only those reaching this streetlight" },
  },
  async run(ctx, { values, positionals }) {
    const id = positionals[0];
    const now = ctx.now();
    if (id !== undefined) {
      if (flag(values, "active") || str(values, "device"))
        return usage(ctx, "--active and --device list overrides; not with an ID");
      const res = await ctx.api.request<Override | OverrideAnswer>("GET", resourcePath("overrides", id));
      if (res.kind !== "ok") return failure(ctx, res);
      if (flag(values, "json")) printJson(ctx, res.body);
      else ctx.io.out(formatOverride(res.body as Override, now, false));
      return EXIT.ok;
    }
    const res = await ctx.api.request<{ overrides: Override[] }>("GET", "/v1/overrides", {
      query: { active: flag(values, "active") ? "true" : undefined, device: str(values, "device") },
    });
    if (res.kind !== "ok") return failure(ctx, res);
    if (flag(values, "json")) printJson(ctx, res.body);
    else if (res.body.overrides.length === 0)
      ctx.io.out(flag(values, "active") ? "no override in effect" : "no overrides");
    else ctx.io.out(formatOverrideList(res.body.overrides, now));
    return EXIT.ok;
  },
};

const cancel: Command = {
  name: "cancel-override",
  summary: "end an override now: its lamps go back to their program",
  positionals: ["ID"],
  json: true,
  options: { ...WATCH_OPTIONS },
  details: "Example: cancel-override 7f3c2a91 --watch",
  async run(ctx, { values, positionals }) {
    const timeoutMs = watchTimeout(ctx, str(values, "timeout"));
    if (timeoutMs === "bad") return EXIT.usage;
    const res = await ctx.api.request<OverrideAnswer>(
      "DELETE",
      resourcePath("overrides", positionals[0] as string),
    );
    if (res.kind !== "ok") return failure(ctx, res);
    const json = flag(values, "json");
    if (!json) {
      const o = res.body.override;
      const total = res.body.rollout?.total;
      ctx.io.out(
        `Cancelled override ${o.id}${o.cancelled_at ? ` at ${localDateTime(o.cancelled_at)}` : ""}${total === undefined ? "" : `: ${lamps(total)} go back to their program`}.`,
      );
    }
    return afterOverride(ctx, res.body, flag(values, "watch"), json, timeoutMs);
  },
};

export const overrideCommands: readonly Command[] = [override, overrides, cancel];
