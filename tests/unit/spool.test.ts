// The durable spool on a temporary folder (local files only, no servers).
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSpool, type Spool, type SpoolOptions } from "../../services/ingest/spool.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "spool-test-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const opts = (dir: string, over: Partial<SpoolOptions> = {}): SpoolOptions => ({
  dir,
  commitIntervalMs: 1,
  fsync: true,
  maxSegmentBytes: 1024 * 1024,
  maxBytes: 64 * 1024 * 1024,
  ...over,
});

function drain(spool: Spool, maxBytes = 4096): string[] {
  const out: string[] = [];
  for (let b = spool.readBatch(maxBytes); b; b = spool.readBatch(maxBytes)) {
    out.push(...b.text.split("\n").filter(Boolean));
    spool.advance(b.next, b.lines);
  }
  return out;
}

describe("spool", () => {
  it("acknowledges a message only after its lines are committed, and in order", async () => {
    const spool = await openSpool(opts(tempDir()));
    const acked: number[] = [];
    for (let i = 0; i < 100; i++) spool.append(`m v=${i}i ${i}\n`, 1, () => acked.push(i));
    expect(acked).toEqual([]);
    expect(spool.readBatch(4096)).toBeUndefined(); // nothing readable before it is durable
    await spool.flush();
    expect(acked).toEqual([...Array(100).keys()]);
    expect(drain(spool)).toHaveLength(100);
    await spool.close();
  });

  it("resumes after a restart at the checkpoint and keeps what was not written", async () => {
    const dir = tempDir();
    let spool = await openSpool(opts(dir));
    for (let i = 0; i < 1000; i++) spool.append(`m v=${i}i ${i}\n`, 1);
    await spool.flush();
    const first = spool.readBatch(2000);
    if (!first) throw new Error("expected a batch");
    spool.advance(first.next, first.lines);
    await spool.close();

    spool = await openSpool(opts(dir));
    expect(spool.depth().lines).toBe(1000 - first.lines);
    const rest = drain(spool);
    expect(rest).toHaveLength(1000 - first.lines);
    expect(rest[0]).toBe(`m v=${first.lines}i ${first.lines}`);
    await spool.close();
  });

  it("rotates segments and deletes the ones fully written", async () => {
    const dir = tempDir();
    const spool = await openSpool(opts(dir, { maxSegmentBytes: 2048 }));
    for (let i = 0; i < 500; i++) {
      spool.append(`measurement,tag=x value=${i}i ${i}\n`, 1);
      if (i % 50 === 0) await spool.flush();
    }
    await spool.flush();
    expect(readdirSync(join(dir, "segments")).length).toBeGreaterThan(3);
    const lines = drain(spool, 1000);
    expect(lines).toHaveLength(500);
    expect(lines.map((l) => Number(l.split(" ")[2]))).toEqual([...Array(500).keys()]);
    expect(readdirSync(join(dir, "segments")).length).toBe(1);
    expect(spool.depth()).toEqual({ bytes: 0, lines: 0 });
    await spool.close();
  });

  it("cuts a torn last line left by a crash (it was never acknowledged)", async () => {
    const dir = tempDir();
    let spool = await openSpool(opts(dir));
    spool.append("m v=1i 1\nm v=2i 2\n", 2);
    await spool.close();
    const seg = join(dir, "segments", readdirSync(join(dir, "segments"))[0] as string);
    appendFileSync(seg, "m v=3i"); // a crash in the middle of a write
    spool = await openSpool(opts(dir));
    expect(drain(spool)).toEqual(["m v=1i 1", "m v=2i 2"]);
    spool.append("m v=4i 4\n", 1);
    await spool.flush();
    expect(drain(spool)).toEqual(["m v=4i 4"]);
    expect(readFileSync(seg, "utf8")).not.toContain("m v=3i");
    await spool.close();
  });

  it("reports full above maxBytes so the ingest applies backpressure", async () => {
    const spool = await openSpool(opts(tempDir(), { maxBytes: 1024 * 1024 }));
    const line = `${"x".repeat(1000)}\n`;
    for (let i = 0; i < 1100; i++) spool.append(line, 1);
    expect(spool.isFull()).toBe(true);
    await spool.flush();
    expect(spool.isFull()).toBe(true);
    drain(spool, 64 * 1024);
    expect(spool.isFull()).toBe(false);
    await spool.close();
  });
});
