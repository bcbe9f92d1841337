// One simulated device for unit tests: the device runtime (simulators/device.ts) on a fake clock, linked to the
// in-memory broker (simulators/memory-link.ts), with the fleet's usual limits. Each test file keeps its own seed.
// `simDeviceOn` takes another clock (an accelerated simulated clock for the schedule tests).
import type { DeviceKind } from "../../services/contract/topics.ts";
import type { Logger } from "../../services/lib/log.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { type Clock, createFakeClock, type FakeClock } from "../../simulators/clock.ts";
import { createDeviceRuntime, type DeviceRuntime } from "../../simulators/device.ts";
import { type FaultRates, NO_FAULTS } from "../../simulators/faults.ts";
import { createLimiter } from "../../simulators/limiter.ts";
import { createMemoryBroker, type MemoryBroker } from "../../simulators/memory-link.ts";
import { createModel } from "../../simulators/models/index.ts";
import { planFleet, type SimDevice } from "../../simulators/plan.ts";

export type SimDeviceOptions = {
  /** The fleet plan's seed, also the model's and the runtime's. */
  seed: string;
  kind: DeviceKind;
  /** The fake clock's start, ms. */
  startMs: number;
  idPrefix?: string;
  intervalS?: number;
  faults?: FaultRates;
  /** How many devices of each kind the plan has (the device is the first of `kind`): one each unless told. */
  fleet?: { streetlights: number; airquality: number; traffic: number };
  /** The MQTT password it connects with; none unless told. */
  password?: string;
  maxBacklog?: number;
  log?: Logger;
};

export type SimDeviceSetup<C extends Clock = FakeClock> = {
  clock: C;
  broker: MemoryBroker;
  device: SimDevice;
  runtime: DeviceRuntime;
};

export function simDevice(opts: SimDeviceOptions): SimDeviceSetup {
  return simDeviceOn(createFakeClock(opts.startMs), opts);
}

export function simDeviceOn<C extends Clock>(
  clock: C,
  opts: Omit<SimDeviceOptions, "startMs">,
): SimDeviceSetup<C> {
  const broker = createMemoryBroker();
  const faults = opts.faults ?? NO_FAULTS;
  const devices = planFleet({
    seed: opts.seed,
    ...(opts.fleet ?? { streetlights: 1, airquality: 1, traffic: 1 }),
    intervalS: opts.intervalS ?? 10,
    ...(opts.idPrefix === undefined ? {} : { idPrefix: opts.idPrefix }),
  });
  const device = devices.find((d) => d.kind === opts.kind);
  if (!device) throw new Error(`no ${opts.kind} in the plan`);
  const runtime = createDeviceRuntime({
    device,
    model: createModel(device, { seed: opts.seed, faults }),
    clock,
    link: broker.factory,
    linkOptions: { url: "mqtt://memory", keepaliveS: 30, reconnectPeriodMs: 1000, connectTimeoutMs: 1000 },
    credentials: { username: device.id, ...(opts.password === undefined ? {} : { password: opts.password }) },
    limiter: createLimiter(8),
    maxInflight: 2,
    maxBacklog: opts.maxBacklog ?? 100_000,
    seed: opts.seed,
    faults,
    log: opts.log ?? silentLogger(),
  });
  return { clock, broker, device, runtime };
}
