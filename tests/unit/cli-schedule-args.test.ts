// The schedule verbs' short forms: switch points ("sunset+10=100", "00:00=50@300", "sunrise-15=0"), calendar rules
// ("program=match;dates=…;name=…"), durations ("3h", "90m"), local times, targets and override bodies; repeatable
// flags and optional / variadic positionals; usage errors that name the flag (exit 2, no request sent).
import { describe, expect, it } from "vitest";
import { type CommandSpec, parseCommand } from "../../services/cli/args.ts";
import { runCli } from "../../services/cli/cli.ts";
import { overrideBody } from "../../services/cli/commands/overrides.ts";
import { parseLocalTime, parseTarget } from "../../services/cli/commands/schedule-flags.ts";
import {
  durationMs,
  formatRule,
  formatSwitchPoint,
  parseDuration,
  parseRule,
  parseSwitchPoint,
  parseWeekdays,
} from "../../services/cli/commands/schedule-syntax.ts";
import { calendarRule, switchPoint } from "../../services/contract/schedule.ts";

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }): T => {
  if (!r.ok) throw new Error(`expected ok, got: ${r.message}`);
  return r.value;
};
const message = (r: { ok: boolean; message?: string }) => (r.ok ? "(ok)" : r.message);

describe("switch points AT=LEVEL[@RAMP]", () => {
  it.each([
    ["sunset+10=100", { at: "sunset", offset_min: 10, level_pct: 100, ramp_s: 0 }],
    ["00:00=50@300", { at: "00:00", level_pct: 50, ramp_s: 300 }],
    ["sunrise-15=0", { at: "sunrise", offset_min: -15, level_pct: 0, ramp_s: 0 }],
    ["sunset=100", { at: "sunset", level_pct: 100, ramp_s: 0 }],
    ["5:30=80%", { at: "05:30", level_pct: 80, ramp_s: 0 }],
    ["22:00=70@5m", { at: "22:00", level_pct: 70, ramp_s: 300 }],
    ["Sunset + 10min = 100", { at: "sunset", offset_min: 10, level_pct: 100, ramp_s: 0 }],
    ["sunrise+0=12.5", { at: "sunrise", level_pct: 12.5, ramp_s: 0 }],
  ])("%s", (text, expected) => {
    const p = value(parseSwitchPoint(text));
    expect(p).toEqual(expected);
    // What the CLI sends is what the contract accepts, unchanged.
    expect(switchPoint.parse(p)).toEqual(p);
  });

  it.each([
    ["bogus", /"bogus" is not a switch point: write AT=LEVEL\[@RAMP_S\]/],
    ["sunset+10", /is not a switch point/],
    ["sunset+200=100", /offset must be within ±180 minutes, got 200/],
    ["25:00=50", /25:00 is not a time of day/],
    ["00:00+10=50", /an offset \(\+\/- minutes\) is only for sunset or sunrise/],
    ["sunset=101", /level must be 0 to 100 \(%\), got 101/],
    ["00:00=50@4000", /ramp must be at most 3600 s, got 4000 s/],
    ["00:00=50@soon", /ramp after @ must be whole seconds/],
    ["00:00=50@1.5s", /ramp after @ must be whole seconds/],
  ])("%s is refused", (text, why) => {
    expect(message(parseSwitchPoint(text))).toMatch(why);
  });

  it("prints back the form it parses", () => {
    for (const text of ["sunset+10=100", "00:00=50@300", "sunrise-15=0", "05:00=100"]) {
      expect(formatSwitchPoint(value(parseSwitchPoint(text)))).toBe(text);
    }
  });
});

