// Where the platform is: `npm start` writes `.data/platform.json` (command_url, mqtt_url, ws_url, influx_url,
// secrets_dir) at every start, and the simulators default to it when neither the environment nor a flag says
// otherwise (issue 3 design, "Platform bootstrap").
import { join } from "node:path";
import { z } from "zod";
import { setPath } from "./config.ts";

/** `.data/platform.json`, written by `npm start` at every start: where the platform it started listens. */
const platformFile = z.object({
  command_url: z.string().optional(),
  mqtt_url: z.string().optional(),
  secrets_dir: z.string().optional(),
});

/**
 * Config overrides from `.data/platform.json` for what neither the environment nor a flag sets, so that
 * `npm run simulate` in a second terminal finds the platform `npm start` runs, on whatever ports it took.
 */
export function platformDefaults(
  platform: unknown,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, unknown> {
  const p = platformFile.safeParse(platform);
  if (!p.success) return {};
  const out: Record<string, unknown> = {};
  if (!env.MQTT_URL && p.data.mqtt_url) setPath(out, "mqtt.url", p.data.mqtt_url);
  if (!env.REGISTRY_URL && p.data.command_url) setPath(out, "registry.url", p.data.command_url);
  if (!env.SIM_API_TOKEN_FILE && p.data.secrets_dir)
    setPath(out, "registry.tokenFile", join(p.data.secrets_dir, "simulator.token"));
  return out;
}

/** `over` on top of `base`, one level of sections deep (the shape of CLI and platform overrides). */
export function mergeOverrides(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null;
    out[k] = isObj(b) && isObj(v) ? { ...b, ...v } : v;
  }
  return out;
}
