// The broker's policy hooks (over an in-memory access view and a real verifier): every admission and every
// refusal with its reason. The adapter onto aedes: broker-adapter.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import type { AccessView, DeviceAccess, ServiceAccess } from "../../services/broker/access/cache.ts";
import { createSecretVerifier } from "../../services/broker/access/verifier.ts";
import { MAX_CLIENT_ID_LENGTH } from "../../services/broker/hooks/authenticate.ts";
import { createPolicyHooks } from "../../services/broker/hooks/index.ts";
import { devicePrincipal, servicePrincipal } from "../../services/broker/hooks/principal.ts";
import { BROKER_REASONS, type BrokerReason, connackCode } from "../../services/broker/hooks/reasons.ts";
import { ALLOW, type ClientInfo, type ConnectRequest, deny } from "../../services/broker/hooks/types.ts";
import { MAX_MESSAGE_BYTES } from "../../services/contract/readings.ts";
import { hashSecret, type SCRYPT_PARAMS, sha256Hash } from "../../services/lib/secrets.ts";

// A cheap scrypt for tests, in the production format (hashSecret types its params as the production ones).
const FAST = { ln: 10, r: 8, p: 1 } as unknown as typeof SCRYPT_PARAMS;
const TOKEN = "cst_ingest-token";
const devices = new Map<string, DeviceAccess>();
const services = new Map<string, ServiceAccess>();
let ready = true;
const access: AccessView = {
  ready: () => ready,
  device: (id) => devices.get(id),
  service: (name) => services.get(name),
};
const dev = (principal: string, over: Partial<DeviceAccess> = {}): DeviceAccess => ({
  seq: 1,
  type: "device",
  principal,
  kind: "streetlight",
  allowed: true,
  generation: 1,
  secret_hash: null,
  ...over,
});

beforeAll(async () => {
  devices.set("sl-0001", dev("sl-0001", { secret_hash: await hashSecret("s3cret", FAST) }));
  devices.set("sl-0002", dev("sl-0002", { secret_hash: await hashSecret("other", FAST) }));
  devices.set("sl-gone", dev("sl-gone", { allowed: false, generation: 0 }));
  services.set("svc-ingest", {
    seq: 2,
    type: "service",
    principal: "svc-ingest",
    role: "service_ingest",
    allowed: true,
    generation: 1,
    secret_hash: sha256Hash(TOKEN),
  });
  const ingest = services.get("svc-ingest") as ServiceAccess;
  services.set("svc-old", { ...ingest, principal: "svc-old", allowed: false });
  services.set("svc-command", { ...ingest, principal: "svc-command", role: "service_command" });
});
const device = () => devicePrincipal(devices.get("sl-0001") as DeviceAccess);
const service = (name: string) => servicePrincipal(services.get(name) as ServiceAccess);

const hooks = createPolicyHooks({
  access,
  verifier: createSecretVerifier({ concurrency: 2, maxQueue: 10, maxEntries: 100 }),
});
const connect = (clientId: string, username?: string, password?: string): ConnectRequest => ({
  clientId,
  username,
  password: password === undefined ? undefined : Buffer.from(password),
  transport: "tcp",
  remoteAddress: "127.0.0.1",
  cleanSession: true,
});
const as = (principal: ClientInfo["principal"]): ClientInfo => ({
  clientId: principal?.id ?? "x",
  username: principal?.id,
  transport: "tcp",
  remoteAddress: "127.0.0.1",
  principal,
});
const publish = (topic: string, bytes = 2) => ({
  topic,
  qos: 1 as const,
  retain: false,
  payload: Buffer.alloc(bytes),
});
const sub = (topic: string) => ({ topic, qos: 1 as const });
const own = (ch: string, id = "sl-0001") => `city/v1/streetlight/${id}/${ch}`;

