// The CLI's formatting functions, pure: times in Casablanca, the device page, refusals and CSV row errors.
import { describe, expect, it } from "vitest";
import type { DevicePage } from "../../services/cli/api-types.ts";
import { formatDeviceList, formatDevicePage, formatHistory } from "../../services/cli/format/device.ts";
import { formatIssue, formatRefusal, formatRowErrors } from "../../services/cli/format/errors.ts";
import { table } from "../../services/cli/format/table.ts";
import { localDate, localDateTime, parseSince, relative, when } from "../../services/cli/format/time.ts";
import { credentialsCsv } from "../../services/cli/secrets-file.ts";

const NOW = new Date("2025-01-15T12:00:30Z");

describe("times", () => {
  it("shows Casablanca wall-clock time, which follows the Ramadan change of offset", () => {
    expect(localDateTime("2025-01-15T12:00:00Z")).toBe("2025-01-15 13:00:00"); // UTC+1
    expect(localDateTime("2025-03-10T12:00:00Z")).toBe("2025-03-10 12:00:00"); // Ramadan: UTC+0
    expect(localDate(new Date("2025-01-15T23:30:00Z"))).toBe("2025-01-16"); // already tomorrow locally
  });

  it("says how long ago, in seconds, minutes, hours and days", () => {
    expect(relative("2025-01-15T12:00:18Z", NOW)).toBe("12 s ago");
    expect(relative("2025-01-15T11:55:00Z", NOW)).toBe("5 min ago");
    expect(relative("2025-01-15T09:00:00Z", NOW)).toBe("3 h ago");
    expect(relative("2025-01-13T12:00:00Z", NOW)).toBe("2 d ago");
    expect(relative("2025-01-15T12:00:34Z", NOW)).toBe("in 4 s");
    expect(when("2025-01-15T12:00:18Z", NOW)).toBe("2025-01-15 13:00:18 (12 s ago)");
    expect(when(null, NOW)).toBe("never");
  });

  it("reads --seen-after as an ISO time or a span back from now", () => {
    expect(parseSince("15m", NOW)).toBe("2025-01-15T11:45:30.000Z");
    expect(parseSince("2h", NOW)).toBe("2025-01-15T10:00:30.000Z");
    expect(parseSince("2025-01-14T08:00:00Z", NOW)).toBe("2025-01-14T08:00:00.000Z");
    expect(parseSince("yesterday", NOW)).toBeNull();
  });
});

const page: DevicePage = {
  device: {
    id: "sl-anfa-0042",
    kind: "streetlight",
    district: "Anfa",
    lat: 33.5905,
    lon: -7.6512,
    installed_at: "2025-01-14",
    report_interval_s: 60,
    led_watts: 60,
    legacy_watts: 150,
    status: "connected",
    serial: "LC-88213",
    credential_generation: 2,
    created_at: "2025-01-14T09:00:00Z",
    updated_at: "2025-01-15T11:00:00Z",
  },
  liveness: {
    state: "online",
    online: true,
    connected_at: "2025-01-15T11:58:00Z",
    disconnected_at: null,
    disconnect_reason: null,
    last_seen_at: "2025-01-15T12:00:18Z",
    last_reading_at: "2025-01-15T12:00:18Z",
    last_reading_ts: "2025-01-15T12:00:17Z",
    state_online: true,
  },
  last_reading: { time: "2025-01-15T12:00:17Z", fields: { power_w: 41.8312, dim_pct: 70, on: true } },
  rejects: {
    since: "2025-01-14T12:00:30Z",
    total: 3,
    by_reason: { out_of_range: 1, bad_json: 2 },
    latest: [{ at: "2025-01-15T10:00:00Z", reason: "bad_json", excerpt: '{"power_w":' }],
  },
  commissioning: {
    id: "a50329ba-a527-4bff-ab3b-5be8f090412d",
    device_id: "sl-anfa-0042",
    generation: 2,
    status: "failed",
    started_at: "2025-01-15T11:58:00Z",
    started_by: "local-engineer",
    finished_at: "2025-01-15T11:59:30Z",
    signed_off_at: null,
    signed_off_by: null,
    note: null,
    checks: [
      {
        name: "connection",
        status: "passed",
        started_at: "2025-01-15T11:58:00Z",
        finished_at: "2025-01-15T11:58:02Z",
        detail: "connected with generation 2",
        data: null,
      },
      {
        name: "location",
        status: "failed",
        started_at: "2025-01-15T11:59:00Z",
        finished_at: "2025-01-15T11:59:30Z",
        detail:
          "33.70000, -7.65000 is in Maarif (0.4 km from its centre), not in its registered district Anfa",
        data: { nearest: "Maarif" },
      },
      { name: "identify", status: "pending", started_at: null, finished_at: null, detail: null, data: null },
    ],
  },
  credential: { generation: 2, created_at: "2025-01-15T11:00:00Z" },
  unavailable: ["last_reading (InfluxDB: no answer within 3000 ms)"],
};

