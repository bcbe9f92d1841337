// The schedule CRUD API in a real command service (schedule-crud-app.ts): groups (members refused by index and id,
// replans only when the group has a calendar, exactly the lamps that joined or left) and the calendar preview
// (rules matched night by night, switch instants across the Ramadan clock change). Programs, calendars and
// assignments: schedule-crud.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CrudApp, calendar, fullNight, program, startCrudApp } from "./schedule-crud-app.ts";

let crud: CrudApp;
beforeAll(async () => {
  crud = await startCrudApp();
  for (const body of [program("midnight"), fullNight("full-night")])
    expect((await crud.engineer("POST", "/v1/programs", body)).status).toBe(201);
  const district = calendar("district-cal", {
    name: "Anfa nights",
    rules: [{ name: "match", program: "full-night", dates: ["2026-03-20", "2026-03-27"] }],
  });
  expect((await crud.engineer("POST", "/v1/calendars", district)).status).toBe(201);
});
afterAll(async () => {
  await crud?.close();
});
beforeEach(() => {
  crud.replans.length = 0;
  crud.clock += 60_000;
});

describe("groups", () => {
  it("refuses unknown, decommissioned and repeated devices by index and id, creating nothing", async () => {
    const res = await crud.engineer("POST", "/v1/groups", {
      id: "boulevard",
      name: "Boulevard d'Anfa",
      devices: ["sl-a1", "sl-nope", "sl-a-gone", "sl-a1"],
    });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([
      { field: "devices", index: 1, id: "sl-nope", message: "no such device" },
      { field: "devices", index: 2, id: "sl-a-gone", message: "the device is decommissioned" },
      { field: "devices", index: 3, id: "sl-a1", message: "named twice in the request" },
    ]);
    expect((await crud.engineer("GET", "/v1/groups/boulevard")).status).toBe(404);
  });

  it("changes members of a group without a calendar without planning anything", async () => {
    const made = await crud.engineer("POST", "/v1/groups", {
      id: "boulevard",
      name: "Boulevard",
      devices: ["sl-a1"],
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      id: "boulevard",
      member_count: 1,
      calendar_id: null,
      created_by: "t-engineer",
    });
    const added = await crud.engineer("POST", "/v1/groups/boulevard/members", {
      devices: ["sl-a2", "aq-a1", "sl-a1"],
    });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({
      changed: ["sl-a2", "aq-a1"],
      rollouts: [],
      group: { member_count: 3 },
    });
    expect(crud.replans).toEqual([]);
  });

  it("replans a group's lamps when it is assigned, and the lamps that join or leave it then", async () => {
    expect((await crud.engineer("POST", "/v1/calendars", calendar("street-cal"))).status).toBe(201);
    const assigned = await crud.engineer("PUT", "/v1/assignments", {
      target: { type: "group", id: "boulevard" },
      calendar: "street-cal",
    });
    expect(assigned.status).toBe(202);
    expect(crud.replans).toEqual([
      {
        cause: "assign",
        actor: "t-engineer",
        target: { type: "group", id: "boulevard" },
        deviceIds: ["sl-a1", "sl-a2"],
      },
    ]);

    crud.replans.length = 0;
    const joined = await crud.engineer("POST", "/v1/groups/boulevard/members", {
      devices: ["sl-a3", "sl-m1"],
    });
    expect(joined.body.changed).toEqual(["sl-a3", "sl-m1"]);
    expect(crud.replans).toEqual([
      {
        cause: "group_members",
        actor: "t-engineer",
        target: { type: "group", id: "boulevard" },
        deviceIds: ["sl-a3", "sl-m1"],
      },
    ]);

    crud.replans.length = 0;
    const left = await crud.engineer("DELETE", "/v1/groups/boulevard/members", {
      devices: ["sl-m1", "aq-a1", "sl-a3", "sl-a-gone"],
    });
    expect(left.status).toBe(200);
    // sl-a-gone was no member: left as it is. aq-a1 is no lamp: nothing to plan for it.
    expect(left.body.changed).toEqual(["sl-m1", "aq-a1", "sl-a3"]);
    expect(crud.replans).toEqual([
      {
        cause: "group_members",
        actor: "t-engineer",
        target: { type: "group", id: "boulevard" },
        deviceIds: ["sl-m1", "sl-a3"],
      },
    ]);
    const unknown = await crud.engineer("DELETE", "/v1/groups/boulevard/members", { devices: ["sl-zzz"] });
    expect(unknown.body.issues).toEqual([
      { field: "devices", index: 0, id: "sl-zzz", message: "no such device" },
    ]);

    const group = await crud.operator("GET", "/v1/groups/boulevard");
    expect(group.body).toMatchObject({ calendar_id: "street-cal", member_count: 2 });
    expect(group.body.members.map((m: { device_id: string }) => m.device_id)).toEqual(["sl-a1", "sl-a2"]);
    expect(group.body.members[0]).toMatchObject({
      kind: "streetlight",
      district: "Anfa",
      added_by: "t-engineer",
    });
  });

  it("renames a group, and deleting it drops its assignment and replans its lamps", async () => {
    const renamed = await crud.engineer("PUT", "/v1/groups/boulevard", {
      name: "Bd d'Anfa",
      description: "the seafront",
    });
    expect(renamed.body).toMatchObject({ name: "Bd d'Anfa", description: "the seafront" });
    expect(crud.replans).toEqual([]);
    const del = await crud.engineer("DELETE", "/v1/groups/boulevard");
    expect(del.status).toBe(200);
    expect(crud.replans).toEqual([
      {
        cause: "group_members",
        actor: "t-engineer",
        target: { type: "group", id: "boulevard" },
        deviceIds: ["sl-a1", "sl-a2"],
      },
    ]);
    expect((await crud.engineer("GET", "/v1/assignments?calendar=street-cal")).body.assignments).toEqual([]);
    expect((await crud.engineer("DELETE", "/v1/calendars/street-cal")).status).toBe(204);
    expect((await crud.engineer("GET", "/v1/groups")).body.groups).toEqual([]);
  });
});

