// A policy that admits anyone (except to '$' topics), for the benchmarks that measure routing, not access
// control: the overload comparison with vanilla aedes (which has no policy either) and the permissive baseline
// of the authentication section. Benchmarks only; production has no permissive policy (services/broker/hooks/).
import { ALLOW, type BrokerHooks, deny } from "../services/broker/hooks/types.ts";

export const permissiveHooks: BrokerHooks = Object.freeze({
  authenticate: () => ALLOW,
  authorizePublish: (_client, msg) => (msg.topic.startsWith("$") ? deny("reserved_topic") : ALLOW),
  authorizeSubscribe: (_client, sub) => ({ ok: true, qos: sub.qos }),
});
