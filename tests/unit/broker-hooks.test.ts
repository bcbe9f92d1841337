// The broker's policy hooks (pure) and their adapter onto aedes' callbacks and MQTT's ways of saying no.
import type { Client } from "aedes";
import { describe, expect, it } from "vitest";
import { toAedesPolicy } from "../../services/broker/hooks/adapter.ts";
import { authenticate, MAX_CLIENT_ID_LENGTH } from "../../services/broker/hooks/authenticate.ts";
import { authorizePublish } from "../../services/broker/hooks/authorize-publish.ts";
import { authorizeSubscribe } from "../../services/broker/hooks/authorize-subscribe.ts";
import { defaultHooks } from "../../services/broker/hooks/index.ts";
import { BROKER_REASONS, type BrokerReason, connackCode } from "../../services/broker/hooks/reasons.ts";
import { ALLOW, type BrokerHooks, type ClientInfo, deny } from "../../services/broker/hooks/types.ts";
import { silentLogger } from "../../services/lib/log.ts";

const who: ClientInfo = {
  clientId: "sl-0001",
  username: undefined,
  transport: "tcp",
  remoteAddress: "127.0.0.1",
};
const connect = (clientId: string) => ({ ...who, clientId, password: undefined, cleanSession: true });
const publish = (topic: string) => ({ topic, qos: 1 as const, retain: false, payload: Buffer.from("{}") });

describe("default policy", () => {
  it("authenticate: refuses empty and overlong client ids, accepts the rest", () => {
    expect(authenticate(connect(""))).toEqual(deny("empty_client_id"));
    expect(authenticate(connect("x".repeat(MAX_CLIENT_ID_LENGTH + 1)))).toEqual(deny("client_id_too_long"));
    expect(authenticate(connect("sl-0001"))).toEqual(ALLOW);
  });

  it("authorizePublish: refuses the broker's '$' topics [MQTT-4.7.2-1]", () => {
    expect(authorizePublish(who, publish("$SYS/broker/uptime"))).toEqual(deny("reserved_topic"));
    expect(authorizePublish(who, publish("city/v1/streetlight/sl-0001/telemetry"))).toEqual(ALLOW);
  });

  it("authorizeSubscribe: grants the requested QoS", () => {
    expect(authorizeSubscribe(who, { topic: "city/v1/+/+/telemetry", qos: 1 })).toEqual({ ok: true, qos: 1 });
  });

  it("every reason is documented and has a CONNACK code", () => {
    for (const reason of Object.keys(BROKER_REASONS) as BrokerReason[]) {
      expect(BROKER_REASONS[reason].length).toBeGreaterThan(10);
      expect([2, 3, 4, 5]).toContain(connackCode(reason));
    }
  });
});

describe("adapter onto aedes", () => {
  const client = { id: "sl-0001", clean: true, conn: {} } as unknown as Client;
  const policy = (hooks: Partial<BrokerHooks>) =>
    toAedesPolicy({ ...defaultHooks, ...hooks }, silentLogger(), () => ({
      transport: "ws",
      remoteAddress: "10.0.0.9",
    }));
  const call = <A extends unknown[]>(fn: (...args: [...A, (...r: unknown[]) => void]) => void, ...args: A) =>
    new Promise<unknown[]>((ok) => fn(...args, (...r: unknown[]) => ok(r)));

  it("hands hooks the CONNECT's own client id, transport and peer", async () => {
    let seen: unknown;
    const p = policy({
      authenticate: (req) => {
        seen = req;
        return ALLOW;
      },
    });
    await call(p.preConnect, client, { cmd: "connect", clientId: "", clean: true } as never);
    const [err, ok] = await call(p.authenticate, client, "user", Buffer.from("pw"));
    expect([err, ok]).toEqual([null, true]);
    expect(seen).toMatchObject({
      clientId: "",
      username: undefined,
      transport: "ws",
      remoteAddress: "10.0.0.9",
    });
  });

  it("maps a refused CONNECT to its CONNACK return code", async () => {
    const p = policy({ authenticate: async () => deny("bad_credentials") });
    const [err, ok] = await call(p.authenticate, client, "user", Buffer.from("pw"));
    expect(ok).toBe(false);
    expect(err).toMatchObject({ message: "bad_credentials", returnCode: 4 });
  });

  it("a hook that throws refuses, with 'server unavailable' for CONNECT", async () => {
    const boom = () => {
      throw new Error("db down");
    };
    const p = policy({ authenticate: boom, authorizePublish: boom, authorizeSubscribe: boom });
    const [connErr] = await call(p.authenticate, client, undefined, undefined);
    expect(connErr).toMatchObject({ returnCode: 3 });
    const [pubErr] = await call(p.authorizePublish, client, { cmd: "publish", topic: "a", qos: 1 } as never);
    expect(pubErr).toBeInstanceOf(Error);
    const [subErr, sub] = await call(p.authorizeSubscribe, client, { topic: "a", qos: 1 } as never);
    expect([subErr, sub]).toEqual([null, null]); // SUBACK 0x80
  });

  it("a refused PUBLISH is an error (aedes closes the connection) [MQTT-3.3.5-2]", async () => {
    const p = policy({});
    const [err] = await call(p.authorizePublish, client, {
      cmd: "publish",
      topic: "$SYS/x",
      qos: 0,
      payload: "",
    } as never);
    expect((err as Error).message).toBe("reserved_topic");
    const [ok] = await call(p.authorizePublish, client, {
      cmd: "publish",
      topic: "a/b",
      qos: 0,
      payload: "",
    } as never);
    expect(ok).toBeNull();
  });

  it("a subscription may be granted at a lower QoS, or refused with 0x80", async () => {
    const p = policy({
      authorizeSubscribe: (_c, s) => (s.topic === "#" ? deny("not_authorized") : { ok: true, qos: 0 }),
    });
    const [, granted] = await call(p.authorizeSubscribe, client, { topic: "a/+", qos: 1 } as never);
    expect(granted).toMatchObject({ topic: "a/+", qos: 0 });
    const [, refused] = await call(p.authorizeSubscribe, client, { topic: "#", qos: 1 } as never);
    expect(refused).toBeNull();
  });
});
