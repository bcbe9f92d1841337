// Node flags the ingest runs with, wherever it is started (npm script, npm start, docker-compose, benchmark).
// A heap limit of 256 MB keeps V8 from letting garbage pile up towards its default multi-GB limit: the ingest's
// live heap is under 100 MB even with millions of lines spooled (the backlog is on disk), and with this limit its
// RSS stays under 300 MB at full rate, where it otherwise reached ~400 MB (docs/benchmarks.md).
export const INGEST_NODE_FLAGS: readonly string[] = ["--max-old-space-size=256"];
