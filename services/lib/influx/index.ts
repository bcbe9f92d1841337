// Public surface of services/lib/influx: import from here, not from the files behind it.
export { connectInflux, type InfluxClient, type PingResult } from "./client.ts";
export { type InfluxConfig, influxConfigSchema, influxEnv } from "./config.ts";
export type { EnsureResult } from "./database.ts";
export {
  type DetectFailure,
  type DetectResult,
  detectServer,
  parseServerVersion,
  type ServerInfo,
} from "./detect.ts";
export { InfluxHttpError, InfluxUnreachableError } from "./errors.ts";
export type { Major } from "./http.ts";
export { type InfluxSeries, type QueryParams, type Row, rowsOf } from "./query.ts";
export type { Precision } from "./write.ts";
