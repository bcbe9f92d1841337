// Provisioning the fleet (register, keep the secrets, rotate what the credentials file lost) against the real
// command service (harness/command-app.ts: buildApp over a real registry in a temp dir, its tokens provisioned
// from the token file `npm start` makes, listening on a free port). Each test has its own service, registry and
// credentials file; hooks on the service only record what arrived.
// What other people do to the registry meanwhile (an engineer rotating, revoking or decommissioning a device,
// the service restarting) is done for real, through the API, between two of the simulator's requests.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deviceRegistration } from "../../services/contract/devices.ts";
import { silentLogger } from "../../services/lib/log.ts";
import { generateSecret, hashSecret } from "../../services/lib/secrets.ts";
import { type Api, createApi } from "../../simulators/api.ts";
import { openCredentialStore } from "../../simulators/credentials.ts";
import { planFleet, toRegistration } from "../../simulators/plan.ts";
import { provisionFleet } from "../../simulators/provision.ts";
import { type CommandApp, isLiveSecret, startCommandApp } from "./harness/command-app.ts";

const services: CommandApp[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function startCommandService(): Promise<CommandApp> {
  const service = await startCommandApp({ tmpPrefix: "sim-provision-" });
  services.push(service);
  return service;
}

/** The simulator's API client, with `actions[path]` done once, right after the first answer to `path`. */
function meanwhile(api: Api, actions: Record<string, () => Promise<void>>): Api {
  const pending = new Map(Object.entries(actions));
  return {
    url: api.url,
    async request(req) {
      const answer = await api.request(req);
      const path = req.path.split("?")[0] as string;
      const action = pending.get(path);
      pending.delete(path);
      await action?.();
      return answer;
    },
  };
}

const fleet = (n: number) =>
  planFleet({ seed: "prov", streetlights: n, airquality: 2, traffic: 2, intervalS: 10, idPrefix: "p" });

async function provision(
  svc: CommandApp,
  file: string,
  n: number,
  opts: { token?: string; api?: (api: Api) => Api } = {},
) {
  const store = await openCredentialStore(file, silentLogger());
  const api = createApi({ url: svc.url, token: opts.token ?? svc.token, log: silentLogger() });
  const result = await provisionFleet({
    api: opts.api ? opts.api(api) : api,
    devices: fleet(n),
    store,
    log: silentLogger(),
    retry: { forMs: 0 },
  });
  return { result, store };
}

const credentialsFile = () => join(mkdtempSync(join(tmpdir(), "prov-")), "sim", "credentials.json");

describe("provisioning the fleet", () => {
  it("keeps the secrets of newly registered devices in a 0600 file; a second run changes nothing", async () => {
    const svc = await startCommandService();
    const file = credentialsFile();
    const first = await provision(svc, file, 20);
    expect(first.result).toMatchObject({ ok: true, created: 24, rotated: 0 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, "utf8")).devices;
    expect(Object.keys(saved)).toHaveLength(24);
    for (const d of fleet(20)) {
      expect(saved[d.id]).toMatchObject({ generation: 1 });
      expect(await isLiveSecret(svc.registry, d.id, saved[d.id].secret)).toBe(true);
    }
    if (!first.result.ok) return;
    expect(first.result.registry?.get(fleet(20)[0]?.id ?? "")).toEqual({
      status: "registered",
      credential_generation: 1,
    });

    const before = svc.arrived.length;
    const second = await provision(svc, file, 20);
    expect(second.result).toMatchObject({ ok: true, created: 0, rotated: 0 });
    expect(svc.arrived.slice(before).map((a) => a.path)).toEqual(["/v1/devices/bulk", "/v1/devices"]);
    expect(svc.arrived.every((a) => a.auth === `Bearer ${svc.token}`)).toBe(true);
    expect(JSON.parse(readFileSync(file, "utf8")).devices).toEqual(saved);
  });

  it("rotates, ≤ 1000 per call, the devices the registry knows but a lost file had secrets for", async () => {
    const svc = await startCommandService();
    const file = credentialsFile();
    // 1001 devices: one full call and a rest. They are in the registry already, registered by an earlier run
    // whose credentials file is lost: written through the registry's own store with one throwaway hash, which
    // spares the service 1001 scrypt hashes (~20 s on two cores). The rotation goes through the API.
    const n = 997;
    const hash = await hashSecret(generateSecret());
    const earlier = fleet(n).map((d) => ({
      device: deviceRegistration.parse(toRegistration(d)),
      secretHash: hash,
    }));
    expect(svc.registry.lifecycle.register(earlier, "create", "demo-simulator").ok).toBe(true);
    const before = svc.arrived.length;
    const { result, store } = await provision(svc, file, n);
    expect(result).toMatchObject({ ok: true, created: 0, rotated: 1001 });
    const rotations = svc.arrived.slice(before).filter((a) => a.path === "/v1/devices/credentials/rotate");
    expect(rotations.map((a) => (a.body as { ids: string[] }).ids.length)).toEqual([1000, 1]);
    for (const d of fleet(n)) expect(store.get(d.id)).toMatchObject({ generation: 2 });
    for (const d of [fleet(n)[0], fleet(n).at(-1)])
      expect(await isLiveSecret(svc.registry, d?.id ?? "", store.get(d?.id ?? "")?.secret)).toBe(true);
    expect((await openCredentialStore(file, silentLogger())).size).toBe(1001);
  });

  it("rotates a device rotated elsewhere; leaves alone one revoked before and one decommissioned during the run", async () => {
    const svc = await startCommandService();
    const file = credentialsFile();
    await provision(svc, file, 4);
    const [a, b, c] = fleet(4);
    if (!a || !b || !c) throw new Error("fleet");
    // An engineer rotated a with the CLI and revoked c's credential.
    expect((await svc.call("POST", `/v1/devices/${a.id}/credentials`)).status).toBe(200);
    expect((await svc.call("DELETE", `/v1/devices/${c.id}/credentials`)).status).toBe(200);
    // ... and decommissions b while the simulator is registering the fleet again.
    const decommissionB = async () => {
      const res = await svc.call("POST", `/v1/devices/${b.id}/decommission`, { reason: "pole removed" });
      expect(res.status).toBe(200);
    };
    const { result, store } = await provision(svc, file, 4, {
      api: (api) => meanwhile(api, { "/v1/devices/bulk": decommissionB }),
    });
    expect(result).toMatchObject({ ok: true, created: 0, rotated: 1 });
    expect(store.get(a.id)?.generation).toBe(3);
    expect(await isLiveSecret(svc.registry, a.id, store.get(a.id)?.secret)).toBe(true);
    expect(store.get(b.id)?.generation).toBe(1);
    expect(store.get(c.id)?.generation).toBe(1);
    if (!result.ok) return;
    expect(result.registry?.get(b.id)?.status).toBe("decommissioned");
    expect(result.registry?.get(c.id)).toEqual({ status: "registered", credential_generation: 0 });
  });

  // A device an operator decommissioned BEFORE the run: the registry refuses to upsert a decommissioned id and
  // the bulk upsert is all or nothing, so provisioning leaves it out of the registration (simulators/provision.ts).
  it("leaves alone a device decommissioned before the run", async () => {
    const svc = await startCommandService();
    const file = credentialsFile();
    await provision(svc, file, 4);
    const [gone] = fleet(4);
    expect((await svc.call("POST", `/v1/devices/${gone?.id}/decommission`, { reason: "x" })).status).toBe(
      200,
    );
    const { result } = await provision(svc, file, 4);
    expect(result).toMatchObject({ ok: true, created: 0, rotated: 0 });
  });

  it("stops with the registry's answer when the token is refused", async () => {
    const svc = await startCommandService();
    const { result, store } = await provision(svc, credentialsFile(), 2, { token: "cst_wrong" });
    expect(result).toMatchObject({ ok: false, reason: "http_error", status: 401 });
    expect(store.size).toBe(0);
    expect(svc.registry.devices.count()).toBe(0);
  });

  it("when the registry cannot be listed, rotates what it can: ids the registry refuses are left out", async () => {
    // The command service restarts right after the simulator's registration, so its list request finds nobody
    // listening; once it is back, an engineer decommissions one of the devices the lost file had secrets for.
    const svc = await startCommandService();
    const file = credentialsFile();
    await provision(svc, file, 4);
    rmSync(file);
    const [gone] = fleet(4);
    if (!gone) throw new Error("fleet");
    const { result, store } = await provision(svc, file, 4, {
      api: (api) =>
        meanwhile(api, {
          "/v1/devices/bulk": () => svc.stop(),
          "/v1/devices": async () => {
            await svc.listen();
            const res = await svc.call("POST", `/v1/devices/${gone.id}/decommission`, {
              reason: "pole removed",
            });
            expect(res.status).toBe(200);
          },
        }),
    });
    expect(result).toMatchObject({ ok: true, rotated: 7, registry: undefined });
    expect(store.get(gone.id)).toBeUndefined();
    expect(store.size).toBe(7);
    for (const d of fleet(4).slice(1))
      expect(await isLiveSecret(svc.registry, d.id, store.get(d.id)?.secret)).toBe(true);
  });
});
