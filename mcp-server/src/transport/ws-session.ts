import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { WebSocket } from 'ws';
import type { Lease } from '../admission/client-ledger.ts';
import type { Renewer } from '../admission/renewal.ts';
import type { Logger } from '../log.ts';
import { ConnectionEntry, type EntryPoint, type Era } from '../mcp/connection-entry.ts';
import type { LegacyDispatches } from '../mcp/legacy-dispatches.ts';
import type { SharedDispatch } from '../mcp/modern-dispatch.ts';
import type { RequestClassifier } from '../mcp/request-classifier.ts';
import type { Session } from '../mcp/session.ts';
import { WsServerTransport } from './ws-server-transport.ts';

/** Options of {@link webSocketSessions}: one per server. */
export interface WsSessionOptions {
  /** Creates the McpServer of a connection; `auth` returns the connection's current token. */
  createSession(auth: () => AuthInfo, logger: Logger): Session;
  /**
   * The server's shared 2026-07-28 dispatch, which serves a connection until it sends something
   * only a server of its own can answer (mcp/connection-entry.ts). Undefined: every connection
   * gets its own server at its first message.
   */
  dispatch: SharedDispatch | undefined;
  /** The server's shared 2025-era dispatches (mcp/legacy-dispatches.ts); undefined with `dispatch`. */
  legacy: LegacyDispatches | undefined;
  /** Classifies messages as the SDK does (shared with the HTTP side). */
  classify: RequestClassifier;
  /** Verifies `auth/renew` tokens (same checks as admission, same azp and sub). */
  renewer: Renewer;
  /** Response bytes of a connection held at once (MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Requests of a connection in flight at once (MAX_IN_FLIGHT_PER_CONNECTION). */
  maxInFlight: number;
  /** The audit logger of a principal (shared by its connections: principal-loggers.ts). */
  principalLogger(authInfo: AuthInfo): Logger;
}

/** Serves MCP on one accepted WebSocket; returns its transport (for the heartbeat). `onEra`: told each era decision (metrics). */
export type ServeWebSocket = (
  ws: WebSocket,
  authInfo: AuthInfo,
  req: IncomingMessage,
  lease: Lease,
  onEra?: (era: Era) => void,
) => WsServerTransport;

/**
 * MCP on accepted WebSockets, both protocol eras: each connection's transport (framing, budgets,
 * expiry, renewal) hands its messages to the connection's entry (mcp/connection-entry.ts), which
 * serves them from the shared dispatches (2026-07-28, and one per 2025-era version) or through the
 * SDK's connection-pinned entry (`serveStdio` over the transport), where the first message decides
 * the era: `initialize` pins 2025-11-25, a request with the 2026-07-28 `_meta` envelope pins
 * 2026-07-28. That entry does not forward a transport's `authInfo`, so a connection's server reads
 * its token through a closure over the transport, which an in-band renewal updates. What
 * connections share is made here once.
 */
export function webSocketSessions(options: WsSessionOptions): ServeWebSocket {
  const point: EntryPoint<WsServerTransport> = {
    dispatch: options.dispatch,
    legacy: options.legacy,
    classify: options.classify,
    createServer(transport, logger) {
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
    // Reporting only: protocol refusals were already answered on the wire.
    report: (logger, err) => logger.debug({ event: 'protocol_error', transport: 'websocket', error: err.message }),
  };
  return (ws, authInfo, req, lease, onEra) => {
    // Only the address outlives this call: the listeners below must not retain the request.
    const remote = req.socket.remoteAddress;
    const logger = options.principalLogger(authInfo);
    const transport = new WsServerTransport(ws, {
      authInfo,
      renewer: options.renewer,
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
    const entry = new ConnectionEntry(point, transport, logger, onEra);
    // Made, then assigned: a function literal assigned straight to a property is allocated in
    // V8's old generation (taken for a method) and would hold this connection's objects through
    // every young collection after it closed, until a full one (tests/unit/repo/property-closures.test.ts).
    const onmessage: WsServerTransport['onmessage'] = (message, extra) =>
      entry.receive(message, extra?.authInfo ?? transport.authInfo);
    const onerror = (err: Error) => entry.error(err);
    const onclose = () => entry.close();
    transport.onmessage = onmessage;
    transport.onerror = onerror;
    transport.onclose = onclose;
    transport.start().catch((err: unknown) => entry.error(err as Error));
    return transport;
  };
}
