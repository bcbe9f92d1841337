import { describe, expect, it } from "vitest";
import { parseServerVersion } from "../../services/lib/influx/detect.ts";

describe("parseServerVersion", () => {
  it.each([
    ["1.6.7~rc0", "OSS", { major: 1, version: "1.6.7~rc0", build: "OSS" }],
    ["1.8.10", "OSS", { major: 1, version: "1.8.10", build: "OSS" }],
    ["v2.7.11", "OSS", { major: 2, version: "2.7.11", build: "OSS" }],
    ["2.0.0-beta.16", null, { major: 2, version: "2.0.0-beta.16" }],
    ["3.2.0", "Core", { major: 3, version: "3.2.0", build: "Core" }],
    [" 3.0.0-nightly ", undefined, { major: 3, version: "3.0.0-nightly" }],
  ])("%s (%s)", (version, build, expected) => {
    expect(parseServerVersion(version, build)).toEqual(expected);
  });

  it.each([[null], [undefined], [""], ["unknown"], ["dev"], ["0.13.0"], ["4.0.0"], ["v"], ["2"]])(
    "rejects %j",
    (version) => {
      expect(parseServerVersion(version)).toBeUndefined();
    },
  );
});
