// Every query of the operations dashboard (dashboards/grafana) runs against a real InfluxDB holding readings that
// came through the broker and the ingest, and returns data: a renamed field or tag breaks this test.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { countOf, eventually, type Stack, startStack } from "./harness/stack.ts";

type Panel = { title: string; targets: { query: string }[] };
const dashboard = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../../dashboards/grafana/city-operations.json"), "utf8"),
) as { panels: Panel[] };

/** Grafana's macros, as Grafana expands them for a time range covering the test data. */
const expand = (q: string) =>
  q.replaceAll("$timeFilter", "time > now() - 30d").replaceAll("$__interval", "1h");

const server = inject("influx");
const id = randomUUID().slice(0, 6);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ ...server, bucket: `t_dash_${id}` });
  await stack.influx.ensureDatabase();
  const place = { district: "Anfa", lat: 33.59, lon: -7.65, installed_at: "2025-01-01" };
  await stack.register([
    { id: `sl-${id}`, kind: "streetlight", ...place, led_watts: 90, legacy_watts: 295 },
    { id: `aq-${id}`, kind: "airquality", ...place },
    { id: `tr-${id}`, kind: "traffic", ...place },
  ]);
  const t = Date.now() - 3_600_000;
  const pub = (kind: "streetlight" | "airquality" | "traffic", dev: string, r: object) =>
    stack.publish(kind, dev, JSON.stringify(r));
  await pub("streetlight", `sl-${id}`, [
    { ts: t, seq: 1, power_w: 88, energy_wh: 10, dim_pct: 100, lamp_ok: true },
    { ts: t + 60_000, seq: 2, power_w: 0, energy_wh: 11, dim_pct: 100, lamp_ok: false },
  ]);
  await pub("airquality", `aq-${id}`, {
    ts: t,
    seq: 1,
    pm25_ugm3: 18,
    pm10_ugm3: 30,
    no2_ugm3: 40,
    o3_ugm3: 50,
  });
  await pub("traffic", `tr-${id}`, {
    ts: t,
    seq: 1,
    period_s: 60,
    vehicles: 30,
    avg_speed_kmh: 42,
    occupancy_pct: 9,
  });
  await pub("streetlight", `sl-${id}`, {
    ts: t,
    seq: 3,
    power_w: 80,
    energy_wh: 12,
    dim_pct: 140,
    lamp_ok: true,
  });
  await eventually(
    async () =>
      (await countOf(stack.influx, "streetlight")) === 2 && (await countOf(stack.influx, "traffic")) === 1,
    30_000,
    "the dashboard's test data",
  );
  await eventually(
    async () => (await stack.influx.query("SELECT count(detail) FROM ingest_rejects")).length === 1,
    30_000,
    "a reject record",
  );
});
afterAll(async () => {
  await stack?.stop();
});

describe("operations dashboard", () => {
  const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.query] as const));
  it("has panels with queries", () => {
    expect(queries.length).toBeGreaterThanOrEqual(10);
  });
  it.each(queries)("%s: %s", async (_title, query) => {
    const series = await stack.influx.query(expand(query));
    const values = series.flatMap((s) => s.values);
    expect(values.length).toBeGreaterThan(0);
  });
});
