// Nothing lost: InfluxDB stopped for a while and restarted under load, and the ingest killed with SIGKILL and
// restarted under load — every reading the broker acknowledged ends up in InfluxDB exactly once.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InfluxdHandle, startInfluxd } from "../../scripts/influxd/influxd.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { startLoad, streetlights } from "./harness/load.ts";
import { countOf, eventually, type Stack, startStack } from "./harness/stack.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

describe("InfluxDB outage under load", () => {
  // A private influxd: stopping the suite's shared one would disturb other files.
  let influxd: InfluxdHandle;
  let stack: Stack;
  const dir = mkdtempSync(join(tmpdir(), "outage-"));
  const id = randomUUID().slice(0, 6);
  beforeAll(async () => {
    influxd = await startInfluxd({
      dataDir: join(dir, "influxdb"),
      port: 0,
      database: "telemetry",
      log: silentLogger(),
    });
    stack = await startStack({ url: influxd.url, token: "", org: "city", bucket: "telemetry" });
  });
  afterAll(async () => {
    await stack?.stop();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("spools while InfluxDB is down and writes everything once it is back", async () => {
    const devices = streetlights(`sl-${id}`, 50);
    await stack.register(devices);
    const load = await startLoad({ connect: stack.device, devices, ratePerSec: 2000 });
    await sleep(3000);
    await influxd.stop();
    let peakRss = 0;
    let peakSpool = 0;
    for (let i = 0; i < 24; i++) {
      await sleep(500);
      peakRss = Math.max(peakRss, rssMb(stack.ingestPid()));
      peakSpool = Math.max(peakSpool, await stack.metric("ingest", "ingest_spool_depth_lines"));
    }
    expect(await stack.metric("ingest", "ingest_influx_up")).toBe(0);
    await influxd.start();
    await sleep(3000);
    const acked = await load.stop();
    expect(acked).toBeGreaterThan(20_000);
    expect(peakSpool).toBeGreaterThan(10_000); // the backlog was really held in the spool
    expect(peakRss).toBeLessThan(300);
    await eventually(
      async () => (await countOf(stack.influx, "streetlight")) === acked,
      120_000,
      `${acked} readings in InfluxDB`,
    );
    await eventually(
      async () => (await stack.metric("ingest", "ingest_spool_depth_lines")) === 0,
      10_000,
      "an empty spool",
    );
  });
});

describe("ingest killed with SIGKILL under load", () => {
  const server = inject("influx");
  const id = randomUUID().slice(0, 6);
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ ...server, bucket: `t_kill_${id}` });
    await stack.influx.ensureDatabase();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("loses nothing: spooled readings are written after restart, unacknowledged ones are redelivered", async () => {
    const devices = streetlights(`sl-${id}`, 50);
    await stack.register(devices);
    const load = await startLoad({ connect: stack.device, devices, ratePerSec: 3000 });
    await sleep(3000);
    await stack.killIngest("SIGKILL");
    await sleep(2000); // the broker keeps the ingest's persistent session meanwhile
    await stack.startIngest();
    await sleep(2000);
    await stack.restartIngest("SIGKILL"); // and once more, straight after a restart
    await sleep(2000);
    const acked = await load.stop();
    expect(acked).toBeGreaterThan(15_000);
    await eventually(
      async () => (await countOf(stack.influx, "streetlight")) === acked,
      120_000,
      `${acked} readings in InfluxDB`,
    );
    // Exactly once per reading: one point per device and seq.
    const perDevice = await stack.influx.query(
      "SELECT count(seq), max(seq) FROM streetlight GROUP BY device_id",
    );
    for (const s of perDevice) expect(s.values[0]?.[1]).toBe(Number(s.values[0]?.[2]) + 1);
  });
});