describe("authenticate", () => {
  it("admits a device with its own id and secret, and a service with its token", async () => {
    expect(await hooks.authenticate(connect("sl-0001", "sl-0001", "s3cret"))).toMatchObject({
      ok: true,
      principal: { type: "device", id: "sl-0001", kind: "streetlight", generation: 1 },
    });
    for (const clientId of ["svc-ingest", "svc-ingest-7"])
      expect(await hooks.authenticate(connect(clientId, "svc-ingest", TOKEN))).toMatchObject({
        ok: true,
        principal: { type: "service", id: "svc-ingest", role: "service_ingest" },
      });
  });

  it.each<[string, ConnectRequest, BrokerReason, number]>([
    ["an empty client id", connect("", "sl-0001", "s3cret"), "empty_client_id", 2],
    ["an overlong client id", connect("x".repeat(MAX_CLIENT_ID_LENGTH + 1)), "client_id_too_long", 2],
    ["no username", connect("sl-0001", undefined, "s3cret"), "missing_credentials", 4],
    ["no password", connect("sl-0001", "sl-0001"), "missing_credentials", 4],
    ["an unknown device", connect("sl-9999", "sl-9999", "s3cret"), "unknown_principal", 4],
    ["an unknown service", connect("svc-nobody", "svc-nobody", TOKEN), "unknown_principal", 4],
    ["a wrong secret", connect("sl-0001", "sl-0001", "wrong"), "bad_secret", 4],
    ["another device's secret", connect("sl-0001", "sl-0001", "other"), "bad_secret", 4],
    ["a wrong token", connect("svc-ingest", "svc-ingest", "cst_nope"), "bad_secret", 4],
    ["a decommissioned device", connect("sl-gone", "sl-gone", "s3cret"), "principal_disallowed", 5],
    ["a revoked service token", connect("svc-old", "svc-old", TOKEN), "principal_disallowed", 5],
    ["client id ≠ username", connect("sl-0002", "sl-0001", "s3cret"), "client_id_mismatch", 5],
    ["a service under another client id", connect("ingest", "svc-ingest", TOKEN), "client_id_mismatch", 5],
    ["a service id's look-alike", connect("svc-ingestx", "svc-ingest", TOKEN), "client_id_mismatch", 5],
  ])("refuses %s", async (_what, req, reason, code) => {
    expect(await hooks.authenticate(req)).toEqual(deny(reason));
    expect(connackCode(reason)).toBe(code);
  });

  it("refuses everyone with 0x03 until the access list is loaded", async () => {
    ready = false;
    try {
      expect(await hooks.authenticate(connect("sl-0001", "sl-0001", "s3cret"))).toEqual(
        deny("access_not_ready"),
      );
      expect(connackCode("access_not_ready")).toBe(3);
    } finally {
      ready = true;
    }
  });

  it("decides on the entry in force after the secret check (revoked meanwhile)", async () => {
    const hash = await hashSecret("mid", FAST);
    devices.set("sl-mid", dev("sl-mid", { secret_hash: hash }));
    const pending = hooks.authenticate(connect("sl-mid", "sl-mid", "mid"));
    devices.set("sl-mid", dev("sl-mid", { allowed: false, generation: 0 }));
    expect(await pending).toEqual(deny("principal_disallowed"));
  });
});

describe("authenticate: when the secret check cannot decide", () => {
  it("refuses with 0x03 when the checks are saturated (the client retries later)", async () => {
    const busy = createPolicyHooks({
      access,
      verifier: { verify: async () => "busy", forget: () => {}, pending: () => 0, size: () => 0 },
    });
    expect(await busy.authenticate(connect("sl-0001", "sl-0001", "s3cret"))).toEqual(deny("auth_busy"));
    expect(connackCode("auth_busy")).toBe(3);
  });

  it("refuses with 0x03 when the entry keeps changing under the check", async () => {
    let generation = 1;
    const churning: AccessView = {
      ...access,
      device: (id) => ({ ...(devices.get(id) as DeviceAccess), generation: generation++ }),
    };
    const h = createPolicyHooks({
      access: churning,
      verifier: { verify: async () => "verified", forget: () => {}, pending: () => 0, size: () => 0 },
    });
    expect(await h.authenticate(connect("sl-0001", "sl-0001", "s3cret"))).toEqual(deny("access_changed"));
  });
});

