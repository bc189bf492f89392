import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { type AuthInfo, isInitializeRequest, type McpServer } from '@modelcontextprotocol/server';
import { type Admission, isRefusal, type Refusal } from '../admission/admission.ts';
import type { Lease } from '../admission/client-ledger.ts';
import { meterResponse } from '../admission/response-meter.ts';
import type { Logger } from '../log.ts';
import { idKey, type ResponseId, readableId } from '../mcp/request-id.ts';
import { BodyTooLarge, readBody } from './request-body.ts';

/** Options of {@link createStreamableHttpHandler}. */
export interface StreamableHttpOptions {
  /** The admission shared with the WebSocket: Host/Origin, token, authentication, caps, shutdown. */
  admission: Admission;
  /** Creates the McpServer of a new session (one per session, never shared). */
  createSession(authInfo: AuthInfo, logger: Logger): McpServer;
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
  /** Closes every session (streams end). */
  closeAll(): Promise<void>;
  /** Open sessions. */
  readonly sessionCount: number;
}

interface HttpSession {
  id: string | undefined;
  readonly transport: NodeStreamableHTTPServerTransport;
  readonly mcp: McpServer;
  /** The session is bound to the client (azp) and subject (sub) of the token that opened it. */
  readonly azp: string;
  readonly sub: unknown;
  /** Its slot in the connection caps; `lease.budget` is the client's, which its requests count against. */
  readonly lease: Lease;
  /** Ids of requests of this session in flight. */
  readonly inFlight: Set<string>;
  readonly opened: number;
  readonly remote: string | undefined;
  requests: number;
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
  closeReason: string | undefined;
}

/** The incoming request as the SDK reads it: `auth` becomes `extra.authInfo` of its messages. */
type AuthedRequest = IncomingMessage & { auth?: AuthInfo };

/** Seconds a request refused because its client is at its budget is told to wait. */
const BUSY_RETRY_AFTER_SECONDS = 1;

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string, id: ResponseId = null): void {
  send(res, status, {}, { jsonrpc: '2.0', error: { code, message }, id });
}

/** A request (method and id), as opposed to a notification or a response. */
function isRequest(body: unknown): body is { method: string; id: string | number } {
  return typeof (body as { method?: unknown })?.method === 'string' && readableId(body) !== null;
}

/**
 * MCP Streamable HTTP (2025-11-25) on the same endpoint as the WebSocket, admitted by the same
 * rules (admission/admission.ts): every request is authenticated and its own token becomes
 * `extra.authInfo` of the messages it carries, so scope changes and expiry apply per request. One
 * McpServer + SDK transport per session (`Mcp-Session-Id`), holding one connection slot; a
 * session is bound to the `azp` and `sub` of the token that opened it, and a request with another
 * client's or subject's token gets 404 "Session not found", the same answer as an unknown id.
 * Requests in flight and their response bytes count against the client's budget (shared with its
 * WebSocket connections); over it, a request gets 429 + Retry-After (refused, not queued: a queue
 * would hold the body and a socket per waiting request). Idle sessions are closed after `idleTimeoutMs`; a
 * standalone GET stream is closed when its token expires.
 */