describe("device page", () => {
  const text = formatDevicePage(page, NOW);

  it("gives status, liveness, last seen and the last reading with local times and ages", () => {
    expect(text).toContain("sl-anfa-0042  streetlight in Anfa  [connected]");
    expect(text).toMatch(/liveness\s+online, connected 2025-01-15 12:58:00 \(2 min ago\)/);
    expect(text).toMatch(/last seen\s+2025-01-15 13:00:18 \(12 s ago\)/);
    expect(text).toContain("power_w=41.83 dim_pct=70 on=true");
    expect(text).toMatch(/credential\s+generation 2, issued 2025-01-15 12:00:00 \(1 h ago\)/);
    expect(text).toMatch(/position\s+33.5905, -7.6512 \(Anfa\)/);
  });

  it("lists the commissioning checks with their times and details, then the rejects", () => {
    expect(text).toContain("run a50329ba · failed · started 2025-01-15 12:58:00 by local-engineer");
    expect(text).toMatch(/✓ connection\s+passed\s+12:58:00\s+12:58:02\s+connected with generation 2/);
    expect(text).toMatch(/✗ location\s+failed\s+12:59:00\s+12:59:30\s+33.70000, -7.65000 is in Maarif .*…\n/);
    expect(text).toContain(
      "  ✗ location: 33.70000, -7.65000 is in Maarif (0.4 km from its centre), not in its registered district Anfa",
    );
    expect(text).toMatch(/· identify\s+pending/);
    expect(text).toContain("3 since 2025-01-14 13:00:30 (1 d ago): bad_json 2, out_of_range 1");
    expect(text).toContain("Not available right now:\n  last_reading (InfluxDB: no answer within 3000 ms)");
  });

  it("says so when a device never connected and has no run", () => {
    const fresh = formatDevicePage(
      {
        ...page,
        liveness: {
          ...page.liveness,
          state: "never_seen",
          online: false,
          connected_at: null,
          last_seen_at: null,
        },
        last_reading: null,
        rejects: { since: "2025-01-14T12:00:30Z", total: 0, by_reason: {}, latest: [] },
        commissioning: null,
        credential: { generation: 1, created_at: null },
        unavailable: [],
      },
      NOW,
    );
    expect(fresh).toMatch(/liveness\s+never seen/);
    expect(fresh).toMatch(/last seen\s+never/);
    expect(fresh).toContain("no run yet");
    expect(fresh).toContain("Rejected readings\n  none since 2025-01-14 13:00:30 (1 d ago)");
    expect(fresh).not.toContain("Not available");
  });

  it("lists devices as a table and history events", () => {
    const list = formatDeviceList(
      [{ ...page.device, liveness: "silent", online: true, last_seen_at: null }],
      NOW,
    );
    expect(list.split("\n")[0]).toMatch(/^ID\s+KIND\s+DISTRICT\s+STATUS\s+LIVENESS\s+LAST SEEN$/);
    expect(list).toMatch(/sl-anfa-0042\s+streetlight\s+Anfa\s+connected\s+silent\s+never/);
    const history = formatHistory([
      {
        seq: 1,
        at: "2025-01-14T09:00:00Z",
        actor: "local-engineer",
        action: "register",
        detail: { serial: "X" },
      },
    ]);
    expect(history).toMatch(/2025-01-14 10:00:00\s+local-engineer\s+register\s+\{"serial":"X"\}/);
  });
});

