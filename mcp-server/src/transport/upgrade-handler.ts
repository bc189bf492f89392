import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { MCP_PATH, MCP_SUBPROTOCOL } from 'mcp-ws-common';
import { type WebSocket, WebSocketServer } from 'ws';
import { DEFAULT_MAX_TOKEN_BYTES } from '../auth/authorization-header.ts';
import { type ChallengeContext, challengeFor, type HttpRefusal } from '../auth/bearer-challenge.ts';
import { authenticateRequest, hasTokenInQuery } from '../auth/request-auth.ts';
import { isServerError, ServerError } from '../errors.ts';
import { forbiddenError, isHostAllowed, isOriginAllowed } from '../http/origin-policy.ts';
import type { Logger } from '../log.ts';

/** Options of {@link createUpgradeHandler}. */
export interface UpgradeHandlerOptions {
  /** Verifies a bearer token; resolves once keys are available (may wait for readiness). */
  verify(token: string): Promise<AuthInfo>;
  /** Scopes every connection needs (OAUTH_REQUIRED_SCOPES). */
  requiredScopes: readonly string[];
  /** Largest inbound message in bytes (ws `maxPayload`). */
  maxMessageBytes: number;
  /** Connections allowed at once; more get 503. */
  maxConnections: number;
  /** Connections one client (`azp`) may hold at once; more get 429. Default unlimited. */
  maxConnectionsPerClient?: number;
  /** Browser origins allowed (see http/origin-policy.ts). Default empty: any `Origin` header is refused. */
  allowedOrigins?: readonly string[];
  /** Accepted `Host` values (DNS rebinding). Default empty: not checked. */
  allowedHosts?: readonly string[];
  /** Longest bearer token in bytes; longer gets 401 before parsing. Default 8192. */
  maxTokenBytes?: number;
  /** Time authentication of an upgrade may take before it is refused with 503, in ms. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Where challenges point clients. */
  challenge: ChallengeContext;
  logger: Logger;
  /** Called with each accepted, authenticated socket. */
  onConnection(socket: WebSocket, authInfo: AuthInfo, req: IncomingMessage): void;
}

/** The `upgrade` listener plus what shutdown needs. */
export interface UpgradeHandler {
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Refuse every further upgrade with 503 (shutdown). */
  stopAccepting(): void;
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

export { bearerToken } from '../auth/authorization-header.ts';

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

function plain(status: number, error: string, description: string, headers: Record<string, string> = {}): HttpRefusal {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: { error, error_description: description },
  };
}

/** Seconds a client refused for capacity is told to wait (`Retry-After`). */
const RETRY_AFTER_SECONDS = 5;

/**
 * Creates the handler for the HTTP `upgrade` event. Checks run in order, each failing with a
 * real HTTP response: path (404), Host (403), Origin (403), token in the query string (401
 * invalid_request), subprotocol (400 unless `mcp` is among those offered; offering none is
 * accepted), capacity (503 + Retry-After), bearer token (401; two Authorization headers or a
 * token over `maxTokenBytes` included), required scopes (403), per-client capacity (429 +
 * Retry-After). Only then does `ws` complete the handshake.
 */
