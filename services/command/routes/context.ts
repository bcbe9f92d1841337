// What the API's route files are given (buildApp makes it from its deps).
import type { DeviceAction } from "../../registry/audit.ts";
import type { Registry } from "../../registry/registry.ts";

/** A committed change, for whoever must hear of it (the MQTT notice; a running commissioning to stop). */
export type RegistryChange = {
  action: DeviceAction | "token_created" | "token_revoked";
  /** Device ids, or token names for token actions. */
  ids: readonly string[];
  /** Whether the access feed changed too (the broker must re-read it). */
  access: boolean;
};

export type ApiContext = {
  registry: Registry;
  /** The broker address devices are told to use. */
  mqttUrl: string;
  changed(change: RegistryChange): void;
};
