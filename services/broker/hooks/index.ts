// The policy in force: one small file per hook, each default deny, over the access cache and the secret
// verifier. createBroker({ hooks }) overrides any of them (the tests' permissive hooks live in the tests).
import type { AccessView } from "../access/cache.ts";
import type { SecretVerifier } from "../access/verifier.ts";
import { createAuthenticate } from "./authenticate.ts";
import { createAuthorizePublish } from "./authorize-publish.ts";
import { createAuthorizeSubscribe } from "./authorize-subscribe.ts";
import type { BrokerHooks } from "./types.ts";

export function createPolicyHooks(deps: { access: AccessView; verifier: SecretVerifier }): BrokerHooks {
  return Object.freeze({
    authenticate: createAuthenticate(deps),
    authorizePublish: createAuthorizePublish(deps),
    authorizeSubscribe: createAuthorizeSubscribe(deps),
  });
}