describe("calendar rules key=value;…", () => {
  it("parses the match-night example and checks it against the contract", () => {
    const rule = value(parseRule("program=match;dates=2026-11-28,2026-12-05;name=match night"));
    expect(rule).toEqual({ program: "match", dates: ["2026-11-28", "2026-12-05"], name: "match night" });
    expect(calendarRule.parse(rule)).toEqual(rule);
  });

  it("reads weekday lists and ranges (also across Sunday), nth weekday with months, date ranges", () => {
    expect(value(parseRule("program=weekend;weekdays=fri,sat")).weekdays).toEqual(["fri", "sat"]);
    expect(value(parseWeekdays("mon-fri"))).toEqual(["mon", "tue", "wed", "thu", "fri"]);
    expect(value(parseWeekdays("sat-mon"))).toEqual(["sat", "sun", "mon"]);
    expect(value(parseRule("program=pp;nth=last:fri;months=jun,7"))).toEqual({
      program: "pp",
      nth_weekday: { n: -1, weekday: "fri", months: [6, 7] },
    });
    expect(value(parseRule("program=pp;nth=2nd sat")).nth_weekday).toEqual({ n: 2, weekday: "sat" });
    expect(value(parseRule(" program = ramadan ; from=2026-02-18; to=2026-03-19 ; days=fri "))).toEqual({
      program: "ramadan",
      from: "2026-02-18",
      to: "2026-03-19",
      weekdays: ["fri"],
    });
  });

  it.each([
    ["dates=2026-11-28", /program=… is required/],
    ["program=pp;colour=red", /unknown key "colour"/],
    ["program=pp;program=q;dates=2026-11-28", /program is given twice/],
    ["program=pp;months=6", /months only restrict nth/],
    ["program=pp;from=2026-03-19;to=2026-02-18", /^to: is before from/],
    ["program=pp;dates=2026-13-01", /^dates\.0: must be a date YYYY-MM-DD/],
    ["program=pp;weekdays=fri,someday", /weekdays: "someday" is not a weekday/],
    ["program=pp;nth=6:sat", /nth: "6:sat" is not N:WEEKDAY/],
    ["program=pp;nth=1:sat;months=13", /months: "13" is not a month/],
    ["program=pp", /a rule needs at least one of/],
    ["program=P Q;dates=2026-11-28", /^program: must be 2–64 characters/],
    ["program=pp;dates", /"dates" is not key=value/],
  ])("%s is refused", (text, why) => {
    expect(message(parseRule(text))).toMatch(why);
  });

  it("prints back a rule the way it is typed", () => {
    const text =
      "program=pp;from=2026-06-01;to=2026-08-31;weekdays=fri,sat;nth=last:fri;months=6,7;name=summer";
    expect(formatRule(value(parseRule(text)))).toBe(text);
  });
});

describe("durations", () => {
  it.each([
    ["3h", 3 * 3_600_000],
    ["90m", 90 * 60_000],
    ["90min", 90 * 60_000],
    ["1h30m", 90 * 60_000],
    ["1h30", 90 * 60_000],
    ["45s", 45_000],
    ["2d", 2 * 86_400_000],
    [" 1.5h ", 90 * 60_000],
  ])("%s", (text, ms) => {
    expect(durationMs(text)).toBe(ms);
    expect(value(parseDuration("for", text))).toBe(ms);
  });

  it.each([
    ["3", /--for must be a duration like 90m, 3h, 1h30m or 2d \(give a unit\) \(got "3"\)/],
    ["soon", /--for must be a duration/],
    ["0m", /--for must be longer than 0/],
    ["8d", /--for must be at most 168 h \(got "8d"\)/],
  ])("%s is refused", (text, why) => {
    expect(message(parseDuration("for", text, 7 * 86_400_000))).toMatch(why);
  });
});

