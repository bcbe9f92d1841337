// The status line of `npm start`: readings landed in InfluxDB per kind, and the ingest's own view.
import { DEVICE_KINDS } from "../../services/contract/topics.ts";
import { connectInflux, type InfluxClient } from "../../services/lib/influx/client.ts";
import { influxConfigSchema } from "../../services/lib/influx/config.ts";
import { silentLogger } from "../../services/lib/log.ts";

export type StatusReporter = { line(): Promise<string>; close(): Promise<void> };

/** One InfluxDB client for the platform's life (made at the first line, made again after a failure to connect). */
export function createStatusReporter(opts: {
  influxUrl: string;
  ingestOps: string;
  env: NodeJS.ProcessEnv;
}): StatusReporter {
  let client: Promise<InfluxClient> | undefined;
  const influx = () => {
    client ??= connectInflux(
      influxConfigSchema.parse({
        url: opts.influxUrl,
        token: opts.env.INFLUX_TOKEN,
        org: opts.env.INFLUX_ORG,
        bucket: opts.env.INFLUX_BUCKET,
      }),
      silentLogger(),
    ).catch((err: unknown) => {
      client = undefined;
      throw err;
    });
    return client;
  };

  return {
    async line() {
      const parts: string[] = [];
      try {
        const db = await influx();
        const counts: string[] = [];
        let total = 0;
        for (const kind of DEVICE_KINDS) {
          const series = await db.query(`SELECT count(seq) FROM ${kind}`);
          const n = Number(series[0]?.values[0]?.[1] ?? 0);
          total += n;
          counts.push(`${kind} ${n}`);
        }
        const rejects = await db.query("SELECT count(detail) FROM ingest_rejects");
        parts.push(
          `readings in InfluxDB: ${total} (${counts.join(", ")}), rejects ${Number(rejects[0]?.values[0]?.[1] ?? 0)}`,
        );
      } catch (err) {
        parts.push(`InfluxDB not answering (${(err as Error).message})`);
      }
      try {
        const text = await (
          await fetch(`${opts.ingestOps}/metrics`, { signal: AbortSignal.timeout(2000) })
        ).text();
        const spool = /^ingest_spool_depth_lines (\S+)/m.exec(text)?.[1] ?? "?";
        parts.push(`spool backlog ${spool} lines`);
      } catch {
        parts.push("ingest not answering");
      }
      return parts.join("; ");
    },
    async close() {
      const c = await client?.catch(() => undefined);
      await c?.close();
    },
  };
}
