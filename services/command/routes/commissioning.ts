// Commissioning over HTTP: start or re-run a device's checks, read the latest run or all of them, sign off
// (one device or a fleet), send identify. Thin controllers over the engine (commissioning/engine.ts).
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { commandAck } from "../../contract/commands.ts";
import type { DeviceRecord } from "../../contract/devices.ts";
import { isUnusable, usable } from "../../registry/lifecycle.ts";
import { principalOf, requirePermission } from "../auth/guard.ts";
import type { Engine } from "../commissioning/engine.ts";
import { commissioningRun } from "../commissioning/schema.ts";
import type { DeviceMqtt } from "../device-mqtt.ts";
import { ApiError, conflict, type ErrorCode, errorResponses, notFound } from "../errors.ts";
import { lifecycleError } from "./devices.ts";
import { device, idParams } from "./schemas.ts";

export type CommissioningRoutesOptions = {
  engine: Engine;
  mqtt: Pick<DeviceMqtt, "sendCommand">;
  ackTimeoutS: number;
  /** Devices became commissioned (the registry changed). */
  changed(ids: string[]): void;
};

/** Most devices one fleet request may name. */
export const MAX_FLEET = 1000;

const tags = ["commissioning"];
const ids = z.array(z.string().min(1).max(64)).min(1).max(MAX_FLEET);
const signOffBody = z.object({ note: z.string().max(1000).optional() }).optional();
const identifyReply = z.object({ command_id: z.string(), ack: commandAck });

/** A refused start or sign-off (engine.ts StartResult, registry/commissioning.ts SignOff) as the API's error. */
function refusal(id: string, r: { reason: ErrorCode; message: string }): ApiError {
  return r.reason === "not_found" ? notFound("device", id) : conflict(r.reason, r.message);
}

export function commissioningRoutes(opts: CommissioningRoutesOptions): FastifyPluginAsync {
  const { engine } = opts;
  const store = engine.store;
  const run = requirePermission("commissioning:run");
  const read = requirePermission("devices:read");
  const signoff = requirePermission("commissioning:signoff");

  return async (app) => {
    const r = app.withTypeProvider<ZodTypeProvider>();

    r.post(
      "/v1/devices/:id/commissioning",
      {
        preValidation: run,
        schema: {
          tags,
          summary: "Start (or re-run) a device's commissioning",
          description:
            "Starts the checks for the device's kind and answers at once with the run; follow it with GET. " +
            "Refused while a run is in progress (409 run_in_progress) and for a decommissioned device.",
          params: idParams,
          response: { 202: commissioningRun, ...errorResponses(404, 409) },
        },
      },
      async (req, reply) => {
        const started = engine.start(req.params.id, principalOf(req).name);
        if (!started.ok) throw refusal(req.params.id, started);
        return reply.status(202).send(started.run);
      },
    );

    r.get(
      "/v1/devices/:id/commissioning",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "A device's latest commissioning run",
          params: idParams,
          response: { 200: commissioningRun, ...errorResponses(404) },
        },
      },
      async (req) => {
        const latest = store.latest(req.params.id);
        if (!latest) throw notFound("commissioning run of device", req.params.id);
        return latest;
      },
    );

    r.get(
      "/v1/devices/:id/commissioning/runs",
      {
        preValidation: read,
        schema: {
          tags,
          summary: "All commissioning runs of a device, newest first",
          params: idParams,
          response: { 200: z.object({ runs: z.array(commissioningRun) }), ...errorResponses(404) },
        },
      },
      async (req) => {
        if (!engine.device(req.params.id)) throw notFound("device", req.params.id);
        return { runs: store.list(req.params.id) };
      },
    );

    r.post(
      "/v1/devices/:id/commissioning/sign-off",
      {
        preValidation: signoff,
        schema: {
          tags,
          summary: "Sign a device off as commissioned",
          description:
            "Only when its latest run passed with the credential still live (else 409 not_passed, naming why).",
          params: idParams,
          body: signOffBody,
          response: { 200: z.object({ device, run: commissioningRun }), ...errorResponses(400, 404, 409) },
        },
      },
      async (req) => {
        const done = store.signOff(
          req.params.id,
          principalOf(req).name,
          req.body?.note ?? null,
          new Date().toISOString(),
        );
        if (!done.ok) throw refusal(req.params.id, done);
        opts.changed([req.params.id]);
        return { device: engine.device(req.params.id) as DeviceRecord, run: done.run };
      },
    );

    r.post(
      "/v1/commissioning",
      {
        preValidation: run,
        schema: {
          tags,
          summary: "Start commissioning on many devices",
          description: `At most ${MAX_FLEET} ids; each starts independently (issues name those that did not).`,
          body: z.object({ ids }),
          response: {
            200: z.object({
              started: z.array(z.string()),
              issues: z.array(z.object({ id: z.string(), message: z.string() })),
            }),
            ...errorResponses(400),
          },
        },
      },
      async (req) => {
        const actor = principalOf(req).name;
        const started: string[] = [];
        const issues: { id: string; message: string }[] = [];
        for (const id of new Set(req.body.ids)) {
          const s = engine.start(id, actor);
          if (s.ok) started.push(id);
          else issues.push({ id, message: s.message });
        }
        return { started, issues };
      },
    );

    r.post(
      "/v1/commissioning/sign-off",
      {
        preValidation: signoff,
        schema: {
          tags,
          summary: "Sign off many devices",
          description:
            "Each device whose latest run passed is signed off; the others are listed with the reason.",
          body: z.object({ ids, note: z.string().max(1000).optional() }),
          response: {
            200: z.object({
              signed_off: z.array(z.string()),
              not_ready: z.array(z.object({ id: z.string(), reason: z.string() })),
            }),
            ...errorResponses(400),
          },
        },
      },
      async (req) => {
        const actor = principalOf(req).name;
        const signed_off: string[] = [];
        const not_ready: { id: string; reason: string }[] = [];
        const at = new Date().toISOString();
        for (const id of new Set(req.body.ids)) {
          const s = store.signOff(id, actor, req.body.note ?? null, at);
          if (s.ok) signed_off.push(id);
          else not_ready.push({ id, reason: s.message });
        }
        if (signed_off.length > 0) opts.changed(signed_off);
        return { signed_off, not_ready };
      },
    );

    r.post(
      "/v1/devices/:id/identify",
      {
        preValidation: run,
        schema: {
          tags,
          summary: "Make a device identify itself",
          description:
            "Sends identify (a streetlight blinks) and waits for the device's ack; 504 ack_timeout when none comes.",
          params: idParams,
          response: { 200: identifyReply, ...errorResponses(404, 409, 504) },
        },
      },
      async (req) => {
        const d = usable(req.params.id, engine.device(req.params.id));
        if (isUnusable(d)) throw lifecycleError(d);
        const result = await opts.mqtt.sendCommand(d, { cmd: "identify" }, opts.ackTimeoutS * 1000);
        if (result.ok) return { command_id: result.command.id, ack: result.ack };
        throw new ApiError(
          "ack_timeout",
          504,
          `device ${d.id} did not acknowledge identify (command ${result.command.id}) within ${opts.ackTimeoutS} s`,
        );
      },
    );
  };
}
