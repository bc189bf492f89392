// Hostile network paths between the client and a server, for resend and liveness tests:
// CallDroppingRelay kills every WebSocket connection that carries a matching request (after
// passing it on, so the call may have run); BlackholeRelay is a TCP proxy whose existing
// connections can be made to stop forwarding without closing (a silently dead path).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
  connect as tcpConnect,
} from 'node:net';
import { MCP_SUBPROTOCOL } from 'mcp-ws-common';
import WebSocket, { WebSocketServer } from 'ws';

/** Which client->server messages the relay drops the connection for. */
export type DropRule = (message: { method?: string; params?: { name?: string } }, seen: number) => boolean;

export class CallDroppingRelay {
  readonly #http: Server;
  readonly #wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (set) => (set.has(MCP_SUBPROTOCOL) ? MCP_SUBPROTOCOL : false),
  });
  /** Messages that matched the rule (each was passed on, then its connection killed). */
  dropped = 0;
  /** Connections the relay accepted. */
  connections = 0;

  private constructor(target: string, rule: DropRule) {
    this.#http = createServer((_req, res) => res.writeHead(426).end());
    this.#http.on('upgrade', (req, socket, head) => {
      const upstream = new WebSocket(target, [MCP_SUBPROTOCOL], {
        headers: { authorization: req.headers.authorization ?? '' },
      });
      upstream.once('error', () => socket.destroy());
      upstream.once('unexpected-response', () => socket.destroy());
      upstream.once('open', () => {
        this.#wss.handleUpgrade(req, socket, head, (client) => {
          this.connections += 1;
          const kill = () => {
            client.terminate();
            upstream.terminate();
          };
          client.on('message', (data) => {
            const text = String(data);
            const matched = rule(JSON.parse(text), this.dropped);
            if (matched) this.dropped += 1;
            upstream.send(text, () => (matched ? kill() : undefined));
          });
          upstream.on('message', (data) => client.send(String(data)));
          client.on('close', kill);
          upstream.on('close', kill);
        });
      });
    });
  }

  /** Starts a relay on 127.0.0.1 in front of the WebSocket server at `target`. */
  static async start(target: string, rule: DropRule): Promise<CallDroppingRelay> {
    const r = new CallDroppingRelay(target, rule);
    r.#http.listen(0, '127.0.0.1');
    await once(r.#http, 'listening');
    return r;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#http.address() as AddressInfo).port}/mcp`;
  }

  async stop(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    this.#http.closeAllConnections();
    await new Promise<void>((r) => this.#http.close(() => r()));
  }
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  dead: boolean;
}

export class BlackholeRelay {
  readonly #server: TcpServer;
  readonly #pairs = new Set<Pair>();

  private constructor(targetPort: number) {
    this.#server = createTcpServer((client) => {
      const upstream = tcpConnect(targetPort, '127.0.0.1');
      const pair: Pair = { client, upstream, dead: false };
      this.#pairs.add(pair);
      client.on('data', (d) => pair.dead || upstream.write(d));
      upstream.on('data', (d) => pair.dead || client.write(d));
      // A blackholed path delivers neither data nor a close: only a live one passes the close on.
      const end = () => {
        this.#pairs.delete(pair);
        if (!pair.dead) client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
  }

  static async start(targetPort: number): Promise<BlackholeRelay> {
    const r = new BlackholeRelay(targetPort);
    r.#server.listen(0, '127.0.0.1');
    await once(r.#server, 'listening');
    return r;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}/mcp`;
  }

  /** Connections open through the relay (blackholed ones included until the client gives up). */
  get open(): number {
    return this.#pairs.size;
  }

  /** Every connection open now stops forwarding in both directions, without closing. New ones work. */
  blackholeAll(): void {
    for (const p of this.#pairs) p.dead = true;
  }

  async stop(): Promise<void> {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
