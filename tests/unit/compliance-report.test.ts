// The compliance answer's totals (services/command/schedules/compliance-report.ts): percentages, the order of
// lamps and deviations, and the bounded list of deviations when there are more than it keeps.
import { describe, expect, it } from "vitest";
import {
  createReportBuilder,
  type DeviationOut,
  percent,
  worstFirst,
} from "../../services/command/schedules/compliance-report.ts";
import type { Deviation } from "../../services/schedule/compliance.ts";

const T0 = Date.parse("2026-10-17T18:00:00Z");
const dev = (over: Partial<Deviation> & { samples: number }): Deviation => ({
  kind: "wrong_level",
  fromMs: T0,
  toMs: T0 + (over.samples - 1) * 600_000,
  expectedPct: 40,
  reportedMin: 100,
  reportedMax: 100,
  ...over,
});

describe("percent", () => {
  it("two decimals, null for nothing", () => {
    expect(percent(2, 3)).toBe(66.67);
    expect(percent(1, 3)).toBe(33.33);
    expect(percent(114, 144)).toBe(79.17);
    expect(percent(5, 5)).toBe(100);
    expect(percent(0, 0)).toBeNull();
  });
});

describe("worst first", () => {
  const out = (device_id: string, samples: number, reported: number, from = "2026-10-17T18:00:00.000Z") =>
    ({
      device_id,
      kind: "wrong_level",
      from,
      to: from,
      expected_pct: 40,
      reported_min: reported,
      reported_max: reported,
      samples,
    }) satisfies DeviationOut;

  it("longest, then furthest from the schedule, then earliest, then by lamp", () => {
    const list = [
      out("b", 3, 50),
      out("a", 3, 50, "2026-10-17T19:00:00.000Z"),
      out("c", 3, 100),
      out("d", 10, 45),
      out("a", 3, 50),
    ];
    expect(
      list.sort(worstFirst).map((d) => [d.device_id, d.samples, d.reported_max, d.from.slice(11, 16)]),
    ).toEqual([
      ["d", 10, 45, "18:00"],
      ["c", 3, 100, "18:00"],
      ["a", 3, 50, "18:00"],
      ["b", 3, 50, "18:00"],
      ["a", 3, 50, "19:00"],
    ]);
  });
});

describe("the builder", () => {
  it("adds lamps up; lamps least compliant first; no_data apart", () => {
    const b = createReportBuilder(4);
    b.addLamp("sl-2", {
      samples: 144,
      compliant: 114,
      deviations: [dev({ kind: "burning_by_day", samples: 30 })],
    });
    b.addNoData("sl-9");
    b.addLamp("sl-1", { samples: 144, compliant: 144, deviations: [] });
    b.addLamp("sl-3", {
      samples: 144,
      compliant: 109,
      deviations: [
        dev({ samples: 35 }),
        dev({ kind: "dark", samples: 1, expectedPct: 100, reportedMin: 0, reportedMax: 0 }),
      ],
    });
    const r = b.finish();
    expect(r).toMatchObject({
      lamps: 4,
      samples: 432,
      compliant: 367,
      compliance_pct: 84.95,
      deviations_by_kind: { burning_by_day: 1, dark: 1, wrong_level: 1 },
      deviations_total: 3,
      no_data: ["sl-9"],
    });
    expect(r.per_lamp).toEqual([
      { device_id: "sl-3", samples: 144, compliant: 109, compliance_pct: 75.69, deviations: 2 },
      { device_id: "sl-2", samples: 144, compliant: 114, compliance_pct: 79.17, deviations: 1 },
      { device_id: "sl-1", samples: 144, compliant: 144, compliance_pct: 100, deviations: 0 },
    ]);
    expect(r.deviations.map((d) => [d.device_id, d.kind, d.samples])).toEqual([
      ["sl-3", "wrong_level", 35],
      ["sl-2", "burning_by_day", 30],
      ["sl-3", "dark", 1],
    ]);
    expect(r.deviations[1]).toEqual({
      device_id: "sl-2",
      kind: "burning_by_day",
      from: "2026-10-17T18:00:00.000Z",
      to: "2026-10-17T22:50:00.000Z",
      expected_pct: 40,
      reported_min: 100,
      reported_max: 100,
      samples: 30,
    });
  });

  it("keeps only the worst deviations, counts them all", () => {
    const b = createReportBuilder(300, 5);
    // 300 lamps with one deviation each of 1…300 samples: the five longest are 300…296.
    for (let i = 1; i <= 300; i++)
      b.addLamp(`sl-${i}`, { samples: 400, compliant: 400 - i, deviations: [dev({ samples: i })] });
    const r = b.finish();
    expect(r.deviations_total).toBe(300);
    expect(r.deviations.map((d) => d.samples)).toEqual([300, 299, 298, 297, 296]);
    expect(r.per_lamp[0]).toMatchObject({ device_id: "sl-300", compliance_pct: 25 });
  });
});
