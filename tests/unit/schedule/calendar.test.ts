// Calendar rules (TALQ calendar): first matching rule wins, every condition of a rule must hold, else the default.
import { describe, expect, it } from "vitest";
import type { CalendarRule } from "../../../services/contract/schedule.ts";
import { matchNight } from "../../../services/schedule/calendar.ts";

const cal = (rules: CalendarRule[]) => ({ rules, default_program: "std" });

describe("matchNight", () => {
  const rules: CalendarRule[] = [
    { name: "match night", program: "full", dates: ["2026-11-28", "2026-12-05"] },
    { name: "Ramadan", program: "late", from: "2026-02-17", to: "2026-03-19" },
    {
      name: "Ramadan weekend",
      program: "never",
      from: "2026-02-17",
      to: "2026-03-19",
      weekdays: ["fri", "sat"],
    },
    { name: "weekend", program: "weekend", weekdays: ["fri", "sat"] },
  ];

  it("the first matching rule wins, in list order", () => {
    // 2026-11-28 is a Saturday: both "match night" and "weekend" match; the first one wins.
    expect(matchNight(cal(rules), "2026-11-28")).toEqual({
      programId: "full",
      ruleIndex: 0,
      ruleName: "match night",
    });
    // Friday 2026-02-20 in Ramadan: "Ramadan" (index 1) comes before the more specific index 2.
    expect(matchNight(cal(rules), "2026-02-20")).toMatchObject({ programId: "late", ruleIndex: 1 });
    expect(matchNight(cal(rules), "2026-11-27")).toMatchObject({ programId: "weekend", ruleIndex: 3 });
  });

  it("falls back to the default program with no rule index", () => {
    expect(matchNight(cal(rules), "2026-11-30")).toEqual({
      programId: "std",
      ruleIndex: null,
      ruleName: null,
    });
  });

  it("date ranges are inclusive at both ends", () => {
    const r = cal([{ program: "x", from: "2026-02-17", to: "2026-03-19" }]);
    expect(matchNight(r, "2026-02-16").programId).toBe("std");
    expect(matchNight(r, "2026-02-17").programId).toBe("x");
    expect(matchNight(r, "2026-03-19").programId).toBe("x");
    expect(matchNight(r, "2026-03-20").programId).toBe("std");
    expect(matchNight(cal([{ program: "x", from: "2026-06-01" }]), "2030-01-01").programId).toBe("x");
    expect(matchNight(cal([{ program: "x", to: "2026-06-01" }]), "2026-06-02").programId).toBe("std");
  });

  it("all conditions of a rule must hold (a range and weekdays)", () => {
    const r = cal([{ program: "x", from: "2026-02-17", to: "2026-03-19", weekdays: ["fri"] }]);
    expect(matchNight(r, "2026-02-20").programId).toBe("x"); // Friday in range
    expect(matchNight(r, "2026-02-21").programId).toBe("std"); // Saturday in range
    expect(matchNight(r, "2026-03-20").programId).toBe("std"); // Friday out of range
  });

  it("nth weekday of the month, including the last one and a month restriction", () => {
    const first = cal([{ program: "x", nth_weekday: { n: 1, weekday: "mon" } }]);
    expect(matchNight(first, "2026-06-01").programId).toBe("x"); // Monday 1 June
    expect(matchNight(first, "2026-06-08").programId).toBe("std");
    const third = cal([{ program: "x", nth_weekday: { n: 3, weekday: "sat" } }]);
    expect(matchNight(third, "2026-11-21").programId).toBe("x"); // Saturdays: 7, 14, 21
    expect(matchNight(third, "2026-11-14").programId).toBe("std");
    const last = cal([{ program: "x", nth_weekday: { n: -1, weekday: "sat" } }]);
    expect(matchNight(last, "2026-11-28").programId).toBe("x");
    expect(matchNight(last, "2026-11-21").programId).toBe("std");
    expect(matchNight(last, "2026-02-28").programId).toBe("x"); // last Saturday of a 28-day February
    const fifth = cal([{ program: "x", nth_weekday: { n: 5, weekday: "sun" } }]);
    expect(matchNight(fifth, "2026-11-29").programId).toBe("x"); // 1, 8, 15, 22, 29
    const inDec = cal([{ program: "x", nth_weekday: { n: -1, weekday: "thu", months: [12] } }]);
    expect(matchNight(inDec, "2026-12-31").programId).toBe("x");
    expect(matchNight(inDec, "2026-11-26").programId).toBe("std"); // last Thursday, but November
  });

  it("fixed dates", () => {
    const r = cal([{ program: "x", dates: ["2026-07-30", "2026-11-18"] }]);
    expect(matchNight(r, "2026-11-18").programId).toBe("x");
    expect(matchNight(r, "2026-11-19").programId).toBe("std");
  });

  it("refuses a malformed night", () => {
    expect(() => matchNight(cal([]), "28/11/2026")).toThrow(/night: must be a date YYYY-MM-DD/);
  });
});
