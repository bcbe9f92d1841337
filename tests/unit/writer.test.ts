// The spool → InfluxDB writer over a spool in a temporary folder and an in-test write function standing in for
// InfluxDB's answers (the real server is exercised by the integration tests).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createIngestMetrics } from "../../services/ingest/metrics.ts";
import { openSpool, type Spool } from "../../services/ingest/spool.ts";
import { createWriter, type WriteLines } from "../../services/ingest/writer.ts";
import { InfluxHttpError, InfluxUnreachableError } from "../../services/lib/influx/errors.ts";
import { silentLogger } from "../../services/lib/log.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(
  write: WriteLines,
  lines: string[],
): Promise<{ spool: Spool; dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "writer-test-"));
  dirs.push(dir);
  const spool = await openSpool({
    dir,
    commitIntervalMs: 1,
    fsync: false,
    maxSegmentBytes: 4096,
    maxBytes: 1 << 30,
  });
  for (const l of lines) spool.append(`${l}\n`, 1);
  await spool.flush();
  const writer = createWriter({
    spool,
    write,
    log: silentLogger(),
    metrics: createIngestMetrics(),
    batchBytes: 1024,
    retryMinMs: 10,
    retryMaxMs: 20,
    deadLetterDir: dir,
  });
  writer.start();
  return {
    spool,
    dir,
    async stop() {
      await writer.stop(0);
      await spool.close();
    },
  };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

const points = (n: number) =>
  Array.from({ length: n }, (_, i) => `m,device_id=d v=${i}i ${1_700_000_000_000_000_000 + i}`);

describe("writer", () => {
  it("writes every line once, in batches, and empties the spool", async () => {
    const got: string[] = [];
    const lines = points(300);
    const { spool, stop } = await setup(async (batch) => {
      for (const b of batch) got.push(...b.split("\n"));
    }, lines);
    await until(() => got.length === 300);
    await until(() => spool.depth().lines === 0);
    expect([...got].sort()).toEqual([...lines].sort());
    await stop();
  });

  it("keeps the lines while InfluxDB is unreachable and writes them once it answers", async () => {
    const got = new Set<string>();
    let down = true;
    const lines = points(200);
    const { spool, stop } = await setup(async (batch) => {
      if (down) throw new InfluxUnreachableError("http://127.0.0.1:1", new Error("ECONNREFUSED"));
      for (const b of batch) for (const l of b.split("\n")) got.add(l);
    }, lines);
    await new Promise((r) => setTimeout(r, 100));
    expect(spool.depth().lines).toBe(200);
    down = false;
    await until(() => got.size === 200 && spool.depth().lines === 0);
    await stop();
  });

  it("isolates a line InfluxDB refuses (HTTP 400) and writes all the others", async () => {
    const got = new Set<string>();
    const lines = points(100);
    const poison = 'm,device_id=d v="text" 1700000000000000050';
    lines.splice(50, 0, poison);
    const { dir, spool, stop } = await setup(async (batch) => {
      const all = batch.flatMap((b) => b.split("\n"));
      if (all.includes(poison))
        throw new InfluxHttpError("InfluxDB write failed", 400, "field type conflict");
      for (const l of all) got.add(l);
    }, lines);
    await until(() => got.size === 100 && spool.depth().lines === 0);
    expect(got.has(poison)).toBe(false);
    expect(readFileSync(join(dir, "dead-letter.lp"), "utf8")).toContain(poison);
    await stop();
  });
});
