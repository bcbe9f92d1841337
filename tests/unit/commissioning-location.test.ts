// The location check: a position is in its district when that district's centre is the nearest, and in the
// city within 15 km of its centre; the simulators' fleet (400 m around each centre) always passes.
import { describe, expect, it } from "vitest";
import { checkLocation, distanceKm } from "../../services/command/commissioning/location.ts";
import { CITY, DISTRICTS } from "../../services/contract/city.ts";

describe("location", () => {
  it("measures great-circle distances", () => {
    expect(distanceKm({ lat: 33.573, lon: -7.59 }, { lat: 33.573, lon: -7.59 })).toBe(0);
    // One degree of latitude is about 111.2 km.
    expect(distanceKm({ lat: 33, lon: -7.59 }, { lat: 34, lon: -7.59 })).toBeCloseTo(111.2, 0);
  });

  it("passes every district's centre, and points 600 m around it", () => {
    for (const d of DISTRICTS) {
      expect(checkLocation({ district: d.name, lat: d.lat, lon: d.lon }).status).toBe("passed");
      for (let a = 0; a < 360; a += 45) {
        const r = 0.6 / 111.32;
        const p = {
          lat: d.lat + r * Math.cos((a * Math.PI) / 180),
          lon: d.lon + (r * Math.sin((a * Math.PI) / 180)) / Math.cos((d.lat * Math.PI) / 180),
        };
        expect(checkLocation({ district: d.name, ...p }).status, `${d.name} at ${a}°`).toBe("passed");
      }
    }
  });

  it("names the nearest district when the position lies in another", () => {
    const r = checkLocation({ district: "Anfa", lat: 33.56, lon: -7.57 });
    expect(r.status).toBe("failed");
    expect(r.detail).toMatch(
      /^33\.56000, -7\.57000 is nearest to Ben M'Sick's centre \(0 km\), Anfa's is [\d.]+ km away: correct the position or the district$/,
    );
    expect(r.data).toMatchObject({ nearest: "Ben M'Sick", nearest_km: 0 });
  });

  it("fails a position outside the city, e.g. swapped coordinates or another town", () => {
    expect(checkLocation({ district: "Anfa", lat: -7.65, lon: 33.59 }).detail).toContain("a wrong position?");
    const rabat = checkLocation({ district: "Anfa", lat: 34.02, lon: -6.84 });
    expect(rabat).toMatchObject({ status: "failed" });
    expect(rabat.detail).toContain(`from ${CITY.name}'s centre (more than 15 km)`);
  });
});
