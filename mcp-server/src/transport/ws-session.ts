import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { WebSocket } from 'ws';
import type { Lease } from '../admission/client-ledger.ts';
import type { Renewer } from '../admission/renewal.ts';
import type { Logger } from '../log.ts';
import { ConnectionEntry, type Era } from '../mcp/connection-entry.ts';
import type { ModernDispatch } from '../mcp/modern-dispatch.ts';
import type { RequestClassifier } from '../mcp/request-classifier.ts';
import type { Session } from '../mcp/session.ts';
import { WsServerTransport } from './ws-server-transport.ts';

/** Options of {@link serveWebSocket}. */
export interface WsSessionOptions {
  /** Creates the McpServer of the connection; `auth` returns the connection's current token. */
  createSession(auth: () => AuthInfo, logger: Logger): Session;
  /**
   * The server's shared 2026-07-28 dispatch, which serves a connection until it sends something
   * only a server of its own can answer (mcp/connection-entry.ts). Undefined: every connection
   * gets its own server at its first message.
   */
  dispatch: ModernDispatch | undefined;
  /** Classifies messages as the SDK does (shared with the HTTP side). */
  classify: RequestClassifier;
  /** Verifies `auth/renew` tokens (same checks as admission, same azp and sub). */
  renewer(logger: Logger): Renewer;
  /** Response bytes of this connection held at once (MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Requests of this connection in flight at once (MAX_IN_FLIGHT_PER_CONNECTION). */
  maxInFlight: number;
  /** The audit logger of a principal (shared by its connections: principal-loggers.ts). */
  principalLogger(authInfo: AuthInfo): Logger;
  /** Told the era each time it is decided (metrics). Default none. */
  onEra?(era: Era): void;
}

/**
 * Serves MCP on one accepted WebSocket, both protocol eras: the transport (framing, budgets,
 * expiry, renewal) hands each message to the connection's entry (mcp/connection-entry.ts), which
 * serves it from the shared 2026-07-28 dispatch or through the SDK's connection-pinned entry
 * (`serveStdio` over this transport), where the first message decides the era: `initialize` pins
 * 2025-11-25, a request with the 2026-07-28 `_meta` envelope pins 2026-07-28. That entry does not
 * forward a transport's `authInfo`, so the connection's server reads its token through a closure
 * over the transport, which an in-band renewal updates. Returns the transport (for the heartbeat).
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
  const entry = new ConnectionEntry({
    wire: transport,
    dispatch: options.dispatch,
    classify: options.classify,
    logger,
    onEra: options.onEra,
    // Reporting only: protocol refusals were already answered on the wire.
    onerror: (err) => logger.debug({ event: 'protocol_error', transport: 'websocket', error: err.message }),
    createServer: () => {
      // Called again when a server/discover probe is followed by initialize.
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
  });
  transport.onmessage = (message, extra) => entry.receive(message, extra?.authInfo ?? transport.authInfo);
  transport.onerror = (err) => entry.error(err);
  transport.onclose = () => entry.close();
  transport.start().catch((err: unknown) => entry.error(err as Error));
  return transport;
}
