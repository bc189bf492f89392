/**
 * Child process: the 2026-07-28 stateless peer. The SDK v2 entry `createMcpHandler` served plainly
 * (`toNodeHandler` on node:http, the SDK's defaults: a fresh McpServer per request from the
 * factory), the same two tools (the server's own session factory, so the same tool code), every
 * request's bearer token verified with jose `jwtVerify` against the same issuer's JWKS (cached by
 * `createRemoteJWKSet`). What a user following the SDK's documentation would wire. Logs go to
 * stdout, which the parent discards.
 * Commands: `start({ issuer, jwksUrl, root, logLevel })` -> endpoint URL.
 */
// The same threadpool sizing as mcp-server's entry point: the peer runs the same file tools.
import '../mcp-server/src/threadpool.ts';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createLogger } from '../mcp-server/src/log.ts';
import { createSession } from '../mcp-server/src/mcp/session.ts';
import { serveCommands } from './child.ts';
import type { PeerArgs } from './http-peer.ts';

const MAX_FILE_BYTES = 1024 * 1024;

/** Starts the peer on 127.0.0.1 (a free port); answers its endpoint URL and how to stop it. */
export async function startSdkHandlerPeer(args: PeerArgs): Promise<{ url: string; close(): Promise<void> }> {
  const logger = createLogger({ level: args.logLevel });
  const jwks = createRemoteJWKSet(new URL(args.jwksUrl));

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

  const handler = createMcpHandler((ctx) =>
    createSession({ authInfo: ctx.authInfo as AuthInfo, root: args.root, maxFileBytes: MAX_FILE_BYTES, logger }),
  );
  const node = toNodeHandler(handler);
  const server = createServer((req, res) => {
    (async () => {
      const authInfo = await authenticate(req);
      if (!authInfo) {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
        return;
      }
      // toNodeHandler passes `req.auth` on as the request's authInfo (ctx.http.authInfo).
      (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
      await node(req, res);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// As a forked child (bench/run.ts, bench/http-ab.ts): commands over IPC.
if (process.send !== undefined) {
  let peer: Awaited<ReturnType<typeof startSdkHandlerPeer>> | undefined;
  serveCommands(
    {
      async start(args: PeerArgs): Promise<string> {
        peer = await startSdkHandlerPeer(args);
        return peer.url;
      },
    },
    async () => {
      await peer?.close();
    },
  );
}
