// In-test OAuth token endpoint and discovery document on 127.0.0.1:0.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTokenEndpointOptions {
  /** Secrets accepted for client `mcp-client`. Default ['s3cret']. */
  secrets?: string[];
  /** expires_in of issued tokens, in seconds. Default 300. */
  expiresIn?: number;
  /** Delay before answering a token request, in ms. Default 0. */
  delayMs?: number;
  /** Delay before answering token request `n` (1-based), in ms; overrides `delayMs`. */
  delayOf?: (n: number) => number;
  /** Issuer published in the discovery document; default the server's own issuer URL. */
  publishedIssuer?: string;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
}

export class FakeTokenEndpoint {
  readonly opts: FakeTokenEndpointOptions;
  server!: Server;
  base = '';
  requests = 0;
  /** Secrets presented, in order. */
  readonly presented: string[] = [];
  /** Form bodies of token requests, in order (to check `resource`, `scope`). */
  readonly forms: URLSearchParams[] = [];
  /** Every request received, as `METHOD path` (a hostile-server test asserts this stays empty). */
  readonly seen: string[] = [];
  /** TCP connections accepted (a refused client must not even connect). */
  connections = 0;
  /** Extra JSON documents served by path (e.g. protected resource metadata). */
  readonly documents = new Map<string, unknown>();

  constructor(opts: FakeTokenEndpointOptions) {
    this.opts = opts;
  }

  get issuer(): string {
    return `${this.base}/realms/test`;
  }
  get tokenUrl(): string {
    return `${this.issuer}/protocol/openid-connect/token`;
  }

  static async start(opts: FakeTokenEndpointOptions = {}): Promise<FakeTokenEndpoint> {
    const t = new FakeTokenEndpoint(opts);
    t.server = createServer((req, res) => {
      const path = req.url ?? '/';
      t.seen.push(`${req.method} ${path}`);
      if (req.method === 'GET' && t.documents.has(path)) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(t.documents.get(path)));
        return;
      }
      if (req.method === 'GET' && path === '/realms/test/.well-known/openid-configuration') {
        const doc = { issuer: t.opts.publishedIssuer ?? t.issuer, token_endpoint: t.tokenUrl };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
        return;
      }
      if (req.method !== 'POST' || path !== '/realms/test/protocol/openid-connect/token') {
        res.writeHead(404).end();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        t.requests += 1;
        const form = new URLSearchParams(body);
        t.forms.push(form);
        const secret = form.get('client_secret') ?? '';
        t.presented.push(secret);
        const answer = () => {
          if (form.get('client_id') !== 'mcp-client' || !(t.opts.secrets ?? ['s3cret']).includes(secret)) {
            res
              .writeHead(401, { 'content-type': 'application/json' })
              .end(JSON.stringify({ error: 'invalid_client', error_description: 'Invalid client credentials' }));
            return;
          }
          const n = t.requests;
          const iat = Math.floor(Date.now() / 1000);
          const payload = Buffer.from(
            JSON.stringify({
              azp: 'mcp-client',
              scope: form.get('scope') ?? '',
              n,
              iat,
              exp: iat + (t.opts.expiresIn ?? 300),
            }),
          ).toString('base64url');
          const token = `eyJhbGciOiJub25lIn0.${payload}.sig`;
          res
            .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
            .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: t.opts.expiresIn ?? 300 }));
        };
        setTimeout(answer, t.opts.delayOf?.(t.requests) ?? t.opts.delayMs ?? 0);
      });
    });
    t.server.on('connection', () => {
      t.connections += 1;
    });
    t.server.listen(0, t.opts.host ?? '127.0.0.1');
    await once(t.server, 'listening');
    const { port } = t.server.address() as AddressInfo;
    t.base = `http://${t.opts.host === undefined || t.opts.host === '0.0.0.0' ? '127.0.0.1' : t.opts.host}:${port}`;
    return t;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
