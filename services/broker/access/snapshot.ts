// The access cache's snapshot file: the access list as last read from the feed, so that a restarted broker admits
// known principals while the command service is down. It holds credential hashes, so it is written 0600, through a
// temporary file and a rename (never half written), one write at a time, off the event loop's critical path.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { type AccessEntry, accessEntry } from "../../contract/access.ts";

const snapshotSchema = z.object({ version: z.number().int(), entries: z.array(accessEntry) });
export type AccessSnapshot = z.infer<typeof snapshotSchema>;

/** The snapshot at `path`; undefined when there is none. Throws when it is unreadable or malformed. */
export function readSnapshot(path: string): AccessSnapshot | undefined {
  if (!existsSync(path)) return undefined;
  // Validated like the feed: a tampered or truncated file must not admit anyone it does not name properly.
  return snapshotSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}

export type SnapshotWriter = {
  /** Queues a write of this state (serialised now, written after any write in progress). */
  save(version: number, entries: readonly AccessEntry[]): Promise<void>;
  /** Resolves when every queued write has finished. */
  flush(): Promise<void>;
};

export function snapshotWriter(path: string): SnapshotWriter {
  let writing: Promise<void> = Promise.resolve();
  return {
    save(version, entries) {
      const body = JSON.stringify({ version, entries });
      const write = writing.then(async () => {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(`${path}.tmp`, body, { mode: 0o600 });
        await rename(`${path}.tmp`, path);
      });
      writing = write.catch(() => undefined);
      return write;
    },
    flush: () => writing,
  };
}
