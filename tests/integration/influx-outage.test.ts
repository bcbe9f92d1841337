// An InfluxDB outage as the ingest sees it: writes reject while the server is down, and succeed again
// once it is back on the same data dir and port. Mostly on a private influxd, so nothing else is
// disturbed; the last block drives the shared server through the setup's control endpoint (safe only
// because the integration project runs one file at a time).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { findInfluxd } from "../../scripts/influxd/binary.ts";
import { type InfluxdHandle, startInfluxd } from "../../scripts/influxd/influxd.ts";
import {
  connectInflux,
  type InfluxClient,
  InfluxUnreachableError,
  rowsOf,
} from "../../services/lib/influx/index.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { influxControl } from "../setup/influx.ts";

// The shared setup installs influxd when it runs one; with INFLUX_URL or Docker it may be absent.
const influxdPath = findInfluxd();

describe.skipIf(!influxdPath)("influxd outage and restart", () => {
  let dataDir: string;
  let influxd: InfluxdHandle;
  let client: InfluxClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "city-influxd-outage-"));
    influxd = await startInfluxd({ dataDir, database: "outage", log: silentLogger(), binary: influxdPath });
    client = await connectInflux(
      { url: influxd.url, token: "", org: "city", bucket: "outage", timeoutMs: 5000 },
      silentLogger(),
    );
  });

  afterAll(async () => {
    await client?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("rejects writes while stopped and accepts them after a restart, keeping earlier data", async () => {
    const t0 = Date.UTC(2024, 5, 1);
    await client.writeLines([`traffic,cam=c1 cars=10i ${t0}`], "ms");

    await influxd.stop();
    expect(influxd.pid).toBeUndefined();
    await expect(client.writeLines([`traffic,cam=c1 cars=11i ${t0 + 1000}`], "ms")).rejects.toBeInstanceOf(
      InfluxUnreachableError,
    );
    expect(await client.ping()).toMatchObject({ ok: false, reason: "unreachable" });

    await influxd.start();
    expect(influxd.pid).toBeGreaterThan(0);
    await client.writeLines([`traffic,cam=c1 cars=12i ${t0 + 2000}`], "ms");
    const rows = rowsOf(await client.query("SELECT cars FROM traffic ORDER BY time ASC"));
    expect(rows.map((r) => r.cars)).toEqual([10, 12]);
    expect(new URL(influxd.url).port).toBe(String(influxd.port));
  });

  it("start() while running and stop() while stopped are no-ops", async () => {
    const pid = influxd.pid;
    await influxd.start();
    expect(influxd.pid).toBe(pid);
    await influxd.stop();
    await influxd.stop();
    await influxd.start();
    expect(await client.ping()).toMatchObject({ ok: true });
  });
});

const shared = inject("influx");

describe.skipIf(!shared.control)("the shared server's stop/start control", () => {
  it("stops the shared influxd and starts it again with its data", async () => {
    const client = await connectInflux(
      { ...shared, bucket: "control_check", timeoutMs: 5000 },
      silentLogger(),
    );
    await client.ensureDatabase();
    await client.writeLines(["ctl v=1i 1000"], "ms");
    await influxControl(shared, "stop");
    try {
      await expect(client.writeLines(["ctl v=2i 2000"], "ms")).rejects.toBeInstanceOf(InfluxUnreachableError);
    } finally {
      await influxControl(shared, "start");
    }
    await client.writeLines(["ctl v=3i 3000"], "ms");
    expect(rowsOf(await client.query("SELECT v FROM ctl")).map((r) => r.v)).toEqual([1, 3]);
    await client.close();
  });
});
