// One behaviour model per device kind.
import type { SimDevice } from "../plan.ts";
import { createAirqualityModel } from "./airquality.ts";
import type { DeviceModel, ModelOptions } from "./model.ts";
import { createStreetlightModel } from "./streetlight.ts";
import { createTrafficModel } from "./traffic.ts";

export type { DeviceModel, DimOverride, LampControl, ModelOptions, ModelStep } from "./model.ts";

export function createModel(device: SimDevice, opts: ModelOptions): DeviceModel {
  switch (device.kind) {
    case "streetlight":
      return createStreetlightModel(device, opts);
    case "airquality":
      return createAirqualityModel(device, opts);
    case "traffic":
      return createTrafficModel(device, opts);
  }
}
