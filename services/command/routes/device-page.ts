// GET /v1/devices/:id: the device's page of facts for the engineer and the operator: the record, how it is doing
// (liveness), its last reading, what the ingest rejected of it, its latest commissioning run, its credential.
// The page never fails because InfluxDB is down or slow: what could not be read is listed in `unavailable`.
import type { DatabaseSync } from "node:sqlite";
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { DeviceRecord } from "../../contract/devices.ts";
import type { ActivityStore } from "../../registry/activity.ts";
import type { CredentialStore } from "../../registry/credentials.ts";
import { requirePermission } from "../auth/guard.ts";
import type { Engine } from "../commissioning/engine.ts";
import type { ReadingsProbe } from "../commissioning/probe.ts";
import { commissioningRun } from "../commissioning/schema.ts";
import { errorResponses, notFound } from "../errors.ts";
import type { Clock } from "../liveness/clock.ts";
import { livenessOf } from "../liveness/rule.ts";
import { device, idParams, livenessState } from "./schemas.ts";

export type DevicePageOptions = {
  db: DatabaseSync;
  activity: ActivityStore;
  credentials: Pick<CredentialStore, "current">;
  engine: Pick<Engine, "store">;
  probe: ReadingsProbe;
  clock: Clock;
  silentAfterIntervals: number;
  /** How long to wait for InfluxDB before listing it as unavailable. */
  influxTimeoutMs?: number;
};

/** The reject window the page shows. */
const REJECTS_WINDOW_MS = 24 * 3600_000;
const LATEST_REJECTS = 5;
/** Tags and the envelope of a stored reading: not among its fields. */
const NOT_FIELDS = new Set(["time", "device_id", "district", "kind"]);

const livenessSchema = z.object({
  state: livenessState,
  online: z.boolean(),
  connected_at: z.string().nullable(),
  disconnected_at: z.string().nullable(),
  disconnect_reason: z.string().nullable(),
  last_seen_at: z.string().nullable(),
  last_reading_at: z
    .string()
    .nullable()
    .meta({ description: "When the ingest received the newest reading." }),
  last_reading_ts: z
    .string()
    .nullable()
    .meta({ description: "The newest reading's own time (device clock)." }),
  state_online: z.boolean().nullable().meta({ description: "The device's retained state, if seen." }),
});

export const devicePage = z
  .object({
    device,
    liveness: livenessSchema,
    last_reading: z.object({ time: z.string(), fields: z.record(z.string(), z.unknown()) }).nullable(),
    rejects: z
      .object({
        since: z.string(),
        total: z.number().int(),
        by_reason: z.record(z.string(), z.number().int()),
        latest: z.array(z.object({ at: z.string(), reason: z.string(), excerpt: z.string() })),
      })
      .nullable(),
    commissioning: commissioningRun.nullable(),
    credential: z.object({ generation: z.number().int(), created_at: z.string().nullable() }),
    unavailable: z
      .array(z.string())
      .optional()
      .meta({ description: "Parts that could not be read now (e.g. InfluxDB down), each with the reason." }),
  })
  .meta({ id: "DevicePage" });
export type DevicePage = z.infer<typeof devicePage>;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function buildDevicePage(opts: DevicePageOptions, d: DeviceRecord): Promise<DevicePage> {
  const now = opts.clock.now();
  const a = opts.activity.get(d.id);
  const ms = opts.influxTimeoutMs ?? 3000;
  const since = now - REJECTS_WINDOW_MS;
  const [reading, counts, latest] = await Promise.allSettled([
    within(opts.probe.latestReading(d.kind, d.id), ms),
    within(opts.probe.rejectsSince(d.id, since), ms),
    within(opts.probe.latestRejects(d.id, since, LATEST_REJECTS), ms),
  ]);
  const unavailable: string[] = [];
  const why = (r: PromiseRejectedResult) => `InfluxDB: ${(r.reason as Error).message}`;
  let last_reading: DevicePage["last_reading"] = null;
  if (reading.status === "rejected") unavailable.push(`last_reading (${why(reading)})`);
  else if (reading.value) {
    const fields = Object.fromEntries(
      Object.entries(reading.value).filter(([k, v]) => !NOT_FIELDS.has(k) && v !== null),
    );
    last_reading = { time: new Date(reading.value.time).toISOString(), fields };
  }
  let rejects: DevicePage["rejects"] = null;
  if (counts.status === "rejected") unavailable.push(`rejects (${why(counts)})`);
  else if (latest.status === "rejected") unavailable.push(`rejects (${why(latest)})`);
  else
    rejects = {
      since: new Date(since).toISOString(),
      ...counts.value,
      latest: latest.value.map(({ at, reason, excerpt }) => ({ at, reason, excerpt })),
    };
  const cred = opts.credentials.current(d.id);
  return {
    device: d,
    liveness: {
      state: livenessOf(a, d.report_interval_s, now, opts.silentAfterIntervals),
      online: a?.online === 1,
      connected_at: a?.connected_at ?? null,
      disconnected_at: a?.disconnected_at ?? null,
      disconnect_reason: a?.disconnect_reason ?? null,
      last_seen_at: a?.last_seen_at ?? null,
      last_reading_at: a?.last_reading_at ?? null,
      last_reading_ts: a?.last_reading_ts ?? null,
      state_online: a?.state_online === null || a?.state_online === undefined ? null : a.state_online === 1,
    },
    last_reading,
    rejects,
    commissioning: opts.engine.store.latest(d.id) ?? null,
    credential: { generation: cred?.generation ?? 0, created_at: cred?.created_at ?? null },
    ...(unavailable.length > 0 ? { unavailable } : {}),
  };
}

export function devicePageRoutes(opts: DevicePageOptions): FastifyPluginAsync {
  const byId = opts.db.prepare("SELECT * FROM devices WHERE id = ?");
  return async (app) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      "/v1/devices/:id",
      {
        preValidation: requirePermission("devices:read"),
        schema: {
          tags: ["devices"],
          summary: "A device's page",
          description:
            "Its record, liveness, last reading, the ingest's rejects of the last 24 h, its latest commissioning " +
            "run and its credential's generation. Parts that could not be read (InfluxDB down) are listed in `unavailable`.",
          params: idParams,
          response: { 200: devicePage, ...errorResponses(404) },
        },
      },
      async (req) => {
        const d = byId.get(req.params.id) as DeviceRecord | undefined;
        if (!d) throw notFound("device", req.params.id);
        return buildDevicePage(opts, d);
      },
    );
  };
}
