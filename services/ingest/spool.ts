// A durable spool: an append-only log of line-protocol lines in segment files on disk.
// - append() buffers lines; a group commit writes and fdatasyncs them, then calls each message's onDurable
//   (the ingest sends the MQTT PUBACK there): a message is acknowledged only once its readings are on disk.
// - The InfluxDB writer reads committed lines in batches and advance()s a checkpoint once InfluxDB accepted them;
//   fully written segments are deleted. After a crash, reading resumes at the checkpoint: lines written but not
//   yet checkpointed are written again, which is harmless because a point's key is its series and time.
// - Memory stays bounded during an InfluxDB outage: the backlog lives on disk, not in the heap.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";

export type SpoolPosition = { segment: number; offset: number };
export type SpoolBatch = { body: Buffer; text: string; lines: number; bytes: number; next: SpoolPosition };

export type SpoolOptions = {
  dir: string;
  /** Group-commit window: appends within it share one write + fdatasync. */
  commitIntervalMs: number;
  /** fdatasync each commit (turn off only for throwaway test data). */
  fsync: boolean;
  maxSegmentBytes: number;
  /** Above this backlog the spool reports isFull() and the ingest stops taking messages (backpressure). */
  maxBytes: number;
  /** Called after each group commit with its duration (write + fdatasync). */
  onCommit?: (seconds: number, bytes: number) => void;
};

export type Spool = {
  append(text: string, lines: number, onDurable?: () => void): void;
  /** Bytes appended but not yet committed (in memory). */
  pendingBytes(): number;
  flush(): Promise<void>;
  /** Resolves when new lines are committed (or after `ms`). */
  waitForData(ms: number): Promise<void>;
  /** Reads committed lines from `from` (default: the checkpoint), so a writer may read ahead of it. */
  readBatch(maxBytes: number, from?: SpoolPosition): SpoolBatch | undefined;
  advance(next: SpoolPosition, lines: number): void;
  depth(): { bytes: number; lines: number };
  isFull(): boolean;
  lastCommitError(): string | undefined;
  close(): Promise<void>;
};

const SEGMENT_RE = /^(\d{12})\.lp$/;
const segName = (n: number) => `${String(n).padStart(12, "0")}.lp`;

