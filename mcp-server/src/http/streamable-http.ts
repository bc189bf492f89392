import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { type ChallengeContext, challengeFor, type HttpRefusal } from '../auth/bearer-challenge.ts';
import { hasTokenInQuery } from '../auth/request-auth.ts';
import { isServerError, ServerError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { forbiddenError, isHostAllowed, isOriginAllowed } from './origin-policy.ts';

/** Options of {@link createStreamableHttpHandler}. */
export interface StreamableHttpOptions {
  /** Authenticates a request exactly like a WebSocket upgrade. @throws ServerError */
  authenticate(req: IncomingMessage): Promise<AuthInfo>;
  /** Where challenges point clients. */
  challenge: ChallengeContext;
  /** Browser origins allowed (ALLOWED_ORIGINS; see origin-policy.ts). Default empty: any `Origin` is refused. */
  allowedOrigins?: readonly string[];
  /** Accepted `Host` values (ALLOWED_HOSTS, DNS rebinding). Default empty: not checked. */
  allowedHosts?: readonly string[];
  /** Creates the McpServer of a new session (one per session, never shared). */
  createSession(authInfo: AuthInfo, logger: Logger): McpServer;
  /** Sessions allowed at once; an initialize beyond gets 503. */
  maxSessions: number;
  /** Sessions one client (`azp`) may hold at once; an initialize beyond gets 429. Default unlimited. */
  maxSessionsPerClient?: number;
  /** Largest request body in bytes; larger gets 413. */
  maxMessageBytes: number;
  /** A session with no POST/DELETE for this long (and none in progress) is closed, in ms; GET streams don't count. */
  idleTimeoutMs: number;
  logger: Logger;
}

/** The Streamable HTTP side of `/mcp`. */
export interface StreamableHttpHandler {
  /** Serves one POST/GET/DELETE of the MCP endpoint. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Refuse new sessions with 503 (shutdown); existing sessions keep working until closeAll. */
  stopAccepting(): void;
  /** Closes every session (streams end). */
  closeAll(): Promise<void>;
  /** Open sessions. */
  readonly sessionCount: number;
}

interface HttpSession {
  id: string | undefined;
  readonly transport: StreamableHTTPServerTransport;
  readonly mcp: McpServer;
  /** The session is bound to the client (azp) and subject (sub) of the token that opened it. */
  readonly azp: string;
  readonly sub: unknown;
  readonly logger: Logger;
  readonly opened: number;
  readonly remote: string | undefined;
  requests: number;
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
  closeReason: string | undefined;
}

/** The incoming request as the SDK reads it: `auth` becomes `extra.authInfo` of its messages. */
type AuthedRequest = IncomingMessage & { auth?: AuthInfo };

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  send(res, status, {}, { jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * MCP Streamable HTTP (2025-11-25) on the same endpoint as the WebSocket, with the same
 * authorization: every request is authenticated (401/403 with the same `WWW-Authenticate` as a
 * refused upgrade) and its own token becomes `extra.authInfo` of the messages it carries, so
 * scope changes and expiry apply per request. One McpServer + SDK transport per session
 * (`Mcp-Session-Id`); a session is bound to the `azp` and `sub` of the token that opened it, and a
 * request with another client's or subject's token gets 404 "Session not found", the same answer
 * as an unknown id (no oracle for valid session ids). Idle sessions are closed after
 * `idleTimeoutMs`; a standalone GET stream is closed when its token expires.
 */
export function createStreamableHttpHandler(options: StreamableHttpOptions): StreamableHttpHandler {
  const sessions = new Map<string, HttpSession>();
  /** Sessions being initialized (no id yet), counted against maxSessions. */
  let pending = 0;
  let accepting = true;
  const { logger } = options;

  function closeSession(s: HttpSession, reason: string): void {
    if (s.closeReason !== undefined) return;
    s.closeReason = reason;
    clearTimeout(s.idleTimer);
    // McpServer.close() closes the transport, which ends its streams and fires onclose.
    s.mcp.close().catch(() => undefined);
  }

  function armIdle(s: HttpSession): void {
    clearTimeout(s.idleTimer);
    s.idleTimer = undefined;
    if (s.active > 0 || s.closeReason !== undefined) return;
    s.idleTimer = setTimeout(() => closeSession(s, 'idle'), options.idleTimeoutMs);
    s.idleTimer.unref();
  }

  function openSession(authInfo: AuthInfo, remote: string | undefined): HttpSession {
    const sessionLogger = logger.child({ azp: authInfo.clientId, sub: authInfo.extra?.sub, transport: 'http' });
    let session!: HttpSession;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.id = id;
        sessions.set(id, session);
        sessionLogger.info({
          event: 'auth.accepted',
          transport: 'http',
          session: id,
          scopes: authInfo.scopes,
          remote: session.remote,
        });
      },
    });
    transport.onclose = () => {
      if (session.id !== undefined && sessions.get(session.id) === session) sessions.delete(session.id);
      clearTimeout(session.idleTimer);
      if (session.id === undefined) return;
      session.closeReason ??= 'deleted';
      sessionLogger.info({
        event: 'connection.closed',
        transport: 'http',
        session: session.id,
        reason: session.closeReason,
        requests: session.requests,
        seconds: (Date.now() - session.opened) / 1000,
      });
    };
    const mcp = options.createSession(authInfo, sessionLogger);
    session = {
      id: undefined,
      transport,
      mcp,
      azp: authInfo.clientId,
      sub: authInfo.extra?.sub,
      logger: sessionLogger,
      opened: Date.now(),
      remote,
      requests: 0,
      active: 0,
      idleTimer: undefined,
      closeReason: undefined,
    };
    return session;
  }

  async function serve(s: HttpSession, req: AuthedRequest, res: ServerResponse, body: unknown): Promise<void> {
    s.requests++;
    if (req.method === 'GET') {
      // The standalone stream carries nothing here (no server-initiated messages), so it does not
      // keep the session alive; and it must not outlive the token that opened it: it is closed at
      // `exp` (the client reconnects with a fresh token).
      const exp = req.auth?.expiresAt;
      if (exp !== undefined) {
        const expiry = setTimeout(() => s.transport.closeStandaloneSSEStream(), Math.max(0, exp * 1000 - Date.now()));
        expiry.unref();
        res.once('close', () => clearTimeout(expiry));
      }
    } else {
      s.active++;
      clearTimeout(s.idleTimer);
      res.once('close', () => {
        s.active--;
        armIdle(s);
      });
    }
    await s.transport.handleRequest(req, res, body);
  }

  async function handleAsync(req: AuthedRequest, res: ServerResponse): Promise<void> {
    const remote = req.socket.remoteAddress;
    // Audit: 401s are auth.refused; 403/404/429/503 refusals are access.denied (as for upgrades).
    const refuse = (refusal: HttpRefusal, reason: string, extra: Record<string, unknown> = {}) => {
      const event = refusal.status === 401 ? 'auth.refused' : 'access.denied';
      logger.warn({ event, reason, status: refusal.status, remote, transport: 'http', ...extra });
      send(res, refusal.status, refusal.headers, refusal.body);
    };
    const forbidden = (what: 'origin' | 'host'): HttpRefusal => ({
      status: 403,
      headers: { 'content-type': 'application/json' },
      body: forbiddenError(what),
    });
    if (!isHostAllowed(req.headers.host, options.allowedHosts ?? []))
      return refuse(forbidden('host'), 'host_forbidden');
    if (!isOriginAllowed(req.headers.origin, options.allowedOrigins ?? [])) {
      return refuse(forbidden('origin'), 'origin_forbidden', { origin: String(req.headers.origin).slice(0, 200) });
    }
    const method = req.method ?? '';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      res.setHeader('allow', 'GET, POST, DELETE');
      return jsonRpcError(res, 405, -32000, 'Method not allowed: use POST, GET or DELETE (or a WebSocket upgrade)');
    }
    if (hasTokenInQuery(new URL(req.url ?? '/', 'http://localhost'))) {
      const err = new ServerError('token_in_query', 'tokens are accepted only in the Authorization header');
      return refuse(challengeFor(err, options.challenge), err.code);
    }
    let authInfo: AuthInfo;
    try {
      authInfo = await options.authenticate(req);
    } catch (err) {
      const coded = isServerError(err) ? err : new ServerError('token_invalid', 'the token could not be verified');
      return refuse(challengeFor(coded, options.challenge), coded.code, { detail: coded.message });
    }
    req.auth = authInfo;

    let body: unknown;
    if (method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, options.maxMessageBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          return jsonRpcError(res, 413, -32600, `request body over ${options.maxMessageBytes} bytes`);
        }
        throw err;
      }
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return jsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
      }
      // MCP 2025-11-25 removed JSON-RPC batching (the SDK would still accept it); same rule as a WebSocket frame.
      if (Array.isArray(body)) {
        return jsonRpcError(
          res,
          400,
          -32600,
          'Invalid Request: batches are not supported; send one message per request',
        );
      }
    }

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const s = sessions.get(sessionId);
      if (s === undefined || s.closeReason !== undefined) return jsonRpcError(res, 404, -32001, 'Session not found');
      if (s.azp !== authInfo.clientId || s.sub !== authInfo.extra?.sub) {
        logger.warn({
          event: 'access.denied',
          transport: 'http',
          reason: 'session_binding',
          status: 404,
          session: sessionId,
          azp: authInfo.clientId,
          sub: authInfo.extra?.sub,
          remote,
        });
        return jsonRpcError(res, 404, -32001, 'Session not found');
      }
      return serve(s, req, res, body);
    }

    if (method !== 'POST' || !isInitializeRequest(body)) {
      return jsonRpcError(res, 400, -32000, 'Bad Request: send initialize first, then the Mcp-Session-Id it returned');
    }
    if (!accepting) return jsonRpcError(res, 503, -32000, 'the server is shutting down');
    if (sessions.size + pending >= options.maxSessions) {
      res.setHeader('retry-after', '5');
      return jsonRpcError(res, 503, -32000, 'too many sessions; retry later');
    }
    const held = [...sessions.values()].filter((x) => x.azp === authInfo.clientId).length;
    if (held >= (options.maxSessionsPerClient ?? Number.POSITIVE_INFINITY)) {
      res.setHeader('retry-after', '5');
      return jsonRpcError(res, 429, -32000, `client ${authInfo.clientId} holds ${held} sessions; DELETE some first`);
    }
    pending++;
    let s: HttpSession;
    try {
      s = openSession(authInfo, remote);
      await s.mcp.connect(s.transport);
      await serve(s, req, res, body);
    } finally {
      pending--;
    }
    // initialize failed (bad params): nothing was registered, so drop the server.
    if (s.id === undefined) closeSession(s, 'initialize_failed');
  }

  return {
    get sessionCount() {
      return sessions.size;
    },
    handle(req, res) {
      handleAsync(req, res).catch((err: unknown) => {
        logger.error({ event: 'http_request_failed', error: (err as Error).message });
        jsonRpcError(res, 500, -32603, 'Internal server error');
      });
    },
    stopAccepting() {
      accepting = false;
    },
    async closeAll() {
      for (const s of [...sessions.values()]) closeSession(s, 'shutdown');
    },
  };
}
