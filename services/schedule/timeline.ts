// The schedule timeline API (design issue4.md, part A): a lamp's program level from its calendar document
// (lamp.ts) and the level the platform expects from its delivery history (expected.ts). Kept as one entry point
// so callers import the timeline from one place.

export {
  type ExpectedSource,
  type ExpectedTimeline,
  type ExpectedTimelineInput,
  expectedTimeline,
  type OverrideSpan,
} from "./expected.ts";
export {
  createLampSchedule,
  type LampSchedule,
  type LampScheduleDetail,
  type LampSwitch,
  MAX_NIGHTS_PER_QUERY,
} from "./lamp.ts";
