// Casablanca's arrondissements with approximate centres (shared/DOMAIN.md: "good enough for a simulated fleet").
// The registry accepts only these district names; the simulators place their fleet around these centres.
export const CITY = { name: "Casablanca", timeZone: "Africa/Casablanca", lat: 33.573, lon: -7.59 } as const;

export const DISTRICTS = [
  { name: "Anfa", lat: 33.59, lon: -7.65 },
  { name: "Maarif", lat: 33.58, lon: -7.63 },
  { name: "Sidi Belyout", lat: 33.6, lon: -7.61 },
  { name: "Mers Sultan", lat: 33.585, lon: -7.605 },
  { name: "Al Fida", lat: 33.566, lon: -7.59 },
  { name: "Ain Sebaa", lat: 33.6, lon: -7.53 },
  { name: "Hay Mohammadi", lat: 33.59, lon: -7.57 },
  { name: "Roches Noires", lat: 33.6, lon: -7.575 },
  { name: "Sidi Bernoussi", lat: 33.61, lon: -7.5 },
  { name: "Sidi Moumen", lat: 33.58, lon: -7.51 },
  { name: "Ben M'Sick", lat: 33.56, lon: -7.57 },
  { name: "Sidi Othmane", lat: 33.555, lon: -7.556 },
  { name: "Moulay Rachid", lat: 33.56, lon: -7.53 },
  { name: "Ain Chock", lat: 33.54, lon: -7.6 },
  { name: "Hay Hassani", lat: 33.56, lon: -7.67 },
  { name: "Sidi Maarouf", lat: 33.53, lon: -7.64 },
] as const;

export type DistrictName = (typeof DISTRICTS)[number]["name"];
export const DISTRICT_NAMES = DISTRICTS.map((d) => d.name) as readonly DistrictName[];
