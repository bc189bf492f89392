// The server the conformance suite tests: the real server (Streamable HTTP side of /mcp) with real
// token verification against a local signing issuer. The suite cannot send a bearer token, so a
// loopback proxy adds `Authorization: Bearer <token>` to every request (as an MCP host would) and
// forwards Host and Origin unchanged; the proxy's origin is the one the suite presents as valid.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig, startServer } from '../../mcp-server/src/index.ts';
import { startLocalIssuer } from '../unit/server/helpers/local-issuer.ts';

/** A running server behind its token-adding proxy. */
export interface ServerUnderTest {
  /** The proxy's `/mcp` URL, to hand to the suite. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts issuer, server and proxy; the token carries both scopes, so every tool is listed. */
export async function startServerUnderTest(): Promise<ServerUnderTest> {
  const issuer = await startLocalIssuer();
  const root = mkdtempSync(join(tmpdir(), 'conformance-root-'));
  writeFileSync(join(root, 'hello.txt'), 'hello\n');
  let target = 0;
  const token = await issuer.sign({ azp: 'conformance', sub: 'conformance' }, { expiresIn: '1h' });
  const proxy = createServer((req, res) => {
    const headers = { ...req.headers };
    headers.authorization ??= `Bearer ${token}`;
    const up = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  const proxyPort = (proxy.address() as AddressInfo).port;
  const server = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: root,
      OAUTH_ISSUER: issuer.issuer,
      OAUTH_AUDIENCE: 'mcp-server', // the local issuer's tokens
      ALLOWED_ORIGINS: `http://127.0.0.1:${proxyPort},http://localhost:${proxyPort}`,
      SHUTDOWN_GRACE_MS: '500',
    }),
    { logger: createLogger({ level: 'silent' }) },
  );
  await server.ready;
  target = server.port;
  return {
    url: `http://127.0.0.1:${proxyPort}/mcp`,
    async close() {
      proxy.closeAllConnections();
      proxy.close();
      await server.close();
      await issuer.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
