// Node flags the ingest runs with, wherever it is started (npm script, npm start, docker-compose, benchmark).
// A 256 MB old space keeps V8 from letting garbage pile up towards its default multi-GB limit (the ingest's live
// heap is under 100 MB even with millions of lines spooled: the backlog is on disk), and 16 MB semi-spaces keep the
// young generation from growing past that. Measured: RSS ~210–250 MB at full rate instead of 330–400 MB, for a few
// per cent more CPU in garbage collection (docs/benchmarks.md).
export const INGEST_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16", "--max-old-space-size=256"];
