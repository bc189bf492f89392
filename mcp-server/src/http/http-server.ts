import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import { type Readiness, serveHealth, serveReadiness } from './health.ts';
import { METADATA_PATHS, type ProtectedResourceMetadata, serveMetadata } from './protected-resource-metadata.ts';

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  /** The RFC 9728 document (a function: the port may be known only after listen). */
  metadata(): ProtectedResourceMetadata;
  readiness(): Readiness;
  /** The WebSocket upgrade listener. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  logger: Logger;
}

function notFound(res: ServerResponse, status = 404, error = 'not_found'): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error, error_description: status === 404 ? 'no such endpoint' : 'use GET' }));
}

/**
 * The node:http server: RFC 9728 metadata, /healthz, /readyz, 404 for the rest; WebSocket
 * upgrades go to `onUpgrade`. A plain GET of /mcp gets 426 Upgrade Required.
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return notFound(res, 405, 'method_not_allowed');
    if (METADATA_PATHS.includes(pathname)) return serveMetadata(res, req, options.metadata());
    if (pathname === '/healthz') return serveHealth(res);
    if (pathname === '/readyz') return serveReadiness(res, options.readiness());
    if (pathname === '/mcp' || pathname === '/') {
      res.writeHead(426, { 'content-type': 'application/json', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('{"error":"upgrade_required","error_description":"connect with a WebSocket (subprotocol mcp)"}');
      return;
    }
    notFound(res);
  });
  server.on('upgrade', options.onUpgrade);
  server.on('clientError', (err, socket) => {
    options.logger.debug({ event: 'client_error', error: err.message });
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  return server;
}
