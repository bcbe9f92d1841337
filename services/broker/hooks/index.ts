// The policy in force: one small file per hook. createBroker({ hooks }) overrides any of them.
import { authenticate } from "./authenticate.ts";
import { authorizePublish } from "./authorize-publish.ts";
import { authorizeSubscribe } from "./authorize-subscribe.ts";
import type { BrokerHooks } from "./types.ts";

export const defaultHooks: BrokerHooks = Object.freeze({
  authenticate,
  authorizePublish,
  authorizeSubscribe,
});
