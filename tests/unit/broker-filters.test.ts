// MQTT 3.1.1 topic filters (section 4.7): validity, and coverage ("a requested filter is equal to or narrower
// than an allowed one"), which the broker's ACLs for services rely on.
import { describe, expect, it } from "vitest";
import { coveredByAny, covers, hasWildcard, isValidFilter } from "../../services/broker/access/filters.ts";
import { SERVICE_ACL } from "../../services/contract/access.ts";

describe("isValidFilter [MQTT-4.7.1]", () => {
  it.each(["#", "+", "a/#", "a/+/b", "+/+", "/", "a//b", "$SYS/#", "city/v1/+/+/telemetry"])(
    "accepts %s",
    (f) => expect(isValidFilter(f)).toBe(true),
  );

  it.each(["", "a#", "a/#/b", "#/a", "a+", "a/b+/c", "+a", "a/\u0000"])("refuses %j", (f) =>
    expect(isValidFilter(f)).toBe(false),
  );

  it("tells wildcards apart", () => {
    expect(hasWildcard("a/+/b")).toBe(true);
    expect(hasWildcard("a/#")).toBe(true);
    expect(hasWildcard("city/v1/streetlight/sl-1/cmd")).toBe(false);
  });
});

describe("covers(allowed, requested)", () => {
  const yes: [string, string][] = [
    ["a/b", "a/b"],
    ["a/+", "a/b"],
    ["a/+", "a/+"],
    ["a/+", "a/"], // '+' matches an empty level [MQTT-4.7.1-3]
    ["a/#", "a"], // '#' includes the parent level [MQTT-4.7.1-2]
    ["a/#", "a/b/c"],
    ["a/#", "a/+/c"],
    ["a/#", "a/#"],
    ["#", "a/b/#"],
    ["+/+/+", "a/+/c"],
    ["city/v1/+/+/state", "city/v1/streetlight/sl-1/state"],
    ["city/v1/+/+/state", "city/v1/streetlight/+/state"],
    ["platform/v1/presence/#", "platform/v1/presence/+/+"],
    ["$SYS/#", "$SYS/broker/uptime"],
  ];
  const no: [string, string][] = [
    ["a/b", "a/c"],
    ["a/b", "a/+"], // a literal level does not allow '+'
    ["a/+", "a/b/c"],
    ["a/+", "a"],
    ["a/+", "a/#"],
    ["a/b", "a/b/c"],
    ["a/b/c", "a/b"],
    ["a/#", "b"],
    ["city/v1/+/+/state", "city/v1/+/+/+"],
    ["city/v1/+/+/state", "city/v1/#"],
    ["city/v1/+/+/telemetry", "#"],
    ["platform/v1/presence/#", "platform/v1/#"],
    // Filters starting with a wildcard never match '$' topics [MQTT-4.7.2-1].
    ["#", "$SYS/broker/uptime"],
    ["+/#", "$SYS/#"],
    ["+/broker/uptime", "$SYS/broker/uptime"],
  ];
  it.each(yes)("%s covers %s", (a, r) => expect(covers(a, r)).toBe(true));
  it.each(no)("%s does not cover %s", (a, r) => expect(covers(a, r)).toBe(false));

  it("a topic name is covered exactly when the filter matches it", () => {
    expect(coveredByAny(["x/+/z", "q/#"], "q/r/s")).toBe(true);
    expect(coveredByAny(["x/+/z", "q/#"], "x/y/y")).toBe(false);
    expect(coveredByAny([], "a")).toBe(false);
  });

  it("the services' ACLs cover what they subscribe to, and no more", () => {
    const ingest = SERVICE_ACL.service_ingest.subscribe;
    expect(coveredByAny(ingest, "city/v1/+/+/telemetry")).toBe(true);
    expect(coveredByAny(ingest, "city/v1/traffic/+/telemetry")).toBe(true);
    expect(coveredByAny(ingest, "city/v1/+/+/cmd")).toBe(false);
    expect(coveredByAny(ingest, "city/v1/#")).toBe(false);
    const command = SERVICE_ACL.service_command.subscribe;
    expect(coveredByAny(command, "platform/v1/presence/+/+")).toBe(true);
    expect(coveredByAny(command, "city/v1/+/+/telemetry")).toBe(false);
    expect(coveredByAny(SERVICE_ACL.service_broker.subscribe, "#")).toBe(false);
  });
});
