// Announces registry and access changes on platform/v1/registry/changed, so that the ingest's registry cache
// and the broker's access cache pull their feeds at once instead of at their next poll. Best effort by design:
// the feeds are the source of truth and both caches also poll them.
import mqtt from "mqtt";
import { REGISTRY_CHANGED_TOPIC } from "../contract/topics.ts";
import type { Logger } from "../lib/log.ts";

export type Notifier = { notify(): void; close(): Promise<void> };

/** The feeds' newest sequence numbers, read when the notice goes out (after a burst, the last one counts). */
export type Latest = () => { latest: number; access_latest: number };

export type NotifierOptions = {
  url: string;
  /** The service's MQTT account: its token's name and the token. */
  username: string;
  password: string;
};

export function createMqttNotifier(opts: NotifierOptions, latest: Latest, log: Logger): Notifier {
  const client = mqtt.connect(opts.url, {
    // A service's client id is its username or starts with `${username}-` (the broker's rule).
    clientId: `${opts.username}-notifier`,
    username: opts.username,
    password: opts.password,
    reconnectPeriod: 2000,
    // Keep trying after a refused CONNECT too: the broker answers 0x03 until it has read the access list.
    reconnectOnConnackError: true,
    connectTimeout: 5000,
  });
  let warned = false;
  let pending: NodeJS.Timeout | undefined;
  const notify = () => {
    // Coalesce bursts (a bulk import is one notice).
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      if (client.connected) client.publish(REGISTRY_CHANGED_TOPIC, JSON.stringify(latest()), { qos: 0 });
    }, 50);
  };
  client.on("connect", () => {
    warned = false;
    log.info({ url: opts.url, username: opts.username }, "notifier connected");
    notify(); // changes made while disconnected (the token file at start-up, say) were not announced
  });
  client.on("error", (err) => {
    // A refused account (bad token) is worth saying once; a broker that is down is expected at start-up.
    if (!warned) log.warn({ err: err.message }, "notifier mqtt error");
    warned = true;
  });
  return {
    notify,
    close: async () => {
      if (pending) clearTimeout(pending);
      await client.endAsync();
    },
  };
}
