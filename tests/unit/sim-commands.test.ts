// Commands to simulated devices (issue 3): dim overrides and their expiry, identify's blink cycle, the acks
// of a failed lamp, of a device without a lamp and of invalid commands; on the fake clock with the in-memory
// broker (the real MQTT path is tests/integration/sim-fleet.test.ts).
import { describe, expect, it } from "vitest";
import { commandAck, type DeviceCommandInput } from "../../services/contract/commands.ts";
import type { StreetlightReading } from "../../services/contract/readings.ts";
import { type CommandTarget, handleCommand } from "../../simulators/commands.ts";
import { type FaultRates, NO_FAULTS } from "../../simulators/faults.ts";
import type { LampControl } from "../../simulators/models/model.ts";
import { BLINK_HALF_PERIOD_MS, nominalPowerW, STANDBY_W } from "../../simulators/models/streetlight.ts";
import type { StreetlightDevice } from "../../simulators/plan.ts";
import { simDevice } from "./sim-harness.ts";

const NOON = Date.UTC(2025, 0, 14, 12); // daytime in Casablanca: the program keeps the lamp off
const ISSUED = new Date(NOON).toISOString();

async function setup(
  kind: "streetlight" | "airquality" | "traffic",
  faults: FaultRates = NO_FAULTS,
  live = true,
) {
  const { clock, broker, device, runtime } = simDevice({
    seed: "cmd",
    kind,
    startMs: NOON,
    idPrefix: "c",
    faults,
    password: "secret",
  });
  if (live) runtime.startLive();
  else void runtime.connect(1000);
  await clock.advance(0);
  const base = `city/v1/${kind}/${device.id}`;
  const send = (cmd: DeviceCommandInput | Record<string, unknown> | string) =>
    broker.deliver(`${base}/cmd`, typeof cmd === "string" ? cmd : JSON.stringify(cmd));
  const acks = () =>
    broker.sent.filter((s) => s.topic === `${base}/ack`).map((s) => commandAck.parse(JSON.parse(s.payload)));
  const readings = () =>
    broker.sent
      .filter((s) => s.topic === `${base}/telemetry`)
      .flatMap((s) => [JSON.parse(s.payload)].flat() as StreetlightReading[]);
  const last = () => readings().at(-1) as StreetlightReading;
  return { clock, broker, device, runtime, send, acks, readings, last, base };
}

