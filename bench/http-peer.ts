/**
 * Child process: the peer. The same two tools (the server's own session factory, so the same
 * tool code) served by the SDK v2 `NodeStreamableHTTPServerTransport` with JSON responses, stateful
 * (one transport + McpServer per session), every request's bearer token verified with jose
 * against the same issuer's JWKS (cached). Logs go to stdout, which the parent discards.
 * Commands: `start({ issuer, jwksUrl, root, logLevel })` -> endpoint URL.
 */
// The same threadpool sizing as mcp-server's entry point: the peer runs the same file tools.
import '../mcp-server/src/threadpool.ts';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { type AuthInfo, isInitializeRequest } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createLogger } from '../mcp-server/src/log.ts';
import { createSession } from '../mcp-server/src/mcp/session.ts';
import { serveCommands } from './child.ts';

/** Arguments of `start`. */
export interface PeerArgs {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Served directory. */
  readonly root: string;
  /** pino level of the audit log. */
  readonly logLevel: string;
}

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
let server: Server | undefined;

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString()));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

serveCommands(
  {
    async start(args: PeerArgs): Promise<string> {
      const logger = createLogger({ level: args.logLevel });
      const jwks = createRemoteJWKSet(new URL(args.jwksUrl));
      const transports = new Map<string, NodeStreamableHTTPServerTransport>();

      async function authenticate(req: IncomingMessage): Promise<AuthInfo | undefined> {
        const header = req.headers.authorization;
        if (!header?.startsWith('Bearer ')) return undefined;
        const token = header.slice(7);
        try {
          const { payload } = await jwtVerify(token, jwks, { issuer: args.issuer, audience: 'mcp-server' });
          return {
            token,
            clientId: String(payload.azp ?? ''),
            scopes: String(payload.scope ?? '').split(' '),
            ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
            extra: { sub: payload.sub },
          };
        } catch {
          return undefined;
        }
      }

      server = createServer((req, res) => {
        (async () => {
          const authInfo = await authenticate(req);
          if (!authInfo) {
            res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
            return;
          }
          const body = req.method === 'POST' ? await readBody(req) : undefined;
          const sessionId = req.headers['mcp-session-id'];
          let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
          if (!transport && sessionId === undefined && isInitializeRequest(body)) {
            const created: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
              sessionIdGenerator: () => randomUUID(),
              enableJsonResponse: true,
              onsessioninitialized: (id): void => {
                transports.set(id, created);
              },
            });
            created.onclose = () => {
              if (created.sessionId) transports.delete(created.sessionId);
            };
            const mcp = createSession({ authInfo, root: args.root, maxFileBytes: MAX_FILE_BYTES, logger });
            await mcp.connect(created);
            transport = created;
          }
          if (!transport) {
            res.writeHead(404, { 'content-type': 'application/json' });
            res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
            return;
          }
          (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
          await transport.handleRequest(req, res, body);
        })().catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500).end(String(err));
        });
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    },
  },
  async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  },
);