describe("authorizePublish", () => {
  it("lets a device publish to its own telemetry, state and ack", () => {
    for (const ch of ["telemetry", "state", "ack"])
      expect(hooks.authorizePublish(as(device()), publish(own(ch)))).toEqual(ALLOW);
  });

  it.each<[string, string, BrokerReason]>([
    ["another device's telemetry", own("telemetry", "sl-0002"), "topic_not_permitted"],
    ["its own cmd", own("cmd"), "topic_not_permitted"],
    ["its id under another kind", "city/v1/traffic/sl-0001/telemetry", "topic_not_permitted"],
    ["a topic below its own", `${own("telemetry")}/x`, "topic_not_permitted"],
    ["the registry notice", "platform/v1/registry/changed", "platform_topic"],
    ["$SYS", "$SYS/broker/uptime", "reserved_topic"],
  ])("refuses a device publishing to %s", (_what, topic, reason) => {
    expect(hooks.authorizePublish(as(device()), publish(topic))).toEqual(deny(reason));
  });

  it("refuses a device payload above the contract's maximum", () => {
    expect(hooks.authorizePublish(as(device()), publish(own("telemetry"), MAX_MESSAGE_BYTES))).toEqual(ALLOW);
    expect(hooks.authorizePublish(as(device()), publish(own("telemetry"), MAX_MESSAGE_BYTES + 1))).toEqual(
      deny("payload_too_large"),
    );
  });

  it("lets services publish where their ACL says, and nowhere else", () => {
    expect(hooks.authorizePublish(as(service("svc-command")), publish(own("cmd")))).toEqual(ALLOW);
    expect(
      hooks.authorizePublish(as(service("svc-command")), publish("platform/v1/registry/changed")),
    ).toEqual(ALLOW);
    expect(hooks.authorizePublish(as(service("svc-command")), publish(own("telemetry")))).toEqual(
      deny("topic_not_permitted"),
    );
    expect(hooks.authorizePublish(as(service("svc-ingest")), publish("platform/v1/ingest/activity"))).toEqual(
      ALLOW,
    );
    expect(hooks.authorizePublish(as(service("svc-ingest")), publish(own("cmd")))).toEqual(
      deny("topic_not_permitted"),
    );
  });

  it("lets the command service publish a streetlight's calendar, and no device publish one", () => {
    expect(hooks.authorizePublish(as(service("svc-command")), publish(own("calendar")))).toEqual(ALLOW);
    expect(hooks.authorizePublish(as(device()), publish(own("calendar")))).toEqual(
      deny("topic_not_permitted"),
    );
    expect(
      hooks.authorizePublish(as(service("svc-command")), publish("city/v1/traffic/tc-0001/calendar")),
    ).toEqual(deny("topic_not_permitted"));
  });

  it("refuses a client without a principal, and a session whose access changed", () => {
    expect(hooks.authorizePublish(as(undefined), publish(own("telemetry")))).toEqual(deny("unauthenticated"));
    const stale = { ...device(), generation: 0 };
    expect(hooks.authorizePublish(as(stale), publish(own("telemetry")))).toEqual(deny("session_revoked"));
  });
});

describe("authorizeSubscribe", () => {
  const ingest = () => service("svc-ingest");

  it("lets a device subscribe to its own cmd and calendar only", () => {
    expect(hooks.authorizeSubscribe(as(device()), sub(own("cmd")))).toEqual({ ok: true, qos: 1 });
    expect(hooks.authorizeSubscribe(as(device()), sub(own("calendar")))).toEqual({ ok: true, qos: 1 });
  });

  it.each<[string, string, BrokerReason]>([
    ["#", "#", "wildcard_not_permitted"],
    ["its own cmd by wildcard", "city/v1/streetlight/+/cmd", "wildcard_not_permitted"],
    ["another device's cmd", own("cmd", "sl-0002"), "topic_not_permitted"],
    ["another device's calendar", own("calendar", "sl-0002"), "topic_not_permitted"],
    ["every lamp's calendar", "city/v1/streetlight/+/calendar", "wildcard_not_permitted"],
    ["its own telemetry", own("telemetry"), "topic_not_permitted"],
    ["$SYS/#", "$SYS/#", "reserved_topic"],
    ["presence", "platform/v1/presence/streetlight/sl-0001", "platform_topic"],
    ["a malformed filter", "city/#/x", "invalid_filter"],
  ])("refuses a device subscribing to %s", (_what, filter, reason) => {
    expect(hooks.authorizeSubscribe(as(device()), sub(filter))).toEqual(deny(reason));
  });

  it("refuses a client without a principal, and a session whose access changed", () => {
    expect(hooks.authorizeSubscribe(as(undefined), sub(own("cmd")))).toEqual(deny("unauthenticated"));
    const stale = { ...device(), generation: 7 };
    expect(hooks.authorizeSubscribe(as(stale), sub(own("cmd")))).toEqual(deny("session_revoked"));
  });

  it("lets a service subscribe to filters its ACL covers, equal or narrower", () => {
    expect(hooks.authorizeSubscribe(as(ingest()), sub("city/v1/+/+/telemetry"))).toEqual({
      ok: true,
      qos: 1,
    });
    expect(hooks.authorizeSubscribe(as(ingest()), sub("city/v1/traffic/+/telemetry"))).toMatchObject({
      ok: true,
    });
    for (const wider of ["#", "city/v1/#", "city/v1/+/+/+", "city/v1/+/+/cmd"])
      expect(hooks.authorizeSubscribe(as(ingest()), sub(wider))).toEqual(deny("topic_not_permitted"));
    expect(hooks.authorizeSubscribe(as(ingest()), sub("$SYS/#"))).toEqual(deny("reserved_topic"));
  });
});

describe("reasons", () => {
  it("every reason is documented and has a CONNACK code", () => {
    for (const reason of Object.keys(BROKER_REASONS) as BrokerReason[]) {
      expect(BROKER_REASONS[reason].length).toBeGreaterThan(10);
      expect([2, 3, 4, 5]).toContain(connackCode(reason));
    }
  });
});