describe("calendar preview", () => {
  type Night = {
    night: string;
    rule: unknown;
    program: string;
    sunset: { at: string };
    switches: { at: string; local: string; label: string; level_pct: number; ramp_s: number }[];
  };
  it("shows, night by night at a lamp, the rule that matched and the switch instants across the Ramadan clock change", async () => {
    const res = await crud.operator(
      "GET",
      "/v1/calendars/district-cal/preview?device=sl-a1&from=2026-03-19&nights=4",
    );
    expect(res.status).toBe(200);
    expect(res.body.site).toEqual({ lat: 33.59, lon: -7.65, source: "device" });
    expect(res.body.calendar).toEqual({ id: "district-cal", name: "Anfa nights", revision: 1 });
    const nights = res.body.nights as Night[];
    expect(nights.map((n) => [n.night, n.program, n.rule])).toEqual([
      ["2026-03-19", "midnight", null],
      ["2026-03-20", "full-night", { index: 0, name: "match" }],
      ["2026-03-21", "midnight", null],
      ["2026-03-22", "midnight", null],
    ]);
    const [first, match, , after] = nights as [Night, Night, Night, Night];
    expect(first.switches.map((s) => s.label)).toEqual(["sunset+10", "00:00", "sunrise-15"]);
    expect(match.switches).toHaveLength(1);
    // Sunset + 10 min, at the lamp's own position (about 18:45 UTC in Casablanca at the equinox).
    expect(Date.parse(first.switches[0]?.at as string) - Date.parse(first.sunset.at)).toBe(600_000);
    expect(first.sunset.at > "2026-03-19T18:30" && first.sunset.at < "2026-03-19T19:00").toBe(true);
    // Local midnight is UTC midnight during Ramadan (UTC+0) and 23:00 UTC after 2026-03-22 02:00 (UTC+1).
    expect(first.switches[1]).toEqual({
      at: "2026-03-20T00:00:00.000Z",
      local: "2026-03-20T00:00:00+00:00",
      label: "00:00",
      level_pct: 50,
      ramp_s: 300,
    });
    expect(after.switches[1]).toMatchObject({
      at: "2026-03-22T23:00:00.000Z",
      local: "2026-03-23T00:00:00+01:00",
    });
  });

  it("previews at coordinates or the city centre, and refuses half coordinates and unknown things", async () => {
    const at = await crud.engineer(
      "GET",
      "/v1/calendars/district-cal/preview?lat=33.6&lon=-7.5&from=2026-06-01&nights=1",
    );
    expect(at.body.site).toEqual({ lat: 33.6, lon: -7.5, source: "coordinates" });
    expect(at.body.nights).toHaveLength(1);
    const city = await crud.engineer("GET", "/v1/calendars/district-cal/preview");
    expect(city.body.site.source).toBe("city");
    expect(city.body.nights).toHaveLength(7);
    const half = await crud.engineer("GET", "/v1/calendars/district-cal/preview?lat=33.6");
    expect(half.status).toBe(400);
    expect(half.body.issues).toEqual([expect.objectContaining({ field: "query.lon" })]);
    expect((await crud.engineer("GET", "/v1/calendars/district-cal/preview?from=2026-02-30")).status).toBe(
      400,
    );
    expect((await crud.engineer("GET", "/v1/calendars/district-cal/preview?nights=500")).status).toBe(400);
    expect((await crud.engineer("GET", "/v1/calendars/district-cal/preview?device=sl-none")).status).toBe(
      404,
    );
    expect((await crud.engineer("GET", "/v1/calendars/none/preview")).status).toBe(404);
  });

  it("is documented with the other schedule routes in the OpenAPI document", async () => {
    const doc = (await crud.engineer("GET", "/openapi.json")).body;
    for (const [path, method] of [
      ["/v1/programs", "post"],
      ["/v1/programs/{id}", "put"],
      ["/v1/calendars/{id}/preview", "get"],
      ["/v1/groups/{id}/members", "delete"],
      ["/v1/assignments", "put"],
      ["/v1/assignments/{type}/{id}", "delete"],
    ] as const)
      expect(doc.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(["schedules"]);
  });
});
