// Behaviour profiles shared by the models: the diurnal traffic curve (which the air-quality sensors also
// breathe), the district characters, and the weather. Shapes are plausible for Casablanca, not measured:
// morning and evening rush hours, a lively late evening, a dip during Friday's midday (Jumu'ah) prayer,
// and a Saturday–Sunday weekend.
import type { DistrictName } from "../services/contract/city.ts";
import type { LocalTime } from "./localtime.ts";

export type DistrictProfile = {
  /** Relative traffic volume (1 = typical). */
  traffic: number;
  /** Share of heavy goods vehicles among counted vehicles. */
  trucks: number;
  /** 0–1, nearness to the ocean: damper air and sea salt in PM10. */
  coast: number;
  /** Urban background PM2.5 without local traffic, µg/m³. */
  pm25Background: number;
};

const central = { traffic: 1.25, trucks: 0.05, coast: 0.5, pm25Background: 9 };
const residential = { traffic: 0.85, trucks: 0.06, coast: 0.1, pm25Background: 10 };
const industrial = { traffic: 1.0, trucks: 0.16, coast: 0.6, pm25Background: 13 };

export const DISTRICT_PROFILES: Record<DistrictName, DistrictProfile> = {
  Anfa: { ...central, coast: 1 },
  Maarif: central,
  "Sidi Belyout": { ...central, coast: 0.9 },
  "Mers Sultan": central,
  "Al Fida": residential,
  "Ain Sebaa": industrial,
  "Hay Mohammadi": { ...industrial, trucks: 0.1 },
  "Roches Noires": { ...industrial, coast: 0.9 },
  "Sidi Bernoussi": industrial,
  "Sidi Moumen": { ...residential, pm25Background: 12 },
  "Ben M'Sick": residential,
  "Sidi Othmane": residential,
  "Moulay Rachid": { ...residential, pm25Background: 11 },
  "Ain Chock": residential,
  "Hay Hassani": { ...residential, coast: 0.4 },
  "Sidi Maarouf": { ...residential, traffic: 1.1, trucks: 0.08 },
};

const gauss = (x: number, mu: number, sigma: number) => Math.exp(-0.5 * ((x - mu) / sigma) ** 2);
const rise = (x: number, at: number, width: number) => 1 / (1 + Math.exp(-(x - at) / width));
/** Late-evening bump that carries on past midnight. */
const evening = (h: number, mu: number, sigma: number) => gauss(h, mu, sigma) + gauss(h + 24, mu, sigma);

/**
 * Traffic intensity relative to a weekday rush hour (≈ 1 at the peaks, ≈ 0.05 at 03:00), before the
 * district factor. Weekdays 0 = Sunday … 6 = Saturday.
 */
export function trafficIntensity(t: LocalTime): number {
  const h = t.hour;
  switch (t.weekday) {
    case 6:
      return 0.06 + 0.55 * gauss(h, 11.5, 2.2) + 0.6 * gauss(h, 18.5, 2) + 0.35 * evening(h, 22, 1.6);
    case 0:
      return 0.05 + 0.4 * gauss(h, 12.5, 2.5) + 0.55 * gauss(h, 19, 2) + 0.25 * evening(h, 22, 1.6);
    default: {
      const plateau = 0.55 * rise(h, 10, 0.7) * rise(-h, -16.5, 0.7);
      const day =
        0.05 + 0.95 * gauss(h, 8.3, 1) + plateau + 0.95 * gauss(h, 18.2, 1.3) + 0.3 * evening(h, 21.5, 1.8);
      // Friday: the streets empty during the midday prayer (Jumu'ah, about 13:00–14:00 local time).
      return t.weekday === 5 ? day * (1 - 0.55 * gauss(h, 13.3, 0.5)) : day;
    }
  }
}

/** Ambient temperature in °C: mild oceanic climate, ≈ 14 °C in late January to ≈ 23 °C in August. */
export function ambientTempC(t: LocalTime): number {
  const seasonal = 18.5 - 4.5 * Math.cos((2 * Math.PI * (t.dayOfYear - 30)) / 365);
  return seasonal + 4 * Math.cos((2 * Math.PI * (t.hour - 14.5)) / 24);
}

/** Relative humidity in %: humid nights from the sea, drier afternoons. */
export function relativeHumidityPct(t: LocalTime, coast: number): number {
  return 72 + 4 * coast - 12 * Math.cos((2 * Math.PI * (t.hour - 14.5)) / 24);
}