describe("streetlight commands", () => {
  it("subscribes to its own cmd topic and acks on its own ack topic at QoS 1", async () => {
    const { broker, device, send, base } = await setup("streetlight");
    expect(broker.subscriptions).toEqual([
      { clientId: device.id, topic: `${base}/cmd` },
      { clientId: device.id, topic: `${base}/calendar` },
    ]);
    expect(send({ id: "c0", cmd: "identify", issued_at: ISSUED })).toBe(1);
    const ack = broker.sent.find((s) => s.topic === `${base}/ack`);
    expect(ack).toMatchObject({ clientId: device.id, qos: 1, retain: false });
  });

  it("dims at once for duration_s: ack ok with the level, the next reading shows it, then the program returns", async () => {
    const { clock, device, send, acks, last } = await setup("streetlight");
    const led = (device as StreetlightDevice).ledWatts;
    await clock.advance(30_000);
    expect(last().dim_pct).toBe(0);
    send({ id: "d1", cmd: "dim", level_pct: 30, duration_s: 60, issued_at: ISSUED });
    expect(acks()).toEqual([{ id: "d1", status: "ok", ts: clock.now(), level_pct: 30 }]);
    await clock.advance(10_000);
    expect(last().dim_pct).toBe(30);
    expect(last().power_w).toBeCloseTo(nominalPowerW(led, 30), -0.5);
    expect(last().lamp_ok).toBe(true);
    await clock.advance(60_000);
    expect(last().dim_pct).toBe(0);
    expect(last().power_w).toBeLessThan(1);
  });

  it("a newer override replaces the older one; without duration_s it holds until the next command", async () => {
    const { clock, send, acks, last } = await setup("streetlight");
    send({ id: "a", cmd: "dim", level_pct: 30, duration_s: 600, issued_at: ISSUED });
    await clock.advance(20_000);
    send({ id: "b", cmd: "dim", level_pct: 70, issued_at: ISSUED });
    await clock.advance(20_000);
    expect(last().dim_pct).toBe(70);
    await clock.advance(3_600_000); // long after the first override would have ended
    expect(last().dim_pct).toBe(70);
    expect(acks().map((a) => [a.id, a.status, a.level_pct])).toEqual([
      ["a", "ok", 30],
      ["b", "ok", 70],
    ]);
  });

  it("ramps linearly from the level in effect when ramp_s is given", async () => {
    const { clock, send, readings } = await setup("streetlight");
    send({ id: "r", cmd: "dim", level_pct: 80, ramp_s: 40, issued_at: ISSUED });
    const t0 = clock.now();
    await clock.advance(60_000);
    const ramp = readings().filter((x) => Number(x.ts) > t0);
    expect(ramp).not.toHaveLength(0);
    for (const r of ramp) {
      const expected = Math.min(80, (80 * (Number(r.ts) - t0)) / 40_000);
      expect(r.dim_pct).toBeCloseTo(expected, 0);
    }
  });

  it("identify: ack ok; readings during the blink show the lamp on or off; then the program again", async () => {
    const { clock, send, acks, readings } = await setup("streetlight");
    send({ id: "i", cmd: "identify", duration_s: 60, issued_at: ISSUED });
    const t0 = clock.now();
    expect(acks()[0]).toMatchObject({ id: "i", status: "ok" });
    await clock.advance(120_000);
    const during = readings().filter((r) => Number(r.ts) >= t0 && Number(r.ts) < t0 + 60_000);
    expect(during.length).toBeGreaterThanOrEqual(5);
    for (const r of during) {
      const on = Math.floor((Number(r.ts) - t0) / BLINK_HALF_PERIOD_MS) % 2 === 0;
      expect(r.dim_pct).toBe(on ? 100 : 0);
      expect(r.power_w > 1).toBe(on);
    }
    const after = readings().filter((x) => Number(x.ts) >= t0 + 60_000);
    expect(after).not.toHaveLength(0);
    for (const r of after) expect(r.dim_pct).toBe(0);
  });

  it("a lamp in a lamp-failure episode acks failed with hardware_fault and keeps its level", async () => {
    const { clock, send, acks, last } = await setup("streetlight", { ...NO_FAULTS, lampFailurePerDay: 2000 });
    await clock.advance(10 * 60_000);
    expect(last().lamp_ok).toBe(false);
    send({ id: "f1", cmd: "identify", issued_at: ISSUED });
    send({ id: "f2", cmd: "dim", level_pct: 40, issued_at: ISSUED });
    expect(acks().map((a) => [a.id, a.status, a.reason])).toEqual([
      ["f1", "failed", "hardware_fault"],
      ["f2", "failed", "hardware_fault"],
    ]);
    await clock.advance(10_000);
    expect(last().dim_pct).toBe(0);
  });

  it("the energy meter and the truth follow the overridden level, from the instant the command arrived", async () => {
    const { clock, device, send, runtime, last } = await setup("streetlight");
    const led = (device as StreetlightDevice).ledWatts;
    await clock.advance(30_000);
    const before = last();
    const t0 = Number(before.ts);
    // Mid-interval: 4 s of standby, then 6 s at full power until the next reading.
    await clock.advance(t0 + 4000 - clock.now());
    send({ id: "e", cmd: "dim", level_pct: 100, duration_s: 3600, issued_at: ISSUED });
    const truthBefore = runtime.truth().energy_wh ?? 0;
    await clock.advance(t0 + 10_000 - clock.now());
    const step = last().energy_wh - before.energy_wh;
    const expected = (before.power_w * 4 + nominalPowerW(led, 100) * 6) / 3600;
    expect(step).toBeCloseTo(expected, 2);
    expect((runtime.truth().energy_wh ?? 0) - truthBefore).toBeCloseTo(expected, 2);
    // An hour at full power, then standby: the truth counts the override's hour and its energy.
    await clock.advance(2 * 3_600_000);
    const truth = runtime.truth();
    expect(truth.override_h).toBeCloseTo(1, 2);
    expect(truth.energy_wh).toBeGreaterThan(nominalPowerW(led, 100) * 0.98);
    expect(truth.energy_wh).toBeLessThan(nominalPowerW(led, 100) * 1.02 + 2 * STANDBY_W);
    expect(truth.commands).toEqual({ ok: 1, rejected: 0, failed: 0, dropped: 0 });
  });

  it("refuses commands as busy while it uploads a backfill", async () => {
    const { runtime, send, acks } = await setup("streetlight", NO_FAULTS, false);
    const backfill = runtime.backfill(NOON - 3_600_000, NOON);
    send({ id: "busy", cmd: "identify", issued_at: ISSUED });
    await backfill;
    send({ id: "after", cmd: "identify", issued_at: ISSUED });
    expect(acks().map((a) => [a.id, a.status, a.reason])).toEqual([
      ["busy", "rejected", "busy"],
      ["after", "ok", undefined],
    ]);
  });
});

