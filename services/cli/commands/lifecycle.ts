// A device's life after registration: identify at the pole, sign off, rotate its secret, replace the
// controller, decommission.
import { ACK_REASONS, type CommandAck } from "../../contract/commands.ts";
import type { CommissioningRun, Credentials, DeviceRecord } from "../api-types.ts";
import { str } from "../args.ts";
import { type Command, devicePath, EXIT, failure } from "../context.ts";
import { formatDeviceLine } from "../format/device.ts";
import { fields } from "../format/table.ts";
import { localDateTime } from "../format/time.ts";
import { issueCredentials, SECRET_OUT_OPTION } from "./shared.ts";

const rotate: Command = {
  name: "rotate",
  summary: "issue a new secret; the old one stops working at once",
  positionals: ["ID"],
  options: { "secret-out": SECRET_OUT_OPTION },
  run: (ctx, { values, positionals }) =>
    issueCredentials(
      ctx,
      str(values, "secret-out"),
      () =>
        ctx.api.request<{ credentials: Credentials }>(
          "POST",
          devicePath(positionals[0] as string, "/credentials"),
        ),
      {
        before: (b) =>
          `Rotated: generation ${b.credentials.generation} is live, the previous secret is revoked.`,
      },
    ),
};

const replace: Command = {
  name: "replace",
  summary: "a new controller on the same pole: keeps place and history, new credentials, back to registered",
  positionals: ["ID"],
  options: {
    serial: { type: "string", value: "<serial>", description: "the new controller's serial" },
    note: { type: "string", value: "<text>", description: "why (kept in the device's history)" },
    "secret-out": SECRET_OUT_OPTION,
  },
  run: (ctx, { values, positionals }) =>
    issueCredentials(
      ctx,
      str(values, "secret-out"),
      () =>
        ctx.api.request<{ device: DeviceRecord; credentials: Credentials }>(
          "POST",
          devicePath(positionals[0] as string, "/replace"),
          { body: { serial: str(values, "serial"), note: str(values, "note") } },
        ),
      {
        before: (b) =>
          `Replaced: ${formatDeviceLine(b.device)}. The old controller's secret no longer works.`,
        after: (b) => `Next: ${ctx.invocation} commission ${b.device.id}`,
      },
    ),
};

const decommission: Command = {
  name: "decommission",
  summary: "take a device out of service: its credentials are revoked and the broker refuses it",
  positionals: ["ID"],
  options: {
    reason: { type: "string", value: "<text>", required: true, description: "why (kept in its history)" },
  },
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<{ device: DeviceRecord }>(
      "POST",
      devicePath(positionals[0] as string, "/decommission"),
      { body: { reason: str(values, "reason") } },
    );
    if (res.kind !== "ok") return failure(ctx, res);
    ctx.io.out(`Decommissioned ${formatDeviceLine(res.body.device)}`);
    return EXIT.ok;
  },
};

const identify: Command = {
  name: "identify",
  summary: "make the device blink so you can spot it, and wait for its ack",
  positionals: ["ID"],
  async run(ctx, { positionals }) {
    const id = positionals[0] as string;
    ctx.io.out(`Sending identify to ${id} and waiting for its ack …`);
    const res = await ctx.api.request<{ command_id: string; ack: CommandAck }>(
      "POST",
      devicePath(id, "/identify"),
      { timeoutMs: 120_000 },
    );
    if (res.kind !== "ok") return failure(ctx, res);
    const { ack, command_id } = res.body;
    if (ack.status === "ok") {
      ctx.io.out(`Acknowledged (command ${command_id}): the device is blinking.`);
      return EXIT.ok;
    }
    ctx.io.out(`The device answered ${ack.status} (command ${command_id})`);
    ctx.io.out(
      fields([
        ["reason", ack.reason ? `${ack.reason}: ${ACK_REASONS[ack.reason]}` : undefined],
        ["detail", ack.detail],
      ]),
    );
    return EXIT.failed;
  },
};

const signOff: Command = {
  name: "sign-off",
  summary: "sign off a passed commissioning run: the device becomes commissioned",
  positionals: ["ID"],
  options: { note: { type: "string", value: "<text>", description: "remark kept with the sign-off" } },
  async run(ctx, { values, positionals }) {
    const res = await ctx.api.request<{ device: DeviceRecord; run: CommissioningRun }>(
      "POST",
      devicePath(positionals[0] as string, "/commissioning/sign-off"),
      { body: { note: str(values, "note") } },
    );
    if (res.kind !== "ok") return failure(ctx, res);
    const { device, run } = res.body;
    const at = run.signed_off_at ? ` at ${localDateTime(run.signed_off_at)}` : "";
    ctx.io.out(
      `Signed off${at}${run.signed_off_by ? ` by ${run.signed_off_by}` : ""}: ${formatDeviceLine(device)}`,
    );
    return EXIT.ok;
  },
};

export const lifecycleCommands: readonly Command[] = [identify, signOff, rotate, replace, decommission];
