// POST /v1/devices/import: a CSV of devices, all or nothing, every problem with its line and field.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDeviceCsv } from "../../services/command/routes/import.ts";
import { type Api, startApi } from "./command-harness.ts";

let api: Api;
beforeEach(async () => {
  api = await startApi();
});
afterEach(async () => {
  await api.close();
});

const csv = (...lines: string[]) => `${lines.join("\n")}\n`;
const post = (body: string, query = "", as: "engineer" | "operator" = "engineer") =>
  api.call("POST", `/v1/devices/import${query}`, { as, body, headers: { "content-type": "text/csv" } });

describe("POST /v1/devices/import", () => {
  it("imports a CSV with columns in any order and empty cells, answering credentials", async () => {
    const r = await post(
      csv(
        "Kind,ID,district,lat,lon,installed_at,led_watts,legacy_watts,serial,report_interval_s",
        "streetlight,sl-csv-0001,Anfa,33.59,-7.65,2025-01-10,90,295,LC-1,",
        "airquality,aq-csv-0001,Maarif,33.58,-7.63,2025-01-11,,,,30",
        "",
        '"traffic","tr-csv-0001","Sidi Belyout",33.6,-7.62,2025-01-12,,,"TC, rev 2",15',
      ),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ created: 3, updated: 0 });
    expect(r.body.credentials.map((c: { id: string }) => c.id)).toEqual([
      "sl-csv-0001",
      "aq-csv-0001",
      "tr-csv-0001",
    ]);
    expect(api.registry.devices.get("sl-csv-0001")).toMatchObject({
      report_interval_s: 60,
      serial: "LC-1",
      led_watts: 90,
    });
    expect(api.registry.devices.get("aq-csv-0001")).toMatchObject({ report_interval_s: 30, led_watts: null });
    expect(api.registry.devices.get("tr-csv-0001")?.serial).toBe("TC, rev 2");

    const again = await post(
      csv("id,kind,district,lat,lon,installed_at", "aq-csv-0001,airquality,Maarif,33.581,-7.63,2025-01-11"),
      "?mode=upsert",
    );
    expect(again.body).toMatchObject({ created: 0, updated: 1, credentials: [] });
  });

  it("reports each bad row with its 1-based line and field, and imports nothing", async () => {
    const r = await post(
      csv(
        "id,kind,district,lat,lon,installed_at,led_watts,legacy_watts",
        "sl-csv-0101,streetlight,Anfa,33.59,-7.65,2025-01-10,90,295",
        "sl-csv-0102,streetlight,Anfa,north,-7.65,2025-01-10,90,295",
        "sl-csv-0103,streetlight,Gotham,33.59,-7.65,2025-01-10,90,295",
        "sl-csv-0104,streetlight,Anfa,33.59,-7.65,2025-01-10,,295",
        "aq-csv-0105,airquality,Anfa,33.59,-7.65",
        "sl-csv-0101,streetlight,Anfa,33.59,-7.65,2025-01-10,90,295",
      ),
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("validation_failed");
    expect(r.body.issues).toEqual([
      expect.objectContaining({ line: 3, id: "sl-csv-0102", field: "lat" }),
      expect.objectContaining({ line: 4, id: "sl-csv-0103", field: "district" }),
      expect.objectContaining({
        line: 5,
        id: "sl-csv-0104",
        field: "led_watts",
        message: "required for a streetlight",
      }),
      expect.objectContaining({ line: 6, field: "(row)", message: "expected 8 fields, got 5" }),
    ]);
    expect(api.registry.devices.count()).toBe(0);
    // Valid rows that clash with each other or with the registry: reported by line too.
    await post(
      csv("id,kind,district,lat,lon,installed_at", "aq-csv-0200,airquality,Anfa,33.59,-7.65,2025-01-10"),
    );
    const clash = await post(
      csv(
        "id,kind,district,lat,lon,installed_at",
        "aq-csv-0201,airquality,Anfa,33.59,-7.65,2025-01-10",
        "aq-csv-0200,airquality,Anfa,33.59,-7.65,2025-01-10",
        "aq-csv-0201,airquality,Anfa,33.59,-7.65,2025-01-10",
      ),
    );
    expect(clash.body.issues).toEqual([
      { line: 3, id: "aq-csv-0200", field: "id", message: "already registered" },
      { line: 4, id: "aq-csv-0201", field: "id", message: "duplicate of line 2" },
    ]);
    expect(api.registry.devices.get("aq-csv-0201")).toBeUndefined();
  });

  it("reports header problems on line 1 and unreadable CSV at its line", async () => {
    const head = await post(csv("id,kind,district,latitude,lon", "x,y,z,1,2"));
    expect(head.body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          line: 1,
          field: "latitude",
          message: expect.stringMatching(/unknown column/),
        }),
        { line: 1, field: "lat", message: "missing column" },
        { line: 1, field: "installed_at", message: "missing column" },
      ]),
    );
    const quote = await post(
      csv("id,kind,district,lat,lon,installed_at", '"aq-csv-0300,airquality,Anfa,1,2,2025-01-01'),
    );
    expect(quote.status).toBe(400);
    expect(quote.body.issues[0]).toMatchObject({ field: "(csv)", line: 2 }); // where the quote opened
    expect((await post("")).body.issues[0]).toMatchObject({ line: 1, field: "(csv)" });
  });

  it("takes only text/csv, from a token that may write, and at most 10 000 rows", async () => {
    const json = await api.call("POST", "/v1/devices/import", { body: { devices: [] } });
    expect(json.status).toBe(415);
    expect(json.body.error).toBe("unsupported_media_type");
    const op = await post(csv("id,kind,district,lat,lon,installed_at"), "", "operator");
    expect(op.status).toBe(403);
    const big = ["id,kind,district,lat,lon,installed_at"];
    for (let i = 0; i <= 10_000; i++) big.push(`aq-big-${i},airquality,Anfa,33.59,-7.65,2025-01-10`);
    const { issues } = parseDeviceCsv(csv(...big));
    expect(issues).toEqual([{ line: 1, field: "(csv)", message: "10001 rows; at most 10000 per import" }]);
    expect((await post(csv(...big))).status).toBe(400);
    expect(api.registry.devices.count()).toBe(0);
  });
});
