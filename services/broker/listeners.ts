// The broker's two transports: MQTT over TCP, and MQTT over WebSocket (MQTT 3.1.1 section 6) on a path.
// Both hand each connection to `onConnection` as a Duplex stream of MQTT bytes.
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server } from "node:net";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocketServer } from "ws";
import type { Peer } from "./hooks/adapter.ts";

export type OnConnection = (stream: Duplex, peer: Peer, req?: IncomingMessage) => void;
export type Listener = { port: number; close(): Promise<void> };

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });

export async function listenTcp(host: string, port: number, onConnection: OnConnection): Promise<Listener> {
  // No Nagle: PUBACKs and small PUBLISHes would otherwise wait for the peer's delayed ACK.
  const server = createTcpServer({ noDelay: true }, (socket) =>
    onConnection(socket, { transport: "tcp", remoteAddress: socket.remoteAddress }),
  );
  return { port: await listen(server, host, port), close: () => closeServer(server) };
}

export async function listenWs(
  host: string,
  port: number,
  path: string,
  onConnection: OnConnection,
): Promise<Listener> {
  const http = createHttpServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end(`MQTT over WebSocket on ${path}\n`);
  });
  const wss = new WebSocketServer({
    server: http,
    path,
    // The server selects "mqtt" when the client offers it [MQTT-6.0.0-4]; clients MUST offer it
    // [MQTT-6.0.0-3], but a client that offers nothing is served anyway.
    handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : false),
  });
  wss.on("connection", (ws, req) => {
    ws.on("message", (_data, isBinary) => {
      // MQTT travels in binary frames only; any other data frame closes the connection [MQTT-6.0.0-1].
      if (!isBinary) ws.terminate();
    });
    // Frames need not align with MQTT packets [MQTT-6.0.0-2]: the stream hands aedes plain bytes.
    const stream = createWebSocketStream(ws);
    stream.on("error", () => {}); // reported by aedes through the client's error handling
    onConnection(stream, { transport: "ws", remoteAddress: req.socket.remoteAddress }, req);
  });
  return {
    port: await listen(http, host, port),
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await closeServer(http);
    },
  };
}
