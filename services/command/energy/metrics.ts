// The energy rollups' Prometheus metrics (docs/operations.md, "Command service").
import { Counter, Gauge, Histogram, type Registry as MetricsRegistry } from "prom-client";

export type EnergyMetrics = ReturnType<typeof energyMetrics>;

export function energyMetrics(
  registry: MetricsRegistry | undefined,
  read: () => { pending: number; lagS: number | undefined },
) {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: "energy_rollup_pending_lamps",
    help: "Lamps with announced readings not rolled up yet",
    registers,
    collect() {
      this.set(read().pending);
    },
  });
  new Gauge({
    name: "energy_rollup_lag_seconds",
    help: "Now minus the instant the rollups are complete up to (GET /v1/energy/rollups computed_through)",
    registers,
    collect() {
      const lag = read().lagS;
      if (lag === undefined) this.reset();
      else this.set(lag);
    },
  });
  return {
    cycle: new Histogram({
      name: "energy_rollup_cycle_seconds",
      help: "Duration of a rollup pass, by kind (cycle, reconcile, rebuild)",
      labelNames: ["kind"],
      buckets: [0.01, 0.05, 0.2, 1, 5, 30, 120, 600],
      registers,
    }),
    lamps: new Counter({
      name: "energy_rollup_lamps_total",
      help: "Lamps rolled up, by path (forward: after the cursor; recompute: from a day on)",
      labelNames: ["path"],
      registers,
    }),
    recomputed: new Counter({
      name: "energy_rollup_recomputed_lamp_days_total",
      help: "Lamp-days recomputed, by cause (late: a backlog behind the cursor; reconcile; rebuild)",
      labelNames: ["cause"],
      registers,
    }),
    failures: new Counter({
      name: "energy_rollup_failures_total",
      help: "Rollup passes that failed (InfluxDB down, …) and are retried, by kind",
      labelNames: ["kind"],
      registers,
    }),
  };
}
