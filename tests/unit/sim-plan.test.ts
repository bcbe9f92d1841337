// Fleet generation: deterministic from the seed, readable ids matching the contract, registrable records.
import { describe, expect, it } from "vitest";
import { DISTRICTS } from "../../services/contract/city.ts";
import { deviceRegistration } from "../../services/contract/devices.ts";
import { DEVICE_ID_PATTERN } from "../../services/contract/topics.ts";
import { deviceId, districtSlug, planFleet, toRegistration } from "../../simulators/plan.ts";
import { hashSeed, mulberry32, rngFor } from "../../simulators/prng.ts";

const DEMO = { seed: "casablanca", streetlights: 240, airquality: 40, traffic: 40, intervalS: 10 };

describe("seeded PRNG", () => {
  it("is deterministic, uniform-looking and seeded per purpose", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(rngFor(1, "x", "noise")()).not.toBe(rngFor(1, "x", "faults")());
    expect(hashSeed("a")).not.toBe(hashSeed("b"));
  });
});

describe("planFleet", () => {
  const fleet = planFleet(DEMO);

  it("builds the demo fleet with readable ids that match the contract's pattern", () => {
    expect(fleet).toHaveLength(320);
    const ids = new Set(fleet.map((d) => d.id));
    expect(ids.size).toBe(320);
    for (const id of ids) expect(id).toMatch(DEVICE_ID_PATTERN);
    expect(ids).toContain("sl-anfa-0001");
    expect(ids).toContain("aq-maarif-0001");
    expect(ids).toContain("tr-ain-sebaa-0001");
    expect(ids).toContain("sl-ben-msick-0015");
    expect(fleet.filter((d) => d.kind === "streetlight")).toHaveLength(240);
  });

  it("is the same for the same seed and grows without changing existing devices", () => {
    expect(planFleet(DEMO)).toEqual(fleet);
    const bigger = planFleet({ ...DEMO, streetlights: 300 });
    for (const d of fleet) expect(bigger.find((b) => b.id === d.id)).toEqual(d);
    expect(planFleet({ ...DEMO, seed: "other" })[0]?.lat).not.toBe(fleet[0]?.lat);
  });

  it("spreads devices over every district, within a few hundred metres of its centre", () => {
    for (const district of DISTRICTS) {
      const here = fleet.filter((d) => d.district === district.name);
      expect(here.length).toBeGreaterThanOrEqual(15);
      for (const d of here) {
        const dy = (d.lat - district.lat) * 111_320;
        const dx = (d.lon - district.lon) * 111_320 * Math.cos((district.lat * Math.PI) / 180);
        expect(Math.hypot(dx, dy)).toBeLessThanOrEqual(401);
      }
    }
  });

  it("gives streetlights LED ratings and the legacy sodium system they replaced", () => {
    const legacyFor: Record<number, number[]> = { 180: [60, 75], 295: [90, 100, 120], 460: [130, 150] };
    for (const d of fleet) {
      if (d.kind !== "streetlight") continue;
      expect(legacyFor[d.legacyWatts]).toContain(d.ledWatts);
    }
    const legacy = new Set(fleet.flatMap((d) => (d.kind === "streetlight" ? [d.legacyWatts] : [])));
    expect([...legacy].sort()).toEqual([180, 295, 460]);
  });

  it("jitters the report phase so that the fleet does not publish in lockstep", () => {
    const phases = new Set(fleet.map((d) => d.phaseMs));
    expect(phases.size).toBeGreaterThan(300);
    for (const d of fleet) expect(d.phaseMs).toBeLessThan(d.intervalS * 1000);
  });

  it("produces registrations the registry's schema accepts", () => {
    for (const d of fleet) {
      const reg = toRegistration(d);
      const parsed = deviceRegistration.safeParse(reg);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      expect(reg.installed_at <= "2024-12-31").toBe(true);
    }
  });

  it("prefixes ids so that tests can isolate their devices", () => {
    const ids = planFleet({ ...DEMO, streetlights: 1, airquality: 1, traffic: 1, idPrefix: "t-9f3a" }).map(
      (d) => d.id,
    );
    expect(ids).toEqual(["t-9f3a-sl-anfa-0001", "t-9f3a-aq-anfa-0001", "t-9f3a-tr-anfa-0001"]);
    expect(deviceId("x-", "traffic", "Sidi Bernoussi", 12)).toBe("x-tr-sidi-bernoussi-0012");
    expect(districtSlug("Ben M'Sick")).toBe("ben-msick");
  });
});