export function createUpgradeHandler(options: UpgradeHandlerOptions): UpgradeHandler {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has(MCP_SUBPROTOCOL) ? MCP_SUBPROTOCOL : false),
  });
  let accepting = true;
  const clients = new Set<WebSocket>();
  let pending = 0;
  const perClient = new Map<string, number>();
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;

  async function handleAsync(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const remote = req.socket.remoteAddress;
    // Audit: 401s are auth.refused; 403/429/503 and other refusals are access.denied.
    const refuse = (refusal: HttpRefusal, reason: string, extra: Record<string, unknown> = {}) => {
      const event = refusal.status === 401 ? 'auth.refused' : 'access.denied';
      options.logger.warn({ event, reason, status: refusal.status, remote, transport: 'websocket', ...extra });
      refuseUpgrade(socket, refusal);
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== MCP_PATH && url.pathname !== '/') {
      return refuse(plain(404, 'not_found', `no WebSocket endpoint at ${url.pathname}; use ${MCP_PATH}`), 'bad_path');
    }
    if (!isHostAllowed(req.headers.host, options.allowedHosts ?? [])) {
      return refuse(
        { status: 403, headers: { 'content-type': 'application/json' }, body: forbiddenError('host') },
        'host_forbidden',
      );
    }
    if (!isOriginAllowed(req.headers.origin, options.allowedOrigins ?? [])) {
      return refuse(
        { status: 403, headers: { 'content-type': 'application/json' }, body: forbiddenError('origin') },
        'origin_forbidden',
        { origin: String(req.headers.origin).slice(0, 200) },
      );
    }
    if (hasTokenInQuery(url)) {
      const err = new ServerError('token_in_query', 'tokens are accepted only in the Authorization header');
      return refuse(challengeFor(err, options.challenge), err.code);
    }
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
    if (offered.length > 0 && !offered.includes(MCP_SUBPROTOCOL)) {
      return refuse(
        plain(400, 'unsupported_subprotocol', `offer the "${MCP_SUBPROTOCOL}" WebSocket subprotocol`),
        'bad_subprotocol',
      );
    }
    if (!accepting) return refuse(plain(503, 'shutting_down', 'the server is shutting down'), 'shutting_down');
    if (clients.size + pending >= options.maxConnections) {
      return refuse(
        plain(503, 'over_capacity', 'too many connections; retry later', {
          'retry-after': String(RETRY_AFTER_SECONDS),
        }),
        'over_capacity',
      );
    }
    pending++;
    let authInfo: AuthInfo;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A verification that hangs (JWKS endpoint stalled) must not hold the socket forever.
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new ServerError('keys_unavailable', 'authentication timed out')),
          options.handshakeTimeoutMs ?? 10_000,
        );
      });
      authInfo = await Promise.race([authenticateRequest(req, { ...options, maxTokenBytes }), timeout]);
    } catch (err) {
      const coded = isServerError(err) ? err : new ServerError('token_invalid', 'the token could not be verified');
      return refuse(challengeFor(coded, options.challenge), coded.code, { detail: coded.message });
    } finally {
      clearTimeout(timer);
      pending--;
    }
    const who = { azp: authInfo.clientId, sub: authInfo.extra?.sub, scopes: authInfo.scopes, remote };
    if (socket.destroyed) {
      options.logger.info({ event: 'connection.closed', reason: 'client_gone', ...who });
      return;
    }
    if (!accepting) return refuse(plain(503, 'shutting_down', 'the server is shutting down'), 'shutting_down', who);
    const held = perClient.get(authInfo.clientId) ?? 0;
    if (held >= (options.maxConnectionsPerClient ?? Number.POSITIVE_INFINITY)) {
      return refuse(
        plain(429, 'too_many_connections', `client ${authInfo.clientId} holds ${held} connections; close some first`, {
          'retry-after': String(RETRY_AFTER_SECONDS),
        }),
        'client_over_capacity',
        who,
      );
    }
    perClient.set(authInfo.clientId, held + 1);
    const release = () => {
      const n = (perClient.get(authInfo.clientId) ?? 1) - 1;
      if (n <= 0) perClient.delete(authInfo.clientId);
      else perClient.set(authInfo.clientId, n);
    };
    let upgraded = false;
    // handleUpgrade may drop the socket without calling back (e.g. it closed meanwhile).
    socket.once('close', () => {
      if (!upgraded) release();
    });
    // The callback takes the request from ws rather than closing over `req`: listeners created in
    // this function live as long as the connection, and would keep the whole request alive.
    wss.handleUpgrade(req, socket, head, (ws, request) => {
      upgraded = true;
      clients.add(ws);
      ws.once('close', () => {
        clients.delete(ws);
        release();
      });
      options.logger.info({ event: 'auth.accepted', transport: 'websocket', ...who });
      options.onConnection(ws, authInfo, request);
    });
  }

  return {
    clients,
    stopAccepting() {
      accepting = false;
    },
    handle(req, socket, head) {
      socket.on('error', () => socket.destroy());
      handleAsync(req, socket, head).catch((err: unknown) => {
        options.logger.error({ event: 'upgrade_failed', err });
        refuseUpgrade(socket, plain(500, 'server_error', 'unexpected error'));
      });
    },
  };
}
