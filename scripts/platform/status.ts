// The status line of `npm start`: readings landed in InfluxDB per kind, and the ingest's own view.
import { connectInflux } from "../../services/lib/influx/client.ts";
import { influxConfigSchema } from "../../services/lib/influx/config.ts";
import { silentLogger } from "../../services/lib/log.ts";

export async function countReadings(opts: {
  influxUrl: string;
  ingestOps: string;
  env: NodeJS.ProcessEnv;
}): Promise<string> {
  const parts: string[] = [];
  try {
    const influx = await connectInflux(
      influxConfigSchema.parse({
        url: opts.influxUrl,
        token: opts.env.INFLUX_TOKEN,
        org: opts.env.INFLUX_ORG,
        bucket: opts.env.INFLUX_BUCKET,
      }),
      silentLogger(),
    );
    const counts: string[] = [];
    let total = 0;
    for (const kind of ["streetlight", "airquality", "traffic"]) {
      const series = await influx.query(`SELECT count(seq) FROM ${kind}`);
      const n = Number(series[0]?.values[0]?.[1] ?? 0);
      total += n;
      counts.push(`${kind} ${n}`);
    }
    const rejects = await influx.query("SELECT count(detail) FROM ingest_rejects");
    parts.push(
      `readings in InfluxDB: ${total} (${counts.join(", ")}), rejects ${Number(rejects[0]?.values[0]?.[1] ?? 0)}`,
    );
    await influx.close();
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
}
