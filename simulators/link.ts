// A device's MQTT connection: one mqtt.js 5 client per device, its own client id and username (the device id),
// clean session, keepalive, and a retained last will `{"online":false}` on its state topic (QoS 1) so that the
// platform learns of an abrupt loss from the broker [MQTT-3.1.2-8]. MQTT 3.1.1, as the contract says.
// The Link interface is what the device runtime needs, so unit tests can hand it an in-memory link
// (memory-link.ts).
//
// A refused CONNECT [MQTT-3.2.2-5]: mqtt.js 5 then stops reconnecting altogether. A device whose credentials
// are wrong, revoked or not yet known to the broker must neither give up for good nor hammer the broker's
// scrypt check every second, so the link retries a refusal itself with a growing, jittered delay
// (`refusalDelayMs`); 0x03 "server unavailable" (a broker still syncing its access list) is retried at the
// normal reconnect period.
import { connect, type ErrorWithReasonCode } from "mqtt";

export type LinkOptions = {
  url: string;
  clientId: string;
  username: string;
  /**
   * The device's secret (issue 3), asked before every CONNECT (the first, mqtt.js's own reconnects and the retries
   * after a refusal): it may have been rotated meanwhile (a new one on file). Undefined: connect with the id alone
   * (a broker without access control).
   */
  password?: () => string | undefined;
  keepaliveS: number;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  /** Delay before retrying after a refused CONNECT (0x04, 0x05, …): doubles from min up to max. */
  refusedRetryMinMs?: number;
  refusedRetryMaxMs?: number;
  will: { topic: string; payload: string; qos: 1; retain: true };
};

/** A CONNACK refusal: the MQTT 3.1.1 return code and its name. */
export type Refusal = { code: number; reason: string; retryInMs: number };

export type Link = {
  readonly connected: boolean;
  /** Resolves on the PUBACK (QoS 1) or once written (QoS 0); rejects if the link is closed first. */
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
  /** Resolves on the SUBACK; rejects if the broker refuses the subscription (0x80) or the link closes. */
  subscribe(topic: string, qos: 0 | 1): Promise<void>;
  /** Graceful: sends DISCONNECT, so no last will. Abrupt: drops the socket, so the broker publishes the will. */
  close(abrupt: boolean): Promise<void>;
  onConnect(fn: () => void): void;
  onMessage(fn: (topic: string, payload: string) => void): void;
  /** The broker refused the CONNECT; the link retries by itself after `retryInMs`. */
  onRefused(fn: (refusal: Refusal) => void): void;
  onError(fn: (err: Error) => void): void;
};

export type LinkFactory = (opts: LinkOptions) => Link;

/** CONNACK return codes of MQTT 3.1.1 [MQTT-3.2.2-5]. */
export const CONNACK_REFUSALS: Readonly<Record<number, string>> = {
  1: "unacceptable protocol version",
  2: "identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorized",
};

/** Delay before the n-th consecutive retry (n ≥ 1) after a refusal: min · 2^(n−1), capped, ±25 % jitter. */
export function refusalDelayMs(n: number, minMs: number, maxMs: number, rnd = Math.random()): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(30, Math.max(0, n - 1)));
  return Math.round(base * (0.75 + 0.5 * rnd));
}

export const mqttLink: LinkFactory = (opts) => {
  const password = opts.password?.();
  const client = connect(opts.url, {
    clientId: opts.clientId,
    username: opts.username,
    ...(password === undefined ? {} : { password }),
    protocolVersion: 4,
    clean: true,
    keepalive: opts.keepaliveS,
    reconnectPeriod: opts.reconnectPeriodMs,
    connectTimeout: opts.connectTimeoutMs,
    queueQoSZero: false,
    // The device subscribes again itself on every CONNACK (clean session: the broker forgot it).
    resubscribe: false,
    will: { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), qos: 1, retain: true },
  });
  // mqtt.js leaves in-flight callbacks pending when a client with auto-reconnect is ended by force;
  // failing them here lets the device put those readings back into its backlog.
  const pending = new Set<(err: Error) => void>();
  let errorHandler: (err: Error) => void = () => {};
  const refusedHandlers: ((r: Refusal) => void)[] = [];
  let refusals = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;
  client.on("connect", () => {
    refusals = 0;
  });
  // mqtt.js emits 'reconnect' before it builds the CONNECT from client.options, on both its own reconnects and
  // client.reconnect(): the one place to hand it the current secret.
  client.on("reconnect", () => {
    const current = opts.password?.();
    if (current !== undefined) client.options.password = current;
  });
  client.on("error", (err) => {
    const code = (err as ErrorWithReasonCode).code;
    const reason = typeof code === "number" ? CONNACK_REFUSALS[code] : undefined;
    if (reason === undefined || typeof code !== "number") return errorHandler(err);
    refusals++;
    const retryInMs =
      code === 3
        ? opts.reconnectPeriodMs
        : refusalDelayMs(refusals, opts.refusedRetryMinMs ?? 5000, opts.refusedRetryMaxMs ?? 300_000);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!closed) client.reconnect();
    }, retryInMs);
    for (const fn of refusedHandlers) fn({ code, reason, retryInMs });
  });
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
    async subscribe(topic, qos) {
      const granted = await client.subscribeAsync(topic, { qos });
      // 0x80 in the SUBACK: the broker's ACL refused the filter [MQTT-3.9.3-2].
      if (granted.some((g) => g.qos === 128)) throw new Error(`subscription to ${topic} refused`);
    },
    async close(abrupt) {
      closed = true;
      clearTimeout(retryTimer);
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
    onMessage(fn) {
      client.on("message", (topic, payload) => fn(topic, payload.toString("utf8")));
    },
    onRefused(fn) {
      refusedHandlers.push(fn);
    },
    onError(fn) {
      errorHandler = fn;
    },
  };
};