describe("commands to devices without a lamp, and invalid commands", () => {
  const noLamp = (kind: "airquality" | "traffic") => ({ kind, lamp: undefined, busy: false });
  const lamp: LampControl = {
    failedAt: () => false,
    identify: () => {},
    dim: (o) => o.levelPct,
    override: (o) => o.levelPct,
    cancelOverride: () => false,
    followCalendar: () => {},
    levelAt: () => 0,
  };
  const streetlight = { kind: "streetlight" as const, lamp, busy: false };
  const run = (cmd: unknown, target: CommandTarget = streetlight) =>
    handleCommand(JSON.stringify(cmd), target, 1000);
  /** The ack of a command that was answered; fails the test when it was not. */
  const ackOf = (out: ReturnType<typeof handleCommand>) => {
    if (!out.answered) return expect.fail(`not answered: ${out.detail}`);
    return out.ack;
  };

  it.each(["airquality", "traffic"] as const)("%s: identify ok, dim rejected unsupported", async (kind) => {
    expect(run({ id: "x", cmd: "identify", issued_at: ISSUED }, noLamp(kind))).toMatchObject({
      answered: true,
      ack: { id: "x", status: "ok", ts: 1000 },
    });
    expect(run({ id: "y", cmd: "dim", level_pct: 50, issued_at: ISSUED }, noLamp(kind))).toMatchObject({
      ack: { id: "y", status: "rejected", reason: "unsupported" },
    });
    // And over the wire, on its own topics.
    const { send, acks } = await setup(kind);
    send({ id: "w", cmd: "dim", level_pct: 50, issued_at: ISSUED });
    expect(acks()).toMatchObject([{ id: "w", status: "rejected", reason: "unsupported" }]);
  });

  it("rejects a command failing the contract's schema as invalid, naming the field", () => {
    const out = run({ id: "v", cmd: "dim", level_pct: 150, issued_at: ISSUED });
    expect(out).toMatchObject({ ack: { id: "v", status: "rejected", reason: "invalid" } });
    expect(ackOf(out).detail).toContain("level_pct");
    const noIssued = run({ id: "v2", cmd: "identify" });
    expect(ackOf(noIssued).detail).toContain("issued_at");
    expect(run({ id: "v3", cmd: "identify", duration_s: 0, issued_at: ISSUED })).toMatchObject({
      ack: { status: "rejected", reason: "invalid" },
    });
  });

  it("rejects an unknown command as unsupported; cannot answer a payload without an id", () => {
    expect(run({ id: "u", cmd: "reboot", issued_at: ISSUED })).toMatchObject({
      ack: { id: "u", status: "rejected", reason: "unsupported" },
    });
    expect(handleCommand("not json", streetlight, 1)).toEqual({ answered: false, detail: "not JSON" });
    expect(run({ cmd: "identify", issued_at: ISSUED })).toMatchObject({ answered: false });
    expect(run({ id: "", cmd: "identify", issued_at: ISSUED })).toMatchObject({ answered: false });
  });

  it("every ack it sends is valid under the contract", () => {
    const outs = [
      run({ id: "1", cmd: "identify", issued_at: ISSUED }),
      run({ id: "2", cmd: "dim", level_pct: 12.34, issued_at: ISSUED }),
      run({ id: "3", cmd: "dim", level_pct: -1, issued_at: ISSUED }),
      run({ id: "4", cmd: "x".repeat(600), issued_at: ISSUED }),
    ];
    for (const o of outs) expect(commandAck.safeParse(ackOf(o)).success).toBe(true);
  });
});
