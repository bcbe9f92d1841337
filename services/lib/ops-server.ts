// A tiny HTTP server for the operational endpoints every service exposes:
//   GET /health  → 200 {"status":"ok",...} or 503 {"status":"degraded",...}
//   GET /metrics → Prometheus text format from the service's own prom-client Registry.
// Plain node:http on purpose: it must keep answering while the service is overloaded.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export type HealthReport = { status: "ok" | "degraded"; checks: Record<string, unknown> };

export type OpsServer = { port: number; url: string; close(): Promise<void> };

export async function startOpsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  health: () => HealthReport | Promise<HealthReport>;
  /** More GET endpoints answering JSON (e.g. the broker's /denials). */
  routes?: Record<string, () => unknown>;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    void (async () => {
      try {
        if (req.method === "GET" && path === "/metrics") {
          const body = await opts.registry.metrics();
          res.writeHead(200, { "content-type": opts.registry.contentType });
          res.end(body);
        } else if (req.method === "GET" && (path === "/health" || path === "/healthz")) {
          const report = await opts.health();
          res.writeHead(report.status === "ok" ? 200 : 503, { "content-type": "application/json" });
          res.end(JSON.stringify(report));
        } else if (req.method === "GET" && path && opts.routes && Object.hasOwn(opts.routes, path)) {
          const body = await opts.routes[path]?.();
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        } else {
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "not_found", path }));
        }
      } catch (err) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "internal", message: (err as Error).message }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${opts.host === "0.0.0.0" ? "127.0.0.1" : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
