// A device's MQTT connection: one mqtt.js 5 client per device, its own client id and username (the device id),
// clean session, keepalive, and a retained last will `{"online":false}` on its state topic (QoS 1) so that the
// platform learns of an abrupt loss from the broker [MQTT-3.1.2-8]. MQTT 3.1.1, as the contract says.
// The Link interface is what the device runtime needs, so unit tests can hand it an in-memory link.
import { connect } from "mqtt";

export type LinkOptions = {
  url: string;
  clientId: string;
  username: string;
  /** Issue 3 adds a per-device password; until then devices connect with their id alone. */
  password?: string;
  keepaliveS: number;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  will: { topic: string; payload: string; qos: 1; retain: true };
};

export type Link = {
  readonly connected: boolean;
  /** Resolves on the PUBACK (QoS 1) or once written (QoS 0); rejects if the link is closed first. */
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** Graceful: sends DISCONNECT, so no last will. Abrupt: drops the socket, so the broker publishes the will. */
  close(abrupt: boolean): Promise<void>;
  onConnect(fn: () => void): void;
  onError(fn: (err: Error) => void): void;
};

export type LinkFactory = (opts: LinkOptions) => Link;

export const mqttLink: LinkFactory = (opts) => {
  const client = connect(opts.url, {
    clientId: opts.clientId,
    username: opts.username,
    ...(opts.password === undefined ? {} : { password: opts.password }),
    protocolVersion: 4,
    clean: true,
    keepalive: opts.keepaliveS,
    reconnectPeriod: opts.reconnectPeriodMs,
    connectTimeout: opts.connectTimeoutMs,
    queueQoSZero: false,
    will: { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), qos: 1, retain: true },
  });
  // mqtt.js leaves in-flight callbacks pending when a client with auto-reconnect is ended by force;
  // failing them here lets the device put those readings back into its backlog.
  const pending = new Set<(err: Error) => void>();
  let errorHandler: (err: Error) => void = () => {};
  client.on("error", (err) => errorHandler(err));
  return {
    get connected() {
      return client.connected;
    },
    publish(topic, payload, { qos, retain = false }) {
      return new Promise<void>((resolve, reject) => {
        let settled = false;
        const fail = (err: Error) => {
          if (settled) return;
          settled = true;
          pending.delete(fail);
          reject(err);
        };
        pending.add(fail);
        client.publish(topic, payload, { qos, retain }, (err) => {
          if (err) return fail(err);
          if (settled) return;
          settled = true;
          pending.delete(fail);
          resolve();
        });
      });
    },
    async close(abrupt) {
      const ended = client.endAsync(abrupt);
      // A graceful DISCONNECT waits for in-flight messages; do not wait forever on a dead connection.
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 3000).unref());
      await Promise.race([ended.catch(() => undefined), timeout]);
      if (!client.disconnected) client.stream?.destroy();
      for (const fail of [...pending]) fail(new Error("link closed"));
    },
    onConnect(fn) {
      client.on("connect", () => fn());
    },
    onError(fn) {
      errorHandler = fn;
    },
  };
};
