// Child process of section N (bench/energy.ts): a share of the lamp fleet uploading its history, as controllers
// that were offline for a month would: each lamp connects with its own credentials, publishes its readings as
// arrays of at most 500 (the contract's batch limit) at QoS 1, and disconnects once the broker has acknowledged
// them all. The readings are the simulator's own streetlight model (simulators/models/streetlight.ts: its
// calendar, cumulative meter, driver losses, the demo's rates of lamp failures and meter restarts), so the
// rollups get what a real fleet sends. Raw mqtt-packet keeps thousands of connections cheap.
// Driven over IPC by bench/energy-lamps.ts: start → progress… → done → exit.
import { type Socket, connect as tcpConnect } from "node:net";
import mqttPacket from "mqtt-packet";
import { deviceTopic } from "../services/contract/topics.ts";
import { encodeChunk, type QueuedReading, takeChunk } from "../simulators/batch.ts";
import { NO_FAULTS } from "../simulators/faults.ts";
import { createModel } from "../simulators/models/index.ts";
import type { StreetlightDevice } from "../simulators/plan.ts";
import type { EnergyLamp } from "./energy-fleet.ts";
import type { UploadDone, UploadMessage, UploadStart } from "./energy-lamps.ts";

/** The demo fleet's fault rates (config/simulator.json): a few lamp failures and meter restarts a month. */
const FAULTS = { ...NO_FAULTS, lampFailurePerDay: 0.01, meterResetPerDay: 0.005 };
const send = (m: UploadMessage) => process.send?.(m);

const totals = { lamps: 0, refused: 0, closed: 0, readings: 0, messages: 0, ackedReadings: 0 };
const sockets = new Set<Socket>();

/** The lamp's history as MQTT payloads (arrays of ≤ 500 readings, under the size limit). */
function payloads(o: UploadStart, lamp: EnergyLamp): { payload: string; readings: number }[] {
  const device: StreetlightDevice = {
    kind: "streetlight",
    id: lamp.id,
    district: lamp.district as StreetlightDevice["district"],
    lat: lamp.lat,
    lon: lamp.lon,
    installedAt: "2024-03-01",
    intervalS: o.intervalS,
    phaseMs: lamp.phaseMs,
    ledWatts: lamp.ledW,
    legacyWatts: lamp.legacyW,
    legacyLamp: `${lamp.legacyW} W`,
  };
  const model = createModel(device, { seed: o.seed, faults: FAULTS });
  const step = o.intervalS * 1000;
  const queue: QueuedReading[] = [];
  for (let ts = lamp.phaseMs + Math.ceil((o.fromMs - lamp.phaseMs) / step) * step; ts < o.toMs; ts += step) {
    const { reading } = model.next(ts);
    queue.push({ ts, seq: reading.seq, json: JSON.stringify(reading), energyWh: 0, burnS: 0, overrideS: 0 });
  }
  const out: { payload: string; readings: number }[] = [];
  while (queue.length > 0) {
    const chunk = takeChunk(queue);
    out.push({ payload: encodeChunk(chunk), readings: chunk.length });
  }
  return out;
}

/** One lamp: connect, publish its history, wait for every PUBACK, disconnect. */
function upload(o: UploadStart, lamp: EnergyLamp): Promise<void> {
  return new Promise((done) => {
    const socket = tcpConnect({ port: o.port, host: "127.0.0.1", noDelay: true });
    sockets.add(socket);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const waiting = new Map<number, number>(); // messageId → readings
    let finished = false;
    const finish = (outcome: "lamps" | "refused" | "closed") => {
      if (finished) return;
      finished = true;
      totals[outcome]++;
      sockets.delete(socket);
      socket.destroy();
      done();
    };
    parser.on("packet", (p) => {
      if (p.cmd === "connack") {
        if (p.returnCode !== 0) return finish("refused");
        const topic = deviceTopic("streetlight", lamp.id, "telemetry");
        payloads(o, lamp).forEach((m, i) => {
          waiting.set(i + 1, m.readings);
          totals.readings += m.readings;
          totals.messages++;
          socket.write(
            mqttPacket.generate({
              cmd: "publish",
              topic,
              payload: m.payload,
              qos: 1,
              messageId: i + 1,
              retain: false,
              dup: false,
            }),
          );
        });
      } else if (p.cmd === "puback") {
        totals.ackedReadings += waiting.get(p.messageId as number) ?? 0;
        waiting.delete(p.messageId as number);
        if (waiting.size === 0) {
          // A clean DISCONNECT: no last will [MQTT-3.14.4-3].
          socket.end(mqttPacket.generate({ cmd: "disconnect" }));
          finish("lamps");
        }
      }
    });
    socket.on("data", (buf) => parser.parse(buf));
    socket.on("error", () => {});
    socket.on("close", () => finish("closed"));
    socket.write(
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: lamp.id,
        username: lamp.id,
        password: Buffer.from(lamp.secret),
        clean: true,
        keepalive: 120,
      }),
    );
  });
}

/** Uploads every lamp, `active` at once, starting at most `connectRatePerS` a second. */
async function start(o: UploadStart): Promise<void> {
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const progress = setInterval(() => send({ type: "progress", ackedReadings: totals.ackedReadings }), 2000);
  let next = 0;
  const worker = async () => {
    while (next < o.lamps.length) {
      const i = next++;
      // Pace the CONNECTs: the i-th may start at i / rate seconds.
      const due = t0 + (1000 * i) / o.connectRatePerS - Date.now();
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      await upload(o, o.lamps[i] as EnergyLamp);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.active, o.lamps.length) }, worker));
  clearInterval(progress);
  const cpu = process.cpuUsage(cpu0);
  send({
    type: "done",
    ...totals,
    seconds: (Date.now() - t0) / 1000,
    cpuS: (cpu.user + cpu.system) / 1e6,
  } satisfies UploadDone);
}

process.on("message", (raw) => {
  const cmd = raw as UploadStart | { type: "exit" };
  if (cmd.type === "start") void start(cmd);
  else {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
