// Single-device mode, for a new user who registered a device with the CLI and wants to watch it come alive
// and get commissioned: `npm run simulate -- --device <id> --secret <secret>`. The device's registration comes
// from the registry (GET /v1/devices/:id → its page; `device` is the record), so the simulated controller
// reports at its registered interval from its registered position, with its own secret, and answers
// commands; nothing is registered or commissioned on its behalf.
import { deviceRecord } from "../services/contract/devices.ts";
import type { Logger } from "../services/lib/log.ts";
import type { Api, RetryPolicy } from "./api.ts";
import { fromRecord, type SimDevice } from "./plan.ts";

export type SingleDeviceResult = { ok: true; device: SimDevice } | { ok: false; message: string };

export async function fetchRegisteredDevice(
  api: Api,
  id: string,
  seed: string | number,
  log: Logger,
  retry: RetryPolicy,
): Promise<SingleDeviceResult> {
  const answer = await api.request({ method: "GET", path: `/v1/devices/${encodeURIComponent(id)}`, retry });
  if (!answer.ok) {
    switch (answer.status) {
      case 0:
        return { ok: false, message: `the command service at ${api.url} is unreachable (${answer.message})` };
      case 401:
        return {
          ok: false,
          message:
            "the API token was refused (401): set SIM_API_TOKEN, or run `npm start` once (it writes .data/secrets/simulator.token)",
        };
      case 404:
        return {
          ok: false,
          message: `device ${id} is not registered: register it first (npm run devices -- register …)`,
        };
      default:
        return {
          ok: false,
          message: `GET /v1/devices/${id}: ${answer.status} ${answer.error}: ${answer.message}`,
        };
    }
  }
  const record = deviceRecord.safeParse((answer.body as { device?: unknown } | undefined)?.device);
  if (!record.success) return { ok: false, message: `GET /v1/devices/${id}: no device record in the answer` };
  if (record.data.status === "decommissioned")
    log.warn({ deviceId: id }, "the device is decommissioned: the broker will refuse it");
  const device = fromRecord(record.data, seed);
  if (!device)
    return { ok: false, message: `device ${id}: district "${record.data.district}" is not on the city map` };
  return { ok: true, device };
}
