import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createSecureServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import { applyCors, serveMetadataPreflight, servePreflight } from './cors.ts';
import { type Readiness, serveHealth, serveReadiness } from './health.ts';
import { METADATA_PATHS, type ProtectedResourceMetadata, serveMetadata } from './protected-resource-metadata.ts';

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  /** The RFC 9728 document (a function: the port may be known only after listen). */
  metadata(): ProtectedResourceMetadata;
  readiness(): Readiness;
  /** The WebSocket upgrade listener. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Streamable HTTP: every non-upgrade request of `/mcp` and `/` (POST/GET/DELETE; it answers other
   * methods with 405). startServer always sets it; only without it does a GET of `/mcp` get 426.
   */
  onMcpRequest?(req: IncomingMessage, res: ServerResponse): void;
  logger: Logger;
  /** ALLOWED_ORIGINS: browser origins that get CORS answers on /mcp (cors.ts). Default none. */
  allowedOrigins?: readonly string[] | undefined;
  /**
   * PEM certificate chain and key: serve HTTPS/wss:// natively (node:https). `handshakeTimeout`
   * bounds the TLS handshake in ms. Default unset: plain HTTP.
   */
  tls?: { cert: Buffer; key: Buffer; handshakeTimeout?: number } | undefined;
}

function notFound(res: ServerResponse, status = 404, error = 'not_found'): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error, error_description: status === 404 ? 'no such endpoint' : 'use GET' }));
}

/**
 * The node:http server: RFC 9728 metadata, /healthz, /readyz, 404 for the rest; WebSocket
 * upgrades go to `onUpgrade`, other requests of /mcp (and /) to `onMcpRequest` (Streamable HTTP).
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    // URL.parse, not new URL: a request target such as `http://[` must get a 400, not throw here
    // (a throw in this listener would take the whole process down).
    const target = req.url ?? '/';
    const pathname = target === '/mcp' ? target : URL.parse(target, 'http://localhost')?.pathname;
    if (pathname === undefined) {
      res.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"error":"invalid_request","error_description":"malformed request target"}');
      return;
    }
    const origins = options.allowedOrigins ?? [];
    if ((pathname === '/mcp' || pathname === '/') && options.onMcpRequest) {
      if (req.method === 'OPTIONS') return servePreflight(req, res, origins);
      applyCors(req, res, origins);
      return options.onMcpRequest(req, res);
    }
    if (req.method === 'OPTIONS' && METADATA_PATHS.includes(pathname)) return serveMetadataPreflight(res);
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
  };
  // node:https servers are http servers over TLS (same events and methods).
  const server = options.tls ? (createSecureServer(options.tls, handler) as unknown as Server) : createServer(handler);
  server.on('upgrade', options.onUpgrade);
  server.on('clientError', (err, socket) => {
    options.logger.debug({ event: 'client_error', error: err.message });
    // Headers over node's maxHeaderSize (16 KiB), e.g. a huge token: 431, as node answers without a listener.
    const status =
      (err as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  });
  return server;
}
