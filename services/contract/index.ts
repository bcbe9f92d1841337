// The wire contract shared by the simulators, the broker, the ingest and the command service.
// Human-readable version: docs/contract.md.

export * from "./city.ts";
export * from "./devices.ts";
export * from "./fields.ts";
export * from "./readings.ts";
export * from "./reasons.ts";
export * from "./topics.ts";
export * from "./validate.ts";
