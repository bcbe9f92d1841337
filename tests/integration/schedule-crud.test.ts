// The schedule CRUD API in a real command service (schedule-crud-app.ts): programs, calendars and assignments —
// what each write stores, who it records, what it refuses (naming the field), and exactly which lamps it asks the
// planner to replan, with which cause and target. Groups and the calendar preview: schedule-crud-groups.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CrudApp, calendar, fullNight, program, startCrudApp } from "./schedule-crud-app.ts";

let crud: CrudApp;
beforeAll(async () => {
  crud = await startCrudApp();
});
afterAll(async () => {
  await crud?.close();
});
beforeEach(() => {
  crud.replans.length = 0;
  crud.clock += 60_000;
});

describe("programs", () => {
  it("creates, lists and reads a program, recording who made it", async () => {
    const made = await crud.engineer("POST", "/v1/programs", program("midnight"));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      id: "midnight",
      revision: 1,
      description: null,
      created_by: "t-engineer",
      updated_by: "t-engineer",
      created_at: new Date(crud.clock).toISOString(),
    });
    expect(made.body.switch_points[0]).toEqual({ at: "sunset", offset_min: 10, level_pct: 100, ramp_s: 0 });
    const list = await crud.operator("GET", "/v1/programs");
    expect(list.status).toBe(200);
    expect(list.body.programs.map((p: { id: string }) => p.id)).toContain("midnight");
    const one = await crud.energyManager("GET", "/v1/programs/midnight");
    expect(one.body).toMatchObject({ id: "midnight", calendars: [] });
    expect(crud.replans).toEqual([]);
  });

  it("refuses a taken id, the factory's id, a bad switch point, and writes by a role without schedules:write", async () => {
    expect(await crud.engineer("POST", "/v1/programs", program("midnight"))).toMatchObject({
      status: 409,
      body: { error: "already_exists" },
    });
    const reserved = await crud.engineer("POST", "/v1/programs", program("factory-default"));
    expect(reserved.status).toBe(400);
    expect(reserved.body.issues).toEqual([expect.objectContaining({ field: "id" })]);
    const bad = await crud.engineer(
      "POST",
      "/v1/programs",
      program("bad", {
        switch_points: [
          { at: "sunset", level_pct: 100 },
          { at: "00:00", offset_min: 5, level_pct: 50 },
        ],
      }),
    );
    expect(bad.status).toBe(400);
    // A nested field is named by its whole path (only bulk lists of devices or ids are reported as rows).
    expect(bad.body.issues).toEqual([
      { field: "switch_points.1.offset_min", message: "only for sunset or sunrise" },
    ]);
    const denied = await crud.operator("POST", "/v1/programs", program("ops"));
    expect(denied).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect((await crud.engineer("GET", "/v1/programs/ops")).status).toBe(404);
    expect((await crud.engineer("PUT", "/v1/programs/nope", program("x"))).status).toBe(404);
  });
});

