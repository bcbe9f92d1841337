// The schedule verbs of the CLI, run as a child process the way an operator runs them, against the real platform
// (harness/stack.ts: broker, command service, ingest) with scripted streetlights (schedule-lamp-harness.ts) that
// apply or refuse what they get: programs and calendars from flags, a preview, a group, a district assignment
// watched until every lamp answered, a lamp's schedule page, an override and its cancel, roles, compliance.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { addDays, localInstant, nightOf } from "../../services/schedule/zone.ts";
import { CLI, type CliResult } from "./harness/cli.ts";
import { countOf, type Stack, startStack } from "./harness/stack.ts";
import { eventually } from "./harness/wait.ts";
import { closeLamps, lampRegistration, type ScriptedLamp, scriptedLamp } from "./schedule-lamp-harness.ts";

const server = inject("influx");
const run = randomUUID().slice(0, 6);
let stack: Stack;
const DISTRICT = "Hay Hassani";
const lampIds = Array.from({ length: 4 }, (_, i) => `sl-hassani-${run}-${i + 1}`);
const refusing = `sl-hassani-${run}-r`;
const lamps: ScriptedLamp[] = [];
const program = `midnight-${run}`;
const match = `match-${run}`;
const calendar = `hassani-${run}`;
const group = `bd-${run}`;
/** A lamp that never got a calendar (so its factory default is expected), reporting a week-old night. */
const observed = `sl-maarouf-${run}`;
const NIGHT = addDays(nightOf(Date.now()), -7);

/** `node services/cli/main.ts …` with the platform's URL and a token (the local engineer's unless told). */
function cli(args: string[], token?: string): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: stack.dir,
        env: {
          PATH: process.env.PATH,
          CITY_API_URL: stack.commandUrl,
          CITY_API_TOKEN: token ?? stack.token("engineer"),
        },
        timeout: 90_000,
      },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  stack = await startStack({ ...server, bucket: `t_cli_sched_${run}` });
  await stack.register([...lampIds, refusing].map((id) => lampRegistration(id, DISTRICT)));
  await stack.register([{ ...lampRegistration(observed, "Sidi Maarouf"), report_interval_s: 600 }]);
  await publishObservedNight();
  for (const id of lampIds) lamps.push(scriptedLamp(stack, id));
  lamps.push(
    scriptedLamp(stack, refusing, {
      type: "reject",
      reason: "unsupported",
      detail: "firmware 1.2 has no ramps",
    }),
  );
  for (const l of lamps) await l.connect();
  for (const l of lamps)
    await eventually(
      async () => (await stack.api("GET", `/v1/devices/${l.id}/schedule`)).body.online === true,
      10_000,
      `${l.id} online`,
    );
}, 180_000);

/**
 * Twelve readings of `observed` on NIGHT, against the factory default (100 % at sunset, 50 % from 00:00, 100 % from
 * 05:00, off at sunrise): 01:00–01:30 at 100 % (wrong_level), 02:00–02:30 at 50 % (compliant), 11:00–11:30 lit in
 * daylight (burning_by_day).
 */
async function publishObservedNight() {
  const morning = addDays(NIGHT, 1);
  const block = (hh: string, dim: number) =>
    [0, 10, 20, 30].map((m) => ({ ts: localInstant(morning, hh) + m * 60_000, dim }));
  const readings = [...block("01:00", 100), ...block("02:00", 50), ...block("11:00", 100)].map((r, i) => ({
    ts: r.ts,
    seq: i + 1,
    power_w: (90 * r.dim) / 100,
    energy_wh: 1000 + i * 10,
    dim_pct: r.dim,
    lamp_ok: true,
  }));
  await stack.influx.ensureDatabase();
  await stack.publish("streetlight", observed, JSON.stringify(readings));
  await eventually(
    async () => (await countOf(stack.influx, "streetlight", `device_id = '${observed}'`)) === 12,
    60_000,
    "the observed night's readings in InfluxDB",
  );
}

afterAll(async () => {
  await closeLamps();
  await stack?.stop();
});

