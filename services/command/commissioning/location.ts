// The location check, pure: is the registered position in the registered district? The city's districts are
// known only by approximate centres (contract/city.ts), so "in the district" means "its centre is the nearest
// one"; and the city is a 15 km disc around its centre. A failure tells the engineer which district the
// position is nearest to, so that either the position or the district gets corrected (PATCH /v1/devices/:id).
import { CITY, DISTRICTS } from "../../contract/city.ts";
import { type CheckOutcome, failed, fmt, passed } from "./checks.ts";

export const CITY_RADIUS_KM = 15;

/** Great-circle distance, km (haversine; plenty accurate at city scale). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(h));
}

export function checkLocation(device: { district: string; lat: number; lon: number }): CheckOutcome {
  const fromCity = distanceKm(device, CITY);
  const byDistance = DISTRICTS.map((d) => ({ name: d.name as string, km: distanceKm(device, d) })).sort(
    (a, b) => a.km - b.km,
  );
  const nearest = byDistance[0] as { name: string; km: number };
  const own = byDistance.find((d) => d.name === device.district);
  const data = {
    lat: device.lat,
    lon: device.lon,
    city_km: Number(fromCity.toFixed(2)),
    nearest: nearest.name,
    nearest_km: Number(nearest.km.toFixed(2)),
    district_km: own ? Number(own.km.toFixed(2)) : null,
  };
  const at = `${device.lat.toFixed(5)}, ${device.lon.toFixed(5)}`;
  if (fromCity > CITY_RADIUS_KM)
    return failed(
      `${at} is ${fmt(fromCity)} km from ${CITY.name}'s centre (more than ${CITY_RADIUS_KM} km): a wrong position?`,
      data,
    );
  if (!own) return failed(`district ${device.district} is not one of ${CITY.name}'s`, data);
  if (nearest.name !== device.district)
    return failed(
      `${at} is nearest to ${nearest.name}'s centre (${fmt(nearest.km)} km), ${device.district}'s is ${fmt(own.km)} km away: correct the position or the district`,
      data,
    );
  return passed(
    `${at} is in ${device.district} (${fmt(own.km)} km from its centre, ${fmt(fromCity)} km from the city centre)`,
    data,
  );
}
