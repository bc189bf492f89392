import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { WebSocket } from 'ws';
import type { Lease } from '../admission/client-ledger.ts';
import type { Renewer } from '../admission/renewal.ts';
import type { Logger } from '../log.ts';
import type { Session } from '../mcp/session.ts';
import { WsServerTransport } from './ws-server-transport.ts';

/** Options of {@link serveWebSocket}. */
export interface WsSessionOptions {
  /** Creates the McpServer of the connection; `auth` returns the connection's current token. */
  createSession(auth: () => AuthInfo, logger: Logger): Session;
  /** Verifies `auth/renew` tokens (same checks as admission, same azp and sub). */
  renewer(logger: Logger): Renewer;
  /** Response bytes of this connection held at once (MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Requests of this connection in flight at once (MAX_IN_FLIGHT_PER_CONNECTION). */
  maxInFlight: number;
  /** The audit logger of a principal (shared by its connections: principal-loggers.ts). */
  principalLogger(authInfo: AuthInfo): Logger;
  /** Told the era each time the SDK builds the connection's server (metrics). Default none. */
  onEra?(era: 'legacy' | 'modern'): void;
}

/**
 * Serves MCP on one accepted WebSocket, both protocol eras: the SDK's connection-pinned entry
 * (`serveStdio` over our own transport) lets the first message decide: `initialize` pins
 * 2025-11-25, a request with the 2026-07-28 `_meta` envelope (or `server/discover`) pins
 * 2026-07-28, and the SDK validates each later request's envelope. That entry does not forward a
 * transport's `authInfo`, so the session reads the connection's token through a closure over
 * the transport, which an in-band renewal updates. Resolves with the transport (for the heartbeat).
 */
export function serveWebSocket(
  ws: WebSocket,
  authInfo: AuthInfo,
  req: IncomingMessage,
  lease: Lease,
  options: WsSessionOptions,
): WsServerTransport {
  // Only the address outlives this call: the listeners below must not retain the request.
  const remote = req.socket.remoteAddress;
  const logger = options.principalLogger(authInfo);
  const transport = new WsServerTransport(ws, {
    authInfo,
    renewer: options.renewer(logger),
    maxBufferedBytes: options.maxBufferedBytes,
    maxInFlight: options.maxInFlight,
    clientBudget: lease.budget,
    // The upgrade's socket is the one ws writes to: lets the transport coalesce responses.
    rawSocket: req.socket,
  });
  const opened = Date.now();
  ws.once('close', (code, reason) => {
    logger.info({
      event: 'connection.closed',
      transport: 'websocket',
      code,
      reason: reason.toString(),
      remote,
      ms: Date.now() - opened,
    });
  });
  serveStdio(
    (ctx) => {
      // The first message decides (a server/discover probe may be followed by initialize: called again).
      options.onEra?.(ctx.era);
      const session = options.createSession(() => transport.authInfo, logger);
      transport.direct?.close();
      const direct = session.direct;
      transport.direct = direct && {
        take: (message, auth, reply) => direct.take(message, auth, logger, reply),
        cancel: (requestId) => direct.cancel(requestId),
        close: () => direct.close(),
      };
      return session.server;
    },
    {
      transport,
      // Reporting only: protocol refusals were already answered on the wire.
      onerror: (err) => logger.debug({ event: 'protocol_error', transport: 'websocket', error: err.message }),
    },
  );
  return transport;
}