describe("calendars", () => {
  it("refuses a calendar naming programs that do not exist, naming each field", async () => {
    const res = await crud.engineer(
      "POST",
      "/v1/calendars",
      calendar("district-cal", {
        default_program: "ghost",
        rules: [
          { name: "weekend", program: "midnight", weekdays: ["fri", "sat"] },
          { name: "match", program: "phantom", dates: ["2026-03-07"] },
        ],
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("validation_failed");
    expect(res.body.issues).toEqual([
      { field: "rules.1.program", id: "phantom", message: "program phantom does not exist" },
      { field: "default_program", id: "ghost", message: "program ghost does not exist" },
    ]);
    expect((await crud.engineer("GET", "/v1/calendars/district-cal")).status).toBe(404);
  });

  it("creates calendars whose programs exist, and a program they name cannot be deleted", async () => {
    expect((await crud.engineer("POST", "/v1/programs", fullNight("full-night"))).status).toBe(201);
    const made = await crud.engineer(
      "POST",
      "/v1/calendars",
      calendar("district-cal", { rules: [{ name: "match", program: "full-night", dates: ["2026-03-20"] }] }),
    );
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ id: "district-cal", revision: 1, default_program: "midnight" });
    expect((await crud.engineer("POST", "/v1/calendars", calendar("device-cal"))).status).toBe(201);
    const del = await crud.engineer("DELETE", "/v1/programs/full-night");
    expect(del.status).toBe(409);
    expect(del.body).toMatchObject({ error: "in_use", message: expect.stringContaining("district-cal") });
    expect((await crud.engineer("GET", "/v1/programs/midnight")).body.calendars).toEqual([
      "device-cal",
      "district-cal",
    ]);
  });
});

describe("assignments", () => {
  it("assigns to a district: 202 with the planner's rollouts, replanning its live streetlights only", async () => {
    const res = await crud.engineer("PUT", "/v1/assignments", {
      target: { type: "district", id: "Anfa" },
      calendar: "district-cal",
    });
    expect(res.status).toBe(202);
    expect(res.body.assignment).toEqual({
      target: { type: "district", id: "Anfa" },
      calendar: "district-cal",
      assigned_at: new Date(crud.clock).toISOString(),
      assigned_by: "t-engineer",
    });
    expect(res.body.rollouts).toEqual([
      { id: 1, kind: "calendar", version: 101, calendar_id: null, override_id: null, total: 3 },
    ]);
    expect(crud.replans).toEqual([
      {
        cause: "assign",
        actor: "t-engineer",
        target: { type: "district", id: "Anfa" },
        deviceIds: ["sl-a1", "sl-a2", "sl-a3"],
      },
    ]);
  });

  it("assigns to one lamp, which then leaves the district calendar's lamps", async () => {
    const res = await crud.engineer("PUT", "/v1/assignments", {
      target: { type: "device", id: "sl-a3" },
      calendar: "device-cal",
    });
    expect(res.status).toBe(202);
    expect(crud.replans).toEqual([
      { cause: "assign", actor: "t-engineer", target: { type: "device", id: "sl-a3" }, deviceIds: ["sl-a3"] },
    ]);
    const cal = await crud.engineer("GET", "/v1/calendars/district-cal");
    expect(cal.body).toMatchObject({ assignments: [{ type: "district", id: "Anfa" }], lamps: 2 });
    const list = await crud.operator("GET", "/v1/assignments?calendar=device-cal");
    expect(list.body.assignments).toEqual([
      expect.objectContaining({ target: { type: "device", id: "sl-a3" } }),
    ]);
  });

  it("refuses unknown targets and calendars, naming the field", async () => {
    const put = (target: object, cal = "district-cal") =>
      crud.engineer("PUT", "/v1/assignments", { target, calendar: cal });
    const district = await put({ type: "district", id: "Atlantis" });
    expect(district.status).toBe(400);
    expect(district.body.issues).toEqual([expect.objectContaining({ field: "target.id", id: "Atlantis" })]);
    expect((await put({ type: "group", id: "no-group" })).body.issues[0].message).toBe("no such group");
    expect((await put({ type: "device", id: "aq-a1" })).body.issues[0].message).toBe(
      "only a streetlight can take a calendar",
    );
    expect((await put({ type: "device", id: "sl-a-gone" })).body.error).toBe("decommissioned");
    const cal = await put({ type: "district", id: "Maarif" }, "no-such-cal");
    expect(cal.status).toBe(400);
    expect(cal.body.issues).toEqual([expect.objectContaining({ field: "calendar", id: "no-such-cal" })]);
    expect(
      (
        await crud.operator("PUT", "/v1/assignments", {
          target: { type: "district", id: "Maarif" },
          calendar: "device-cal",
        })
      ).status,
    ).toBe(403);
    expect(crud.replans).toEqual([]);
  });

  it("replans the lamps resolved to an edited calendar, and to calendars naming an edited program", async () => {
    const edited = await crud.engineer("PUT", "/v1/calendars/district-cal", {
      name: "Anfa nights",
      rules: [{ name: "match", program: "full-night", dates: ["2026-03-20", "2026-03-27"] }],
      default_program: "midnight",
    });
    expect(edited.status).toBe(200);
    expect(edited.body.calendar).toMatchObject({
      revision: 2,
      name: "Anfa nights",
      updated_by: "t-engineer",
    });
    expect(edited.body.rollouts).toHaveLength(1);
    expect(crud.replans).toEqual([
      { cause: "calendar_edit", actor: "t-engineer", deviceIds: ["sl-a1", "sl-a2"] },
    ]);

    crud.replans.length = 0;
    const prog = await crud.engineer(
      "PUT",
      "/v1/programs/midnight",
      program("midnight", { id: undefined, name: "Midnight 40 %" }),
    );
    expect(prog.status).toBe(200);
    expect(prog.body.program).toMatchObject({ revision: 2, name: "Midnight 40 %" });
    // Named by both calendars: the district's lamps and the lamp with its own.
    expect(crud.replans).toEqual([
      { cause: "program_edit", actor: "t-engineer", deviceIds: ["sl-a1", "sl-a2", "sl-a3"] },
    ]);

    crud.replans.length = 0;
    const unused = await crud.engineer("POST", "/v1/programs", program("spare"));
    expect(unused.status).toBe(201);
    const spare = await crud.engineer("PUT", "/v1/programs/spare", program("spare", { id: undefined }));
    expect(spare.body.rollouts).toEqual([]);
    expect(crud.replans).toEqual([]); // no lamp uses it: nothing to plan
    expect((await crud.engineer("DELETE", "/v1/programs/spare")).status).toBe(204);
  });

  it("unassigns: 202, the lamps go back (replanned), a calendar is deletable only once unassigned", async () => {
    const refused = await crud.engineer("DELETE", "/v1/calendars/device-cal");
    expect(refused).toMatchObject({
      status: 409,
      body: { error: "in_use", message: expect.stringContaining("device sl-a3") },
    });
    const res = await crud.engineer("DELETE", "/v1/assignments/device/sl-a3");
    expect(res.status).toBe(202);
    expect(crud.replans).toEqual([
      {
        cause: "unassign",
        actor: "t-engineer",
        target: { type: "device", id: "sl-a3" },
        deviceIds: ["sl-a3"],
      },
    ]);
    expect((await crud.engineer("DELETE", "/v1/assignments/device/sl-a3")).status).toBe(404);
    expect((await crud.engineer("DELETE", "/v1/calendars/device-cal")).status).toBe(204);
    expect((await crud.engineer("GET", "/v1/calendars/device-cal")).status).toBe(404);
    expect((await crud.engineer("GET", "/v1/calendars/district-cal")).body.lamps).toBe(3);
  });
});