describe("schedule verbs against the platform", () => {
  it("creates programs from --point flags and prints them back in the same form", async () => {
    const made = await cli([
      ...["programs", "create", program, "--name", "Midnight dimming"],
      ...[
        "--point",
        "sunset+10=100",
        "--point",
        "00:00=50@300",
        "--point",
        "05:00=100",
        "--point",
        "sunrise-15=0",
      ],
    ]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    expect(made.stdout).toContain(`Created program ${program}.`);
    expect(made.stdout).toMatch(/^00:00\s+50 %\s+300 s$/m);
    expect(made.stdout).toContain('As flags: --point "sunset+10=100" --point "00:00=50@300"');
    expect(
      (
        await cli([
          "programs",
          "create",
          match,
          "--name",
          "Match night",
          "--point",
          "sunset=100",
          "--point",
          "sunrise=0",
        ])
      ).code,
    ).toBe(0);

    const bad = await cli(["programs", "create", `x-${run}`, "--name", "x", "--point", "sunset+10"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--point "sunset+10" is not a switch point');

    const updated = await cli(["programs", "update", match, "--name", "Match night, full light"]);
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain(`Updated program ${match} to revision 2.`);
    const list = await cli(["programs", "list"]);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${program}\\s+Midnight dimming\\s+sunset\\+10=100  00:00=50@300  05:00=100  sunrise-15=0\\s+1\\s`,
        "m",
      ),
    );
  });

  it("creates a calendar from --default and --rule flags, refuses an unknown program by its field, previews nights", async () => {
    const unknown = await cli([
      "calendars",
      "create",
      `bad-${run}`,
      "--name",
      "Bad",
      "--default",
      program,
      "--rule",
      `program=nope-${run};weekdays=fri`,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/validation_failed \(HTTP 400\)[\s\S]*rules\.0\.program/);

    const made = await cli([
      ...["calendars", "create", calendar, "--name", "Hay Hassani 2026", "--default", program],
      ...["--rule", `program=${match};dates=2026-11-28,2026-12-05;name=match night`],
    ]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(
      new RegExp(`^1\\s+${match}\\s+dates=2026-11-28,2026-12-05\\s+match night$`, "m"),
    );

    const preview = await cli([
      "calendars",
      "preview",
      calendar,
      "--device",
      lampIds[0] as string,
      "--from",
      "2026-11-28",
      "--nights",
      "2",
    ]);
    expect(preview.stderr).toBe("");
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/^NIGHT\s+RULE\s+PROGRAM\s+SUNSET\s+SUNRISE\s+SWITCHES/);
    // 28 November: the match-night rule (full light all night); 29th: the default's four points, midnight at 50 %.
    expect(preview.stdout).toMatch(
      new RegExp(
        `^2026-11-28 sat\\s+1 match night\\s+${match}\\s+\\d\\d:\\d\\d\\s+\\d\\d:\\d\\d\\s+\\d\\d:\\d\\d 100%\\s+\\d\\d:\\d\\d 0%$`,
        "m",
      ),
    );
    expect(preview.stdout).toMatch(
      new RegExp(`^2026-11-29 sun\\s+default\\s+${program}\\s.*00:00 50%↘300s  05:00 100%`, "m"),
    );
  });

  it("makes a group, adds and removes members", async () => {
    const made = await cli([
      "groups",
      "create",
      group,
      "--name",
      "Boulevard test",
      "--devices",
      `${lampIds[0]},${lampIds[1]}`,
    ]);
    expect(made.code).toBe(0);
    expect(made.stdout).toContain(`Created group ${group} with 2 members.`);
    const added = await cli(["groups", "add", group, lampIds[2] as string, lampIds[0] as string]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`Added 1 device to ${group}; it has 3 members. 1 was a member already.`);
    expect(added.stdout).toContain("The group has no calendar: no lamp's calendar changed.");
    const removed = await cli(["groups", "remove", group, lampIds[2] as string]);
    expect(removed.stdout).toContain(`Removed 1 device from ${group}; it has 2 members.`);
    const unknown = await cli(["groups", "add", group, `nx-${run}`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`devices (row 1, nx-${run}): no such device`);
    const show = await cli(["groups", "show", group]);
    expect(show.stdout).toMatch(new RegExp(`^${lampIds[1]}\\s+streetlight\\s+${DISTRICT}\\s`, "m"));
  });

  it("assigns the calendar to the district and watches it reach every lamp; the refusal is listed", async () => {
    const r = await cli([
      "assign",
      "--district",
      DISTRICT.toLowerCase(),
      "--calendar",
      calendar,
      "--watch",
      "--timeout",
      "60s",
    ]);
    expect(r.stderr).toBe("");
    // One lamp refused it: the watch ends when every lamp answered, with exit code 1.
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Assigned calendar ${calendar} to district ${DISTRICT}.`);
    expect(r.stdout).not.toContain("Follow it with"); // it is being followed
    const id = /Delivery started: rollout (\d+): calendar/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${DISTRICT}: 5 lamps — applied \\d · `, "m"));
    expect(r.stdout).toContain(`${DISTRICT}: 5 lamps — applied 4 · pending 0 · rejected 1`);
    expect(r.stdout).toMatch(new RegExp(`Done in .*: ${DISTRICT}, 5 lamps — applied 4, rejected 1\\.`));
    expect(r.stdout).toMatch(new RegExp(`^${refusing}\\s+unsupported\\s+firmware 1\\.2 has no ramps$`, "m"));

    const page = await cli(["rollouts", id as string]);
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(/progress\s+applied 4 · pending 0 · rejected 1 \(done\)/);
    const rejected = await cli(["rollouts", id as string, "--state", "rejected"]);
    expect(rejected.stdout).toMatch(
      new RegExp(`^${refusing}\\s+rejected\\s+.*unsupported\\s+firmware 1\\.2 has no ramps$`, "m"),
    );
    expect(rejected.stdout).toContain("1 lamp rejected");
    const all = await cli(["rollouts", id as string, "--lamps"]);
    expect(all.stdout).toMatch(new RegExp(`^${lampIds[0]}\\s+applied\\s+\\d{4}-`, "m"));
    expect(all.stdout.trimEnd().split("\n").at(-1)).toBe("5 lamps");
    const json = JSON.parse((await cli(["rollouts", id as string, "--json"])).stdout);
    expect(json).toMatchObject({
      id: Number(id),
      kind: "calendar",
      calendar_id: calendar,
      total: 5,
      done: true,
    });
    expect((await cli(["rollouts"])).stdout).toMatch(
      new RegExp(
        `^${id}\\s+.*calendar\\s+${calendar} v\\d+\\s+assign\\s+district ${DISTRICT}\\s+5\\s+done`,
        "m",
      ),
    );

    // The same calendar again: every lamp holds it already.
    const again = await cli(["assign", "--district", DISTRICT, "--calendar", calendar]);
    expect(again.stdout).toContain("Every lamp concerned already holds its calendar: nothing to deliver.");
    expect((await cli(["assignments", "--calendar", calendar])).stdout).toMatch(
      new RegExp(`^district\\s+${DISTRICT}\\s+${calendar}\\s`, "m"),
    );
  });

  it("explains a lamp's schedule: which calendar and why, whether it holds it, tonight's switch points", async () => {
    const r = await cli(["schedule", lampIds[3] as string]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${lampIds[3]}: calendar ${calendar}`);
    expect(r.stdout).toMatch(
      new RegExp(`why\\s+assigned to district ${DISTRICT} \\(.* by local-engineer\\)`),
    );
    expect(r.stdout).toMatch(/lamp\s+online/);
    expect(r.stdout).toMatch(/calendar sent\s+version \d+ applied since/);
    expect(r.stdout).toMatch(/override\s+none/);
    expect(r.stdout).toMatch(/^LOCAL TIME\s+LEVEL\s+RAMP\s+POINT$/m);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d\s+50 %\s+300 s\s+00:00$/m);
  });

  it("overrides a group, watches the lamps take it, lists it, cancels it; an operator may override but not edit", async () => {
    const made = await cli([
      "override",
      "--group",
      group,
      "--level",
      "100",
      "--for",
      "90m",
      "--reason",
      "match at the stadium",
      "--watch",
      "--timeout",
      "60s",
    ]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const id = /^Override (\S+): 100 % on group/m.exec(made.stdout)?.[1] as string;
    expect(id).toBeDefined();
    expect(made.stdout).toContain(`${group}: 2 lamps — applied 2 · pending 0 · rejected 0`);
    const active = await cli(["overrides", "--active"]);
    expect(active.stdout).toMatch(
      new RegExp(
        `^${id}\\s+group ${group}\\s+100 %\\s+.*\\s+active\\s+local-engineer\\s+match at the stadium$`,
        "m",
      ),
    );
    expect((await cli(["schedule", lampIds[0] as string])).stdout).toMatch(
      /level now\s+100 % expected at .*, from override/,
    );
    const page = await cli(["overrides", id]);
    expect(page.stdout).toMatch(/delivery\s+rollout \d+: applied 2 · pending 0 · rejected 0 \(done\)/);

    const cancelled = await cli(["cancel-override", id, "--watch", "--timeout", "60s"]);
    expect(cancelled.stderr).toBe("");
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(
      new RegExp(`^Cancelled override ${id} at .*: 2 lamps go back to their program\\.`, "m"),
    );
    expect((await cli(["overrides", "--active"])).stdout).not.toContain(id);
    const twice = await cli(["cancel-override", id]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("override_ended (HTTP 409)");

    const token = await stack.api("POST", "/v1/tokens", { name: `ops-${run}`, role: "operator" }, "admin");
    expect(token.status).toBe(201);
    const operator = token.body.token as string;
    const denied = await cli(["calendars", "update", calendar, "--default", match], operator);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("forbidden (HTTP 403)");
    const allowed = await cli(
      [
        "override",
        "--device",
        lampIds[3] as string,
        "--level",
        "0",
        "--until",
        "23:59",
        "--reason",
        "cable works",
        "--json",
      ],
      operator,
    );
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({
      override: { level_pct: 0, created_by: `ops-${run}` },
      rollout: { total: 1 },
    });
  });

  it("reports compliance of the district (JSON and text), lamps without samples listed as no data", async () => {
    const json = await cli(["compliance", "--district", DISTRICT, "--json"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({
      scope: { type: "district", id: DISTRICT },
      lamps: 5,
      window: { basis: "last_night" },
    });
    expect(report.no_data.sort()).toEqual([...lampIds, refusing].sort());
    const text = await cli(["compliance", "--district", DISTRICT, "--night", "2026-01-10"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^Compliance of district ${DISTRICT}, night 2026-01-10 \\(2026-01-10 12:00–2026-01-11 12:00 local\\)`,
        "m",
      ),
    );
    expect(text.stdout).toMatch(/compliant\s+no samples in the window/);
    expect(text.stdout).toContain(`No data in the window: ${[...lampIds, refusing].sort()[0]}`);
  });

  it("lists a lamp's deviations worst first, with local times, expected against reported", async () => {
    const r = await cli(["compliance", "--device", observed, "--night", NIGHT]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/samples\s+12\n/);
    expect(r.stdout).toMatch(/compliant\s+4 \(33\.3 %\)/);
    expect(r.stdout).toMatch(/deviations\s+2: burning_by_day 1 · wrong_level 1/);
    const morning = addDays(NIGHT, 1);
    const rows = r.stdout.split("\n");
    const start = rows.indexOf("Deviations, worst first:");
    // Equal samples (4 each): the one further from the expected level first.
    expect(rows.slice(start + 2, start + 4)).toEqual([
      expect.stringMatching(
        new RegExp(`^${observed}\\s+burning_by_day\\s+${morning} 11:00–11:30\\s+0 %\\s+100 %\\s+4$`),
      ),
      expect.stringMatching(
        new RegExp(`^${observed}\\s+wrong_level\\s+${morning} 01:00–01:30\\s+50 %\\s+100 %\\s+4$`),
      ),
    ]);
    const json = JSON.parse(
      (await cli(["compliance", "--device", observed, "--night", NIGHT, "--json"])).stdout,
    );
    expect(json).toMatchObject({
      samples: 12,
      compliant: 4,
      per_lamp: [{ device_id: observed, deviations: 2 }],
    });
  });

  it("unassigns: the lamps go back to their factory default, delivered like any calendar", async () => {
    const r = await cli(["unassign", "--district", DISTRICT, "--watch", "--timeout", "60s"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`Unassigned the calendar of district ${DISTRICT}.`);
    expect(r.stdout).toMatch(/Delivery started: rollout \d+: calendar factory default v\d+ to 5 lamps/);
    expect(r.stdout).toMatch(/Done in .* 5 lamps — applied 4, rejected 1\./);
    expect(r.code).toBe(1);
    expect((await cli(["schedule", lampIds[2] as string])).stdout).toMatch(
      /why\s+no assignment reaches it: the lamp's factory default/,
    );
    const gone = await cli(["calendars", "delete", calendar]);
    expect(gone.code).toBe(0);
  });
});
