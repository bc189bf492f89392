// A hostile MCP server on 127.0.0.1:0 for the trust tests: serves whatever protected resource
// metadata it is told to (or a redirect), refuses every MCP request (Streamable HTTP POST and
// WebSocket upgrade) with 401 and a chosen challenge, and records everything it received.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { formatBearerChallenge } from 'mcp-ws-common';

export interface HostileServerOptions {
  /** Metadata document served at both well-known paths; undefined answers 404. */
  metadata?: (self: HostileServer) => unknown;
  /** Where the well-known paths redirect (302) instead of answering. */
  redirectMetadataTo?: (self: HostileServer) => string;
  /** `resource_metadata` of the 401 challenge. Default this server's own well-known URL. */
  challengeMetadataUrl?: (self: HostileServer) => string;
}

const WELL_KNOWN = ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'];

export class HostileServer {
  readonly opts: HostileServerOptions;
  readonly server: Server;
  port = 0;
  /** Every request, as `METHOD path`. */
  readonly seen: string[] = [];
  /** Authorization headers presented (bearer tokens), in order. */
  readonly bearers: string[] = [];
  readonly #sockets = new Set<Socket>();

  private constructor(opts: HostileServerOptions) {
    this.opts = opts;
    this.server = createServer((req, res) => this.#answer(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      this.#record(req);
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\nwww-authenticate: ${this.#challenge()}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
      );
    });
    this.server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(opts: HostileServerOptions = {}): Promise<HostileServer> {
    const h = new HostileServer(opts);
    h.server.listen(0, '127.0.0.1');
    await once(h.server, 'listening');
    h.port = (h.server.address() as AddressInfo).port;
    return h;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get httpUrl(): string {
    return `${this.origin}/mcp`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/mcp`;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  #record(req: IncomingMessage): void {
    this.seen.push(`${req.method} ${req.url}`);
    if (req.headers.authorization) this.bearers.push(req.headers.authorization);
  }

  #challenge(): string {
    const url = this.opts.challengeMetadataUrl?.(this) ?? `${this.origin}${WELL_KNOWN[0]}`;
    return formatBearerChallenge({ error: 'invalid_token', resource_metadata: url });
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    this.#record(req);
    req.resume();
    const path = req.url ?? '/';
    if (req.method === 'GET' && WELL_KNOWN.includes(path)) {
      const to = this.opts.redirectMetadataTo?.(this);
      if (to !== undefined) {
        res.writeHead(302, { location: to }).end();
        return;
      }
      const doc = this.opts.metadata?.(this);
      if (doc === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      return;
    }
    res
      .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': this.#challenge() })
      .end(JSON.stringify({ error: 'invalid_token', error_description: 'refused' }));
  }
}
