// The lamps' reported levels, read back from InfluxDB for a compliance check: `dim_pct` and `power_w` of the
// measurement `streetlight`, tag `device_id` (services/ingest/line-protocol.ts writes them at the device's time),
// through the paged multi-lamp reader (services/command/influx-readings.ts): a response holds at most about
// `rowsPerQuery` rows whatever the window.
import type { InfluxClient } from "../../lib/influx/index.ts";
import type { Sample } from "../../schedule/compliance.ts";
import { influxReadingsReader, ROWS_PER_QUERY } from "../influx-readings.ts";

export { ROWS_PER_QUERY };

export type SampleReader = {
  /** Samples of each lamp with fromMs ≤ ts < toMs, oldest first; lamps without any are absent. */
  forLamps(deviceIds: readonly string[], fromMs: number, toMs: number): Promise<Map<string, Sample[]>>;
};

export function influxSampleReader(influx: InfluxClient, rowsPerQuery = ROWS_PER_QUERY): SampleReader {
  return influxReadingsReader<Sample>(
    influx,
    {
      measurement: "streetlight",
      fields: ["dim_pct", "power_w"],
      row(ts, [dim, power]) {
        // A point of this measurement without dim_pct is not a reading the contract allows; skip, not guess.
        if (typeof dim !== "number") return undefined;
        return { ts, dimPct: dim, ...(typeof power === "number" ? { powerW: power } : {}) };
      },
    },
    { rowsPerQuery },
  );
}
