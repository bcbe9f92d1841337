// The delivery engine's Prometheus metrics (docs/operations.md, "Command service").
import { Counter, Gauge, Histogram, type Registry as MetricsRegistry } from "prom-client";

export type DeliveryMetrics = ReturnType<typeof deliveryMetrics>;

export function deliveryMetrics(
  registry: MetricsRegistry,
  counts: () => Record<"pending" | "delivered", number>,
) {
  new Gauge({
    name: "schedule_deliveries_open",
    help: "Calendar and override deliveries not yet final, by state (pending, delivered)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const c = counts();
      this.set({ state: "pending" }, c.pending);
      this.set({ state: "delivered" }, c.delivered);
    },
  });
  return {
    deliveries: new Counter({
      name: "schedule_deliveries_total",
      help: "Delivery state changes, by rollout kind (calendar, override, cancel_override) and the state entered",
      labelNames: ["kind", "state"],
      registers: [registry],
    }),
    publish: new Histogram({
      name: "schedule_publish_seconds",
      help: "Time from publishing a calendar or override to the broker's PUBACK",
      labelNames: ["kind"],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
      registers: [registry],
    }),
  };
}