describe("refusals", () => {
  it("prints the API's error, message and every issue's field", () => {
    const text = formatRefusal(
      400,
      {
        error: "validation_failed",
        message: "device registration is invalid",
        issues: [
          { field: "lat", message: "must be ≤ 90" },
          { field: "led_watts", message: "required for a streetlight", id: "sl-x" },
        ],
      },
      { tokenSource: "CITY_API_TOKEN" },
    );
    expect(text).toBe(
      [
        "error: validation_failed (HTTP 400): device registration is invalid",
        "  lat: must be ≤ 90",
        "  led_watts (sl-x): required for a streetlight",
      ].join("\n"),
    );
  });

  it("names where a refused token came from", () => {
    const err = { error: "unauthorized", message: "invalid token", issues: [] };
    expect(formatRefusal(401, err, { tokenSource: "/repo/.data/secrets/engineer.token" })).toContain(
      "the token came from the file /repo/.data/secrets/engineer.token",
    );
    expect(formatRefusal(401, err, { tokenSource: "CITY_API_TOKEN" })).toContain(
      "the token came from CITY_API_TOKEN",
    );
    expect(formatRefusal(401, err, { tokenSource: "none" })).toContain("no token was sent");
    const forbidden = {
      error: "forbidden",
      message: "role engineer lacks the permission tokens:admin",
      issues: [],
    };
    expect(formatRefusal(403, forbidden, { tokenSource: "CITY_API_TOKEN" })).toBe(
      "error: forbidden (HTTP 403): role engineer lacks the permission tokens:admin\n  the token came from CITY_API_TOKEN",
    );
  });

  it("reports every bad CSV row with its line, its text and its fields", () => {
    const csv = [
      "id,kind,district,lat,lon,installed_at",
      "aq-anfa-0001,airquality,Anfa,33.59,-7.65,2025-01-14",
      "aq-anfa-0002,airquality,Atlantis,33.59,-7.65,2025-01-14",
      "aq-anfa-0003,airquality,Anfa,north,-7.65,2025-01-14",
    ].join("\n");
    const text = formatRowErrors(
      [
        { line: 4, field: "lat", message: "expected a number" },
        { line: 3, field: "district", message: "must be one of the city's districts", id: "aq-anfa-0002" },
        { line: 4, field: "installed_at", message: "must be a date" },
      ],
      csv,
      "poles.csv",
    );
    expect(text).toBe(
      [
        "Nothing was imported from poles.csv; fix and import it again. 2 lines refused:",
        "  poles.csv:3  aq-anfa-0002,airquality,Atlantis,33.59,-7.65,2025-01-14",
        "    district: must be one of the city's districts",
        "  poles.csv:4  aq-anfa-0003,airquality,Anfa,north,-7.65,2025-01-14",
        "    lat: expected a number",
        "    installed_at: must be a date",
      ].join("\n"),
    );
    expect(formatIssue({ index: 2, field: "id", message: "duplicate" })).toBe("id (row 3): duplicate");
  });
});

describe("helpers", () => {
  it("aligns table columns", () => {
    expect(
      table(
        ["a", "bb"],
        [
          ["long", "x"],
          ["s", "yy"],
        ],
      ),
    ).toBe("A     BB\nlong  x\ns     yy");
  });

  it("writes credentials as CSV, quoting what needs it", () => {
    const csv = credentialsCsv([
      {
        id: "tc-1",
        client_id: "tc-1",
        username: "tc-1",
        secret: "s3cr,et",
        generation: 1,
        mqtt_url: "mqtt://h:1883",
        topics: { publish: ["a", "b"], subscribe: ["c"] },
      },
    ]);
    expect(csv.split("\n")[1]).toBe('tc-1,tc-1,tc-1,"s3cr,et",1,mqtt://h:1883,a b,c');
  });
});
