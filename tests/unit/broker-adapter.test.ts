// The adapter from the policy hooks onto aedes' callbacks and MQTT 3.1.1's ways of saying no: CONNACK codes,
// closing on a refused PUBLISH, 0x80 in the SUBACK; the principal kept per client; denials reported.
import type { Client } from "aedes";
import { describe, expect, it } from "vitest";
import { toAedesPolicy } from "../../services/broker/hooks/adapter.ts";
import type { DevicePrincipal } from "../../services/broker/hooks/types.ts";
import { ALLOW, type BrokerHooks, type ClientInfo, deny } from "../../services/broker/hooks/types.ts";
import { silentLogger } from "../../services/lib/log.ts";

const principal: DevicePrincipal = {
  type: "device",
  id: "sl-0001",
  kind: "streetlight",
  generation: 1,
  publish: new Set(["city/v1/streetlight/sl-0001/state"]),
  subscribe: new Set(),
};

describe("adapter onto aedes", () => {
  const client = { id: "sl-0001", clean: true, closed: false, conn: {} } as unknown as Client;
  const permissive: BrokerHooks = {
    authenticate: () => ALLOW,
    authorizePublish: (_c, m) => (m.topic.startsWith("$") ? deny("reserved_topic") : ALLOW),
    authorizeSubscribe: (_c, s) => ({ ok: true, qos: s.qos }),
  };
  const policy = (h: Partial<BrokerHooks>, events = {}) =>
    toAedesPolicy(
      { ...permissive, ...h },
      silentLogger(),
      () => ({ transport: "ws", remoteAddress: "10.0.0.9" }),
      events,
    );
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

  it("remembers the principal for the client's later hooks and reports it", async () => {
    const authenticated: unknown[] = [];
    let seen: ClientInfo | undefined;
    const p = policy(
      {
        authenticate: () => ({ ok: true, principal }),
        authorizePublish: (c) => {
          seen = c;
          return ALLOW;
        },
      },
      { onAuthenticated: (_c: Client, pr: unknown) => authenticated.push(pr) },
    );
    await call(p.preConnect, client, { cmd: "connect", clientId: "sl-0001", username: "sl-0001" } as never);
    await call(p.authenticate, client, "sl-0001", Buffer.from("s3cret"));
    await call(p.authorizePublish, client, {
      cmd: "publish",
      topic: "city/v1/streetlight/sl-0001/state",
      qos: 1,
      payload: "",
    } as never);
    expect(seen?.principal).toBe(principal);
    expect(authenticated).toEqual([principal]);
  });

  it("maps a refused CONNECT to its CONNACK return code and reports the denial", async () => {
    const denials: unknown[] = [];
    const p = policy(
      { authenticate: async () => deny("bad_secret") },
      { onDenied: (d: unknown) => denials.push(d) },
    );
    await call(p.preConnect, client, { cmd: "connect", clientId: "sl-0001", username: "sl-0001" } as never);
    const [err, ok] = await call(p.authenticate, client, "sl-0001", Buffer.from("pw"));
    expect(ok).toBe(false);
    expect(err).toMatchObject({ message: "bad_secret", returnCode: 4 });
    expect(denials).toEqual([
      {
        action: "connect",
        clientId: "sl-0001",
        principal: "sl-0001",
        topic: undefined,
        reason: "bad_secret",
      },
    ]);
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
    const [subErr, granted] = await call(p.authorizeSubscribe, client, { topic: "a", qos: 1 } as never);
    expect([subErr, granted]).toEqual([null, null]); // SUBACK 0x80
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
      authorizeSubscribe: (_c, s) =>
        s.topic === "#" ? deny("wildcard_not_permitted") : { ok: true, qos: 0 },
    });
    const [, granted] = await call(p.authorizeSubscribe, client, { topic: "a/+", qos: 1 } as never);
    expect(granted).toMatchObject({ topic: "a/+", qos: 0 });
    const [, refused] = await call(p.authorizeSubscribe, client, { topic: "#", qos: 1 } as never);
    expect(refused).toBeNull();
  });
});