export function createStreamableHttpHandler(options: StreamableHttpOptions): StreamableHttpHandler {
  const sessions = new Map<string, HttpSession>();
  const { admission, logger } = options;

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

  function openSession(authInfo: AuthInfo, remote: string | undefined, lease: Lease): HttpSession {
    const sessionLogger = logger.child({ azp: authInfo.clientId, sub: authInfo.extra?.sub, transport: 'http' });
    let session!: HttpSession;
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.id = id;
        sessions.set(id, session);
        sessionLogger.info({ event: 'auth.accepted', transport: 'http', session: id, scopes: authInfo.scopes, remote });
      },
    });
    transport.onclose = () => {
      if (session.id !== undefined && sessions.get(session.id) === session) sessions.delete(session.id);
      clearTimeout(session.idleTimer);
      session.lease.release();
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
    session = {
      id: undefined,
      transport,
      mcp: options.createSession(authInfo, sessionLogger),
      azp: authInfo.clientId,
      sub: authInfo.extra?.sub,
      lease,
      inFlight: new Set(),
      opened: Date.now(),
      remote,
      requests: 0,
      active: 0,
      idleTimer: undefined,
      closeReason: undefined,
    };
    return session;
  }

  /**
   * Counts a request against its client's budget, or answers it with an error. No per-session cap:
   * an HTTP request already needs a socket of its own, and the client's budget bounds them all.
   */
  function admitRequest(s: HttpSession, res: ServerResponse, body: { id: string | number }): boolean {
    const key = idKey(body.id);
    if (s.inFlight.has(key)) {
      jsonRpcError(res, 400, -32600, 'Invalid Request: a request with this id is already in flight', body.id);
      return false;
    }
    if (!s.lease.budget.open) {
      logger.warn({ event: 'access.denied', transport: 'http', reason: 'over_budget', azp: s.azp, status: 429 });
      res.setHeader('retry-after', String(BUSY_RETRY_AFTER_SECONDS));
      jsonRpcError(res, 429, -32000, 'this client has too much work in flight; retry later', body.id);
      return false;
    }
    s.inFlight.add(key);
    res.once('close', () => s.inFlight.delete(key));
    meterResponse(res, [s.lease.budget]);
    return true;
  }

  async function serve(s: HttpSession, req: AuthedRequest, res: ServerResponse, body: unknown): Promise<void> {
    if (isRequest(body) && !admitRequest(s, res, body)) return;
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

  /** The parsed POST body, or undefined once an error was answered. */
  async function readMessage(req: IncomingMessage, res: ServerResponse): Promise<{ body: unknown } | undefined> {
    let raw: Buffer;
    try {
      raw = await readBody(req, options.maxMessageBytes);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      res.setHeader('connection', 'close');
      jsonRpcError(res, 413, -32600, `request body over ${options.maxMessageBytes} bytes`);
      return undefined;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      jsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
      return undefined;
    }
    // MCP 2025-11-25 removed JSON-RPC batching (the SDK would still accept it); same rule as a WebSocket frame.
    if (Array.isArray(body)) {
      jsonRpcError(res, 400, -32600, 'Invalid Request: batches are not supported; send one message per request');
      return undefined;
    }
    return { body };
  }

  async function handleAsync(req: AuthedRequest, res: ServerResponse): Promise<void> {
    const remote = req.socket.remoteAddress;
    const refuse = (refusal: Refusal, fields: Record<string, unknown> = {}) => {
      admission.audit(refusal, 'http', { remote, ...fields });
      send(res, refusal.status, refusal.headers, refusal.body);
    };
    const screened = admission.screen(req);
    if (screened !== undefined) return refuse(screened);
    const method = req.method ?? '';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      res.setHeader('allow', 'GET, POST, DELETE');
      return jsonRpcError(res, 405, -32000, 'Method not allowed: use POST, GET or DELETE (or a WebSocket upgrade)');
    }
    const authenticated = await admission.authenticate(req);
    if (!authenticated.ok) return refuse(authenticated.refusal);
    const { authInfo } = authenticated;
    req.auth = authInfo;

    let body: unknown;
    if (method === 'POST') {
      const message = await readMessage(req, res);
      if (message === undefined) return;
      body = message.body;
    }
    const id = readableId(body);

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const s = sessions.get(sessionId);
      if (s === undefined || s.closeReason !== undefined)
        return jsonRpcError(res, 404, -32001, 'Session not found', id);
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
        return jsonRpcError(res, 404, -32001, 'Session not found', id);
      }
      if (isInitializeRequest(body)) {
        return jsonRpcError(res, 400, -32600, 'Invalid Request: the session is already initialized', id);
      }
      return serve(s, req, res, body);
    }

    if (method !== 'POST' || !isInitializeRequest(body)) {
      return jsonRpcError(
        res,
        400,
        -32000,
        'Bad Request: send initialize first, then the Mcp-Session-Id it returned',
        id,
      );
    }
    // Checked and taken in one synchronous step: concurrent initializes cannot pass the caps together.
    const lease = admission.admit(authInfo);
    if (isRefusal(lease)) return refuse(lease, { azp: authInfo.clientId, sub: authInfo.extra?.sub });
    const s = openSession(authInfo, remote, lease);
    try {
      await s.mcp.connect(s.transport);
      await serve(s, req, res, body);
    } finally {
      // initialize failed (bad params): nothing was registered, so drop the server and its slot.
      if (s.id === undefined) {
        closeSession(s, 'initialize_failed');
        lease.release();
      }
    }
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
    async closeAll() {
      for (const s of [...sessions.values()]) closeSession(s, 'shutdown');
    },
  };
}
