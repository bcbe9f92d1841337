// Announces registry changes on platform/v1/registry/changed so that caches pull the feed at once instead of
// waiting for their next poll. Best effort by design: the feed is the source of truth and caches also poll it.
import mqtt from "mqtt";
import { REGISTRY_CHANGED_TOPIC } from "../contract/topics.ts";
import type { Logger } from "../lib/log.ts";

export type Notifier = { notify(latest: number): void; close(): Promise<void> };

export function createMqttNotifier(url: string, log: Logger): Notifier {
  const client = mqtt.connect(url, {
    clientId: `command-${process.pid}`,
    reconnectPeriod: 2000,
    connectTimeout: 5000,
  });
  client.on("error", (err) => log.debug({ err: err.message }, "notifier mqtt error"));
  let pending: NodeJS.Timeout | undefined;
  return {
    notify(latest) {
      // Coalesce bursts (a bulk import is one notice).
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        if (client.connected) client.publish(REGISTRY_CHANGED_TOPIC, JSON.stringify({ latest }), { qos: 0 });
      }, 50);
    },
    close: async () => {
      if (pending) clearTimeout(pending);
      await client.endAsync();
    },
  };
}
