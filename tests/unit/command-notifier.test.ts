// The registry/changed notice: sent with the service's MQTT account, coalesced, carrying both feeds' newest
// sequence numbers, and sent again on (re)connection. A bare aedes broker on port 0 stands in for ours.
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { createMqttNotifier } from "../../services/command/notifier.ts";
import { REGISTRY_CHANGED_TOPIC } from "../../services/contract/topics.ts";
import { silentLogger } from "../../services/lib/log.ts";

let broker: Aedes | undefined;
let server: Server | undefined;
afterEach(async () => {
  server?.close();
  await new Promise<void>((r) => (broker ? broker.close(() => r()) : r()));
});

describe("createMqttNotifier", () => {
  it("announces both feeds' latest sequence numbers with its own account, once per burst", async () => {
    const logins: string[] = [];
    broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        logins.push(`${client.id} ${username} ${password?.toString()}`);
        done(null, username === "svc-command" && password?.toString() === "cst_secret");
      },
    });
    const b = broker;
    server = createServer((socket) => b.handle(socket));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;

    const watcher = mqtt.connect(url, {
      username: "svc-command",
      password: "cst_secret",
      clientId: "svc-command-test",
    });
    await watcher.subscribeAsync(REGISTRY_CHANGED_TOPIC);
    const notices: unknown[] = [];
    watcher.on("message", (_t, payload) => notices.push(JSON.parse(payload.toString())));

    let seq = 7;
    const notifier = createMqttNotifier(
      { url, username: "svc-command", password: "cst_secret" },
      () => ({ latest: seq, access_latest: seq + 100 }),
      silentLogger(),
    );
    await expect.poll(() => notices.length).toBe(1); // on connecting: changes made meanwhile
    seq = 9;
    for (let i = 0; i < 20; i++) notifier.notify();
    await expect.poll(() => notices.length).toBe(2);
    await new Promise((r) => setTimeout(r, 150));
    expect(notices).toEqual([
      { latest: 7, access_latest: 107 },
      { latest: 9, access_latest: 109 },
    ]);
    expect(logins).toContain("svc-command-notifier svc-command cst_secret");
    await notifier.close();
    await watcher.endAsync();
  });
});
