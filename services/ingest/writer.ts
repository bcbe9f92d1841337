// Drains the spool into InfluxDB in batches. A batch leaves the spool only once InfluxDB accepted it; while
// InfluxDB is slow or down the writer backs off and retries, and the backlog waits on disk.
// A batch InfluxDB refuses as malformed (HTTP 400, e.g. a field type conflict) is split in halves until the
// offending lines are isolated: they go to a dead-letter file, every good line is still written.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { InfluxHttpError } from "../lib/influx/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { IngestMetrics } from "./metrics.ts";
import type { Spool, SpoolBatch, SpoolPosition } from "./spool.ts";

export type WriteLines = (lines: readonly string[]) => Promise<void>;
/** Newline-terminated line protocol as bytes (a spool batch as read from disk). */
export type WriteBody = (body: Buffer) => Promise<void>;

export type Writer = {
  start(): void;
  stop(graceMs: number): Promise<void>;
  influxUp(): boolean;
  lastError(): string | undefined;
};

export type WriterOptions = {
  spool: Spool;
  write: WriteLines;
  /** The happy path: a batch's bytes as they are. Without it, batches go through `write`. */
  writeBody?: WriteBody | undefined;
  log: Logger;
  metrics: IngestMetrics;
  batchBytes: number;
  retryMinMs: number;
  retryMaxMs: number;
  deadLetterDir: string;
};

export function createWriter(opts: WriterOptions): Writer {
  let running = false;
  let loop: Promise<void> | undefined;
  let up = true;
  let lastErr: string | undefined;
  let backoff = opts.retryMinMs;
  let deadline = Number.POSITIVE_INFINITY;
  const { metrics, log } = opts;

  /** One write request, timed and counted when InfluxDB accepts it. */
  async function counted(lines: number, send: () => Promise<void>): Promise<void> {
    const end = metrics.writeLatency.startTimer();
    await send();
    end();
    metrics.batches.labels("ok").inc();
    metrics.pointsWritten.inc(lines);
  }

  async function sendWithSplit(lines: string[]): Promise<void> {
    try {
      await counted(lines.length, () => opts.write(lines));
    } catch (err) {
      if (!(err instanceof InfluxHttpError) || err.status !== 400) throw err;
      if (lines.length === 1) {
        metrics.deadLetters.inc();
        appendFileSync(
          join(opts.deadLetterDir, "dead-letter.lp"),
          `# ${new Date().toISOString()} ${err.message}\n${lines[0]}\n`,
        );
        log.error(
          { err: err.message, line: lines[0]?.slice(0, 300) },
          "InfluxDB refused a line; kept in dead-letter.lp",
        );
        return;
      }
      const mid = lines.length >> 1;
      await sendWithSplit(lines.slice(0, mid));
      await sendWithSplit(lines.slice(mid));
    }
  }

  /** The spool's text goes out as one body; only a refused batch is split into lines (for bisection). */
  async function sendBatch(batch: SpoolBatch): Promise<void> {
    const { writeBody } = opts;
    try {
      await counted(batch.lines, () =>
        writeBody
          ? writeBody(batch.body)
          : // One "record" holding every line: the client joins records with newlines, so this is the batch as is.
            opts.write([batch.text.slice(0, -1)]),
      );
    } catch (err) {
      if (!(err instanceof InfluxHttpError) || err.status !== 400) throw err;
      const all = batch.text.split("\n");
      all.pop();
      await sendWithSplit(all);
    }
  }

  /** Batches in flight at once: InfluxDB parses two requests in parallel, one would leave it idle between. */
  const IN_FLIGHT = 2;

  async function run(): Promise<void> {
    // Up to IN_FLIGHT batches are sent at once (InfluxDB parses them in parallel); the checkpoint advances in order.
    type Sent = { batch: SpoolBatch; done: Promise<unknown> };
    const inflight: Sent[] = [];
    let cursor: SpoolPosition | undefined;
    while (running || Date.now() < deadline || inflight.length > 0) {
      while ((running || Date.now() < deadline) && inflight.length < IN_FLIGHT) {
        const batch = opts.spool.readBatch(opts.batchBytes, cursor);
        if (!batch) break;
        cursor = batch.next;
        const done = sendBatch(batch).then(
          () => undefined,
          (err: unknown) => err ?? new Error("write failed"),
        );
        inflight.push({ batch, done });
      }
      const head = inflight[0];
      if (!head) {
        if (!running) return;
        await opts.spool.waitForData(50);
        continue;
      }
      const err = await head.done;
      if (err === undefined) {
        inflight.shift();
        opts.spool.advance(head.batch.next, head.batch.lines);
        if (!up) log.info("InfluxDB writes succeed again; draining the spool");
        up = true;
        lastErr = undefined;
        backoff = opts.retryMinMs;
      } else {
        // Let the others settle, then start again from the checkpoint (rewriting a batch is harmless).
        await Promise.all(inflight.map((s) => s.done));
        inflight.length = 0;
        cursor = undefined;
        metrics.batches.labels("error").inc();
        lastErr = (err as Error).message;
        if (up)
          log.warn({ err: lastErr }, "InfluxDB write failed; readings stay in the spool and are retried");
        up = false;
        if (!running && Date.now() + backoff >= deadline) return;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(opts.retryMaxMs, backoff * 2);
      }
      metrics.influxUp.set(up ? 1 : 0);
    }
  }

  return {
    start() {
      running = true;
      deadline = Number.POSITIVE_INFINITY;
      loop = run().catch((err: Error) => log.fatal({ err }, "writer loop crashed"));
    },
    /** Stops taking new batches once the spool is drained or `graceMs` passed; what is left stays spooled. */
    async stop(graceMs) {
      deadline = Date.now() + graceMs;
      running = false;
      await loop;
    },
    influxUp: () => up,
    lastError: () => lastErr,
  };
}