describe("local times and targets", () => {
  // 2026-06-12 20:00 in Casablanca (UTC+1 then).
  const now = new Date("2026-06-12T19:00:00Z");

  it("reads times without a zone as Casablanca time, HH:MM as its next occurrence", () => {
    expect(value(parseLocalTime("until", "23:30", now)).toISOString()).toBe("2026-06-12T22:30:00.000Z");
    expect(value(parseLocalTime("until", "06:00", now)).toISOString()).toBe("2026-06-13T05:00:00.000Z");
    expect(value(parseLocalTime("until", "2026-06-13T23:30", now)).toISOString()).toBe(
      "2026-06-13T22:30:00.000Z",
    );
    expect(value(parseLocalTime("until", "2026-06-13 23:30", now)).toISOString()).toBe(
      "2026-06-13T22:30:00.000Z",
    );
    // tz 2026c: UTC+0 during Ramadan 2026, and for good from 2026-09-20: the same wall time is UTC.
    expect(value(parseLocalTime("from", "2026-03-01T02:00", now)).toISOString()).toBe(
      "2026-03-01T02:00:00.000Z",
    );
    expect(value(parseLocalTime("from", "2026-11-28T23:30", now)).toISOString()).toBe(
      "2026-11-28T23:30:00.000Z",
    );
    expect(value(parseLocalTime("from", "2026-11-28T23:30:00Z", now)).toISOString()).toBe(
      "2026-11-28T23:30:00.000Z",
    );
    expect(message(parseLocalTime("until", "tonight", now))).toMatch(/--until must be an ISO time/);
    expect(message(parseLocalTime("until", "24:10", now))).toMatch(/--until must be an ISO time/);
  });

  it("takes exactly one target, districts matched without regard to case", () => {
    expect(value(parseTarget({ district: "anfa" }))).toEqual({ type: "district", id: "Anfa" });
    expect(value(parseTarget({ group: "bd-anfa" }))).toEqual({ type: "group", id: "bd-anfa" });
    expect(message(parseTarget({}))).toBe("give one of --district, --group, --device");
    expect(message(parseTarget({ district: "Anfa", group: "g" }))).toBe(
      "give only one of --district, --group, --device (got --district, --group)",
    );
    expect(message(parseTarget({ district: "Atlantis" }))).toMatch(/--district must be one of Anfa, Maarif/);
    expect(message(parseTarget({ device: "a,b" }))).toBe('--device takes one id here (got "a,b")');
  });
});

describe("override bodies", () => {
  const now = new Date("2026-06-12T19:00:00Z"); // 20:00 local (UTC+1)
  const base = { level: 100, reason: "match" };

  it("sends --for as duration_min, --until/--from as instants, --device lists as ids", () => {
    expect(overrideBody({ ...base, district: "Anfa", for: "3h" }, now)).toEqual({
      ok: true,
      body: { target: { type: "district", id: "Anfa" }, level_pct: 100, reason: "match", duration_min: 180 },
    });
    expect(overrideBody({ ...base, device: "sl-1, sl-2,sl-1", until: "23:30", ramp: "5m" }, now)).toEqual({
      ok: true,
      body: {
        target: { type: "devices", ids: ["sl-1", "sl-2"] },
        level_pct: 100,
        reason: "match",
        ramp_s: 300,
        expires_at: "2026-06-12T22:30:00.000Z",
      },
    });
    expect(overrideBody({ ...base, group: "g", from: "2026-06-13T21:00", for: "90m" }, now)).toMatchObject({
      ok: true,
      body: { starts_at: "2026-06-13T20:00:00.000Z", expires_at: "2026-06-13T21:30:00.000Z" },
    });
  });

  it.each([
    [{ district: "Anfa" }, "give one of --until TIME or --for DURATION: an override always ends"],
    [{ district: "Anfa", until: "23:30", for: "1h" }, "give one of --until TIME or --for DURATION"],
    [{ district: "Anfa", for: "8d" }, "--for must be at most 168 h"],
    [{ district: "Anfa", for: "90s" }, '--for must be whole minutes (got "90s")'],
    [{ district: "Anfa", from: "2026-06-13T22:00", until: "2026-06-13T21:00" }, "is not after the start"],
    [{ district: "Anfa", for: "1h", level: 150 }, "--level must be 0 to 100 (%), got 150"],
    [{ district: "Anfa", for: "1h", ramp: "2h" }, "--ramp must be whole seconds up to 3600"],
    [{ for: "1h" }, "give one of --district, --group, --device"],
  ])("%j is refused", (extra, why) => {
    expect(message(overrideBody({ ...base, ...extra }, now))).toContain(why);
  });
});

