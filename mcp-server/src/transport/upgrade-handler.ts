import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { MCP_PATH, MCP_SUBPROTOCOL } from 'mcp-ws-common';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Admission, isRefusal, plainRefusal, type Refusal } from '../admission/admission.ts';
import type { Lease } from '../admission/client-ledger.ts';
import type { HttpRefusal } from '../auth/bearer-challenge.ts';
import type { Logger } from '../log.ts';

/** Options of {@link createUpgradeHandler}. */
export interface UpgradeHandlerOptions {
  /** The admission shared with Streamable HTTP: Host/Origin, token, authentication, caps, shutdown. */
  admission: Admission;
  /** Largest inbound message in bytes (ws `maxPayload`). */
  maxMessageBytes: number;
  logger: Logger;
  /**
   * Called with each accepted, authenticated socket and the slot it holds (released when the
   * socket closes; its `budget` is the client's, shared across connections and transports).
   */
  onConnection(socket: WebSocket, authInfo: AuthInfo, req: IncomingMessage, lease: Lease): void;
}

/** The `upgrade` listener plus what shutdown needs. */
export interface UpgradeHandler {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open sockets (accepted and not yet closed). */
  readonly clients: ReadonlySet<WebSocket>;
}

/** Parses `Sec-WebSocket-Protocol` into the offered names (RFC 6455 §4.1). */
export function offeredProtocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** Writes a real HTTP response on the raw socket and closes it (the upgrade is refused). */
export function refuseUpgrade(socket: Duplex, refusal: HttpRefusal): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(refusal.body);
  const headers = {
    ...refusal.headers,
    connection: 'close',
    'content-length': String(Buffer.byteLength(body)),
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * Creates the handler for the HTTP `upgrade` event. Checks run in order, each failing with a
 * real HTTP response: path (404), then the shared admission's Host (403), Origin (403) and token
 * in the query string (401 invalid_request), subprotocol (400 unless `mcp` is among those
 * offered; offering none is accepted), shutdown or overall capacity (503 + Retry-After, before
 * paying for verification), bearer token within HANDSHAKE_TIMEOUT_MS (401/403/503), and the
 * slot (overall and per client, counted with HTTP sessions: 503 / 429 + Retry-After). Only then
 * does `ws` complete the handshake.
 */
export function createUpgradeHandler(options: UpgradeHandlerOptions): UpgradeHandler {
  const { admission } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has(MCP_SUBPROTOCOL) ? MCP_SUBPROTOCOL : false),
  });
  const clients = new Set<WebSocket>();

  async function handleAsync(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const remote = req.socket.remoteAddress;
    const refuse = (refusal: Refusal, fields: Record<string, unknown> = {}) => {
      admission.audit(refusal, 'websocket', { remote, ...fields });
      refuseUpgrade(socket, refusal);
    };
    // URL.parse, not new URL: a target such as `http://[` is the client's error (400), not ours (500)
    const url = URL.parse(req.url ?? '/', 'http://localhost');
    if (url === null) {
      return refuse(
        plainRefusal(400, 'bad_request_target', 'invalid_request', 'the request target is not a valid URL'),
      );
    }
    if (url.pathname !== MCP_PATH && url.pathname !== '/') {
      return refuse(
        plainRefusal(404, 'bad_path', 'not_found', `no WebSocket endpoint at ${url.pathname}; use ${MCP_PATH}`),
      );
    }
    const screened = admission.screen(req);
    if (screened !== undefined) return refuse(screened);
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
    if (offered.length > 0 && !offered.includes(MCP_SUBPROTOCOL)) {
      return refuse(
        plainRefusal(
          400,
          'bad_subprotocol',
          'unsupported_subprotocol',
          `offer the "${MCP_SUBPROTOCOL}" WebSocket subprotocol`,
        ),
      );
    }
    const closed = admission.checkOpen();
    if (closed !== undefined) return refuse(closed);
    const authenticated = await admission.authenticate(req);
    if (!authenticated.ok) return refuse(authenticated.refusal);
    const { authInfo } = authenticated;
    const who = { azp: authInfo.clientId, sub: authInfo.extra?.sub, scopes: authInfo.scopes, remote };
    if (socket.destroyed) {
      options.logger.info({ event: 'connection.closed', reason: 'client_gone', ...who });
      return;
    }
    const lease = admission.admit(authInfo);
    if (isRefusal(lease)) return refuse(lease, who);
    let upgraded = false;
    // handleUpgrade may drop the socket without calling back (e.g. it closed meanwhile).
    socket.once('close', () => {
      if (!upgraded) lease.release();
    });
    // The callback takes the request from ws rather than closing over `req`: listeners created in
    // this function live as long as the connection, and would keep the whole request alive.
    wss.handleUpgrade(req, socket, head, (ws, request) => {
      upgraded = true;
      clients.add(ws);
      ws.once('close', () => {
        clients.delete(ws);
        lease.release();
      });
      options.logger.info({ event: 'auth.accepted', transport: 'websocket', ...who });
      options.onConnection(ws, authInfo, request, lease);
    });
  }

  return {
    clients,
    handle(req, socket, head) {
      socket.on('error', () => socket.destroy());
      handleAsync(req, socket, head).catch((err: unknown) => {
        options.logger.error({ event: 'upgrade_failed', err });
        refuseUpgrade(socket, plainRefusal(500, 'server_error', 'server_error', 'unexpected error'));
      });
    },
  };
}
