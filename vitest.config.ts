// Three tiers (STYLE.md, habit 8): `unit` (pure logic, no I/O), `integration` (a real broker on a free port and a
// real InfluxDB from tests/setup/influx.ts), `e2e` (the platform started the way a user starts it).
// A JSON report always goes to reports/vitest.json: .ci/run prints its "N passed, N failed" line from it.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "reports/vitest.json" },
    projects: [
      {
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/setup/influx.ts"],
          // One file at a time: 2 cores, and the outage tests stop servers.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          // Starts its own InfluxDB like `npm start` does; nothing shared.
          fileParallelism: false,
          testTimeout: 480_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
