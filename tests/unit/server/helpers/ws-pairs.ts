// A bare ws server on loopback for the tests that wrap a WsServerTransport around its server end.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/** Both ends of one connection, and the server end's TCP socket (to cork it: its writes then wait). */
export interface WsPair {
  readonly client: WebSocket;
  readonly serverWs: WebSocket;
  readonly serverSocket: { cork(): void; uncork(): void };
}

export interface WsPairs {
  /** Connects a client; resolves once both ends are open. */
  open(): Promise<WsPair>;
  /** Terminates what is still open and stops listening. */
  close(): Promise<void>;
}

export async function startWsPairs(): Promise<WsPairs> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return {
    async open() {
      const serverSide = new Promise<WebSocket>((r) => wss.once('connection', r));
      const client = new WebSocket(url);
      await new Promise((r) => client.once('open', r));
      const serverWs = await serverSide;
      const serverSocket = (serverWs as unknown as { _socket: WsPair['serverSocket'] })._socket;
      return { client, serverWs, serverSocket };
    },
    close() {
      for (const c of wss.clients) c.terminate();
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