describe("repeatable flags and optional / variadic positionals", () => {
  const spec: CommandSpec = {
    name: "x",
    summary: "",
    positionals: ["GROUP", "DEVICE..."],
    options: { point: { type: "string", multiple: true, description: "" } },
  };

  it("collects a repeated flag in order and takes one or more trailing ids", () => {
    expect(parseCommand(spec, ["g", "a", "b", "--point", "sunset=100", "--point", "sunrise=0"])).toEqual({
      ok: true,
      values: { point: ["sunset=100", "sunrise=0"] },
      positionals: ["g", "a", "b"],
      help: false,
    });
    expect(parseCommand(spec, ["g"])).toEqual({ ok: false, message: "missing argument DEVICE" });
    expect(parseCommand(spec, ["g", "a", "--point", ""])).toEqual({
      ok: false,
      message: "--point needs a value",
    });
  });

  it("lets an optional ID be left out, but not a second one added", () => {
    const opt: CommandSpec = { name: "rollouts", summary: "", positionals: ["[ID]"] };
    expect(parseCommand(opt, [])).toMatchObject({ ok: true, positionals: [] });
    expect(parseCommand(opt, ["12"])).toMatchObject({ ok: true, positionals: ["12"] });
    expect(parseCommand(opt, ["12", "13"])).toEqual({ ok: false, message: 'unexpected argument "13"' });
  });
});

describe("schedule verbs: usage errors exit 2 before any request", () => {
  const run = async (argv: string[]) => {
    const err: string[] = [];
    let requests = 0;
    const code = await runCli(argv, {
      env: {},
      cwd: "/",
      dataDir: "/nonexistent",
      io: { out: () => undefined, err: (t) => err.push(t) },
      fetch: async () => {
        requests++;
        return new Response("{}");
      },
    });
    return { code, err: err.join("\n"), requests };
  };

  it.each([
    [["programs", "create", "p"], "give --name"],
    [["programs", "create", "p", "--name", "x"], "give at least one --point"],
    [
      ["programs", "create", "p", "--name", "x", "--point", "sunset+999=1"],
      '--point "sunset+999=1": the offset must be within',
    ],
    [["programs", "create", "p", "--name", "x", "--point", "a=1", "--point", "sunset=1"], "--point #1"],
    [["programs", "update", "p"], "give at least one of --name, --description, --point, --file"],
    [["calendars", "create", "c", "--name", "C"], "give --default PROGRAM"],
    [
      ["calendars", "create", "c", "--name", "C", "--default", "p", "--rule", "program=qq"],
      "--rule a rule needs",
    ],
    [["calendars", "preview", "c", "--lat", "33.5"], "give --lat and --lon together"],
    [["groups", "add", "g"], "missing argument DEVICE"],
    [["assign", "--calendar", "c"], "give one of --district, --group, --device"],
    [["assign", "--district", "Atlantis", "--calendar", "c"], "--district must be one of"],
    [["assign", "--group", "g"], "missing required flag --calendar"],
    [
      ["assign", "--group", "g", "--calendar", "c", "--watch", "--timeout", "soon"],
      "--timeout must be a duration",
    ],
    [["unassign"], "give one of --district, --group, --device"],
    [
      ["override", "--district", "Anfa", "--level", "100", "--reason", "x"],
      "give one of --until TIME or --for",
    ],
    [["override", "--district", "Anfa", "--level", "100", "--for", "3h"], "missing required flag --reason"],
    [["rollouts", "--watch"], "--watch needs a rollout ID"],
    [["rollouts", "twelve"], "ID must be a rollout number"],
    [["compliance", "--district", "Anfa", "--night", "yesterday"], "--night must be a date YYYY-MM-DD"],
    [["compliance", "--district", "Anfa", "--from", "2026-11-20"], "give --from and --to together"],
    [
      [
        "compliance",
        "--district",
        "Anfa",
        "--night",
        "2026-11-20",
        "--from",
        "2026-11-20",
        "--to",
        "2026-11-21",
      ],
      "give one of --night, --from/--to, --since",
    ],
    [["compliance", "--district", "Anfa", "--since", "2h", "--night", "2026-11-20"], "give one of"],
    [["compliance", "--district", "Anfa", "--since", "120"], "--since must be a duration like 90m"],
    [["schedule"], "missing argument DEVICE"],
    [["cancel-override"], "missing argument ID"],
  ])("%j", async (argv, why) => {
    const r = await run(argv);
    expect(r.err).toContain(why);
    expect(r.code).toBe(2);
    expect(r.requests).toBe(0);
  });
});