export async function openSpool(opts: SpoolOptions): Promise<Spool> {
  const segDir = join(opts.dir, "segments");
  mkdirSync(segDir, { recursive: true });
  const checkpointFile = join(opts.dir, "checkpoint.json");
  const sizes = new Map<number, number>();
  for (const f of readdirSync(segDir)) {
    const m = SEGMENT_RE.exec(f);
    if (m) sizes.set(Number(m[1]), statSync(join(segDir, f)).size);
  }
  let reader: SpoolPosition = readCheckpoint(checkpointFile) ?? {
    segment: Math.min(...sizes.keys(), 1),
    offset: 0,
  };
  for (const seg of [...sizes.keys()]) {
    if (seg < reader.segment) {
      rmSync(join(segDir, segName(seg)), { force: true });
      sizes.delete(seg);
    }
  }
  let active = Math.max(reader.segment, ...sizes.keys());
  if (!sizes.has(active)) sizes.set(active, 0);
  // A crash mid-write can leave a torn last line; it was never acknowledged, so cut it off.
  sizes.set(active, truncateTornTail(join(segDir, segName(active)), sizes.get(active) ?? 0));
  if (reader.segment === active && reader.offset > (sizes.get(active) ?? 0))
    reader.offset = sizes.get(active) ?? 0;
  let backlogLines = countLines(segDir, sizes, reader);

  let fh: FileHandle = await open(join(segDir, segName(active)), "a");
  // Appended text is encoded into buffers at once, so the strings die young instead of waiting for the fsync.
  let pending: Buffer[] = [];
  let chunk: Buffer | undefined;
  let chunkLen = 0;
  let pendingLen = 0;
  let pendingLines = 0;
  let pendingAcks: (() => void)[] = [];
  let committing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let commitError: string | undefined;
  let dataWaiters: (() => void)[] = [];
  let checkpointDirty = false;
  let lastCheckpointAt = 0;
  const readFds = new Map<number, number>();
  const committedBytes = () =>
    [...sizes.entries()].reduce((a, [s, n]) => (s >= reader.segment ? a + n : a), 0);

  async function commitOnce(): Promise<void> {
    if (chunk && chunkLen > 0) pending.push(chunk.subarray(0, chunkLen));
    chunk = undefined;
    chunkLen = 0;
    const bufs = pending;
    const acks = pendingAcks;
    const lines = pendingLines;
    const total = pendingLen;
    pending = [];
    pendingLen = 0;
    pendingLines = 0;
    pendingAcks = [];
    const started = performance.now();
    try {
      await fh.writev(bufs);
      if (opts.fsync) await fh.datasync();
      commitError = undefined;
      opts.onCommit?.((performance.now() - started) / 1000, total);
    } catch (err) {
      // Disk full or failing: keep the lines (and their unsent acks) and try again; the ingest pauses meanwhile.
      // Cut off whatever part of this commit reached the file, so that the retry does not leave a torn line.
      commitError = (err as Error).message;
      await fh.truncate(sizes.get(active) ?? 0).catch(() => undefined);
      pending = bufs.concat(pending);
      pendingLen += total;
      pendingLines += lines;
      pendingAcks = acks.concat(pendingAcks);
      await new Promise((r) => setTimeout(r, 500));
      return;
    }
    sizes.set(active, (sizes.get(active) ?? 0) + total);
    backlogLines += lines;
    for (const ack of acks) ack();
    const waiters = dataWaiters;
    dataWaiters = [];
    for (const w of waiters) w();
    if ((sizes.get(active) ?? 0) >= opts.maxSegmentBytes) {
      await fh.close();
      active += 1;
      sizes.set(active, 0);
      fh = await open(join(segDir, segName(active)), "a");
    }
  }

  function schedule(): void {
    if (timer !== undefined || committing !== undefined) return;
    timer = setTimeout(run, pendingLen > 1 << 20 ? 0 : opts.commitIntervalMs);
  }

  function run(): void {
    timer = undefined;
    if (pendingLen === 0) return;
    committing = commitOnce().finally(() => {
      committing = undefined;
      if (pendingLen > 0) schedule();
    });
  }

  async function flush(): Promise<void> {
    for (;;) {
      if (committing !== undefined) {
        await committing;
        continue;
      }
      if (pendingLen === 0) return;
      if (timer) clearTimeout(timer);
      run();
    }
  }

  function readFd(segment: number): number {
    let fd = readFds.get(segment);
    if (fd === undefined) {
      fd = openSync(join(segDir, segName(segment)), "r");
      readFds.set(segment, fd);
    }
    return fd;
  }

  function dropSegmentsBefore(segment: number): void {
    for (const seg of [...sizes.keys()]) {
      if (seg >= segment) continue;
      const fd = readFds.get(seg);
      if (fd !== undefined) closeSync(fd);
      readFds.delete(seg);
      rmSync(join(segDir, segName(seg)), { force: true });
      sizes.delete(seg);
      checkpointDirty = true;
    }
  }

  function saveCheckpoint(force: boolean): void {
    if (!checkpointDirty || (!force && Date.now() - lastCheckpointAt < 200)) return;
    writeFileSync(`${checkpointFile}.tmp`, JSON.stringify(reader));
    renameSync(`${checkpointFile}.tmp`, checkpointFile);
    checkpointDirty = false;
    lastCheckpointAt = Date.now();
  }

  return {
    append(text, lines, onDurable) {
      // A UTF-16 code unit is at most 3 UTF-8 bytes: reserving that much spares a byteLength pass over the text.
      const room = text.length * 3;
      if (!chunk || chunk.length - chunkLen < room) {
        if (chunk && chunkLen > 0) pending.push(chunk.subarray(0, chunkLen));
        chunk = Buffer.allocUnsafeSlow(Math.max(256 * 1024, room));
        chunkLen = 0;
      }
      const bytes = chunk.write(text, chunkLen);
      chunkLen += bytes;
      pendingLen += bytes;
      pendingLines += lines;
      if (onDurable) pendingAcks.push(onDurable);
      schedule();
    },
    pendingBytes: () => pendingLen,
    flush,
    waitForData(ms) {
      return new Promise((resolve) => {
        const t = setTimeout(resolve, ms);
        dataWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    readBatch(maxBytes, from) {
      let pos = from ?? reader;
      for (;;) {
        const size = sizes.get(pos.segment) ?? 0;
        if (pos.offset < size) break;
        if (pos.segment >= active) return undefined;
        // A sealed segment written to the end: move on (and delete it, when reading at the checkpoint).
        pos = { segment: pos.segment + 1, offset: 0 };
        if (!from) {
          reader = pos;
          dropSegmentsBefore(reader.segment);
        }
      }
      const size = sizes.get(pos.segment) ?? 0;
      const want = Math.min(maxBytes, size - pos.offset);
      const buf = Buffer.allocUnsafe(want);
      const got = readSync(readFd(pos.segment), buf, 0, want, pos.offset);
      const cut = buf.lastIndexOf(10, got - 1) + 1;
      if (cut === 0) throw new Error(`spool line longer than ${maxBytes} bytes at ${JSON.stringify(pos)}`);
      let lines = 0;
      for (let i = buf.indexOf(10); i !== -1 && i < cut; i = buf.indexOf(10, i + 1)) lines++;
      const body = buf.subarray(0, cut);
      return {
        body,
        get text() {
          return body.toString("utf8");
        },
        lines,
        bytes: cut,
        next: { segment: pos.segment, offset: pos.offset + cut },
      };
    },
    advance(next, lines) {
      reader = next;
      backlogLines = Math.max(0, backlogLines - lines);
      dropSegmentsBefore(reader.segment);
      checkpointDirty = true;
      saveCheckpoint(false);
    },
    depth: () => ({
      bytes: committedBytes() - reader.offset + pendingLen,
      lines: backlogLines + pendingLines,
    }),
    isFull: () => committedBytes() - reader.offset + pendingLen > opts.maxBytes,
    lastCommitError: () => commitError,
    async close() {
      await flush();
      saveCheckpoint(true);
      await fh.close();
      for (const fd of readFds.values()) closeSync(fd);
      readFds.clear();
    },
  };
}

function readCheckpoint(file: string): SpoolPosition | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const pos = JSON.parse(readFileSync(file, "utf8")) as SpoolPosition;
    if (Number.isInteger(pos.segment) && Number.isInteger(pos.offset)) return pos;
  } catch {
    // A torn checkpoint: start from the oldest segment; replays are harmless.
  }
  return undefined;
}

function truncateTornTail(file: string, size: number): number {
  if (size === 0 || !existsSync(file)) return size;
  const fd = openSync(file, "r+");
  try {
    const tail = Buffer.alloc(Math.min(size, 64 * 1024));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const lastNl = tail.lastIndexOf(10);
    const keep = lastNl === -1 ? size - tail.length : size - tail.length + lastNl + 1;
    if (keep !== size) writeFileSync(file, readFileSync(file).subarray(0, keep));
    return keep;
  } finally {
    closeSync(fd);
  }
}

function countLines(segDir: string, sizes: Map<number, number>, from: SpoolPosition): number {
  let lines = 0;
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const [seg, size] of sizes) {
    if (seg < from.segment || size === 0) continue;
    const fd = openSync(join(segDir, segName(seg)), "r");
    try {
      for (let pos = seg === from.segment ? from.offset : 0; pos < size; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
        if (n <= 0) break;
        for (let i = buf.indexOf(10); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
        pos += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  return lines;
}
