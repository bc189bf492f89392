import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  type InboundClassificationOutcome,
  isInitializeRequest,
  type McpServer,
} from '@modelcontextprotocol/server';
import { type Admission, isRefusal, type Refusal } from '../admission/admission.ts';
import type { Lease } from '../admission/client-ledger.ts';
import { meterResponse } from '../admission/response-meter.ts';
import type { Logger } from '../log.ts';
import type { SharedDispatch } from '../mcp/modern-dispatch.ts';
import type { RequestClassifier } from '../mcp/request-classifier.ts';
import { type IdKey, idKey, readableId } from '../mcp/request-id.ts';
import type { Session } from '../mcp/session.ts';
import type { OpenConnection, ServerMetrics } from '../metrics/server-metrics.ts';
import { ExpiryTimer } from '../transport/expiry-timer.ts';
import { jsonRpcError, readJsonMessage, sendJson } from './json-rpc-reply.ts';
import { BUSY_RETRY_AFTER_SECONDS, createModernHttp, isModernHeaderOnly, type SessionRequest } from './modern-http.ts';
import { legacyPostProblem, postShapeProblem } from './post-checks.ts';
import { missingToolScope } from './scope-step-up.ts';

/** Options of {@link createStreamableHttpHandler}. */
export interface StreamableHttpOptions {
  /** The admission shared with the WebSocket: Host/Origin, token, authentication, caps, shutdown. */
  admission: Admission;
  /** Creates an McpServer: one per 2025-11-25 session, and for 2026-07-28 one per request the SDK's entry serves (modern-http.ts). */
  createSession(session: SessionRequest): Session;
  /** Largest request body in bytes; larger gets 413. */
  maxMessageBytes: number;
  /** A session with no POST/DELETE for this long (and none in progress) is closed, in ms; GET streams don't count. */
  idleTimeoutMs: number;
  logger: Logger;
  /** Counts sessions, requests by era and budget refusals (METRICS_PORT set). Default none. */
  metrics?: ServerMetrics | undefined;
  /** The server's shared 2026-07-28 dispatch (modern-http.ts). */
  dispatch: SharedDispatch;
  /** Classifies POSTs as the SDK does (shared with the WebSocket side). */
  classify: RequestClassifier;
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
  readonly inFlight: Set<IdKey>;
  readonly opened: number;
  readonly remote: string | undefined;
  requests: number;
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
  closeReason: string | undefined;
  /** Its place in the connections gauge, once initialized. */
  gauge?: OpenConnection | undefined;
}

/** The incoming request as the SDK reads it: `auth` becomes `extra.authInfo` of its messages. */
type AuthedRequest = IncomingMessage & { auth?: AuthInfo };

/** A request (method and id), as opposed to a notification or a response. */
function isRequest(body: unknown): body is { method: string; id: string | number } {
  return typeof (body as { method?: unknown })?.method === 'string' && readableId(body) !== null;
}

/**
 * MCP Streamable HTTP on the same endpoint as the WebSocket, both protocol eras, admitted by the
 * same rules (admission/admission.ts): every request is authenticated and its own token becomes
 * the `authInfo` of the messages it carries, so scope changes and expiry apply per request.
 *
 * The era of a POST is the SDK's classification (`isLegacyRequest`): a request carrying the
 * 2026-07-28 `_meta` envelope (or naming that revision in `MCP-Protocol-Version`) is served
 * statelessly by {@link createModernHttp}, under its client's budget and without a session; a
 * GET/DELETE naming 2026-07-28 gets 405. Everything else is 2025-11-25 and keeps its sessions:
 * one McpServer + SDK transport per session (`Mcp-Session-Id`), holding one connection slot; a
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
  const classifyPost = options.classify;

  const modern = createModernHttp({
    createSession: options.createSession,
    maxMessageBytes: options.maxMessageBytes,
    logger,
    metrics: options.metrics,
    dispatch: options.dispatch,
  });

  /** A 2026-07-28 request: served statelessly under its client's budget (no session, no slot). */
  async function serveModern(
    req: AuthedRequest,
    res: ServerResponse,
    body: unknown,
    outcome: InboundClassificationOutcome,
    authInfo: AuthInfo,
  ): Promise<void> {
    const lease = admission.borrow(authInfo);
    if (isRefusal(lease)) {
      admission.audit(lease, 'http', { remote: req.socket.remoteAddress, azp: authInfo.clientId });
      return sendJson(res, lease.status, lease.headers, lease.body);
    }
    await modern.serve(req, res, body, outcome, authInfo, lease);
  }

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
    const sessionLogger = logger.child({
      azp: authInfo.clientId,
      sub: authInfo.extra?.sub,
      user: authInfo.extra?.user,
      transport: 'http',
    });
    let session!: HttpSession;
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        session.id = id;
        sessions.set(id, session);
        session.gauge = options.metrics?.connectionOpened('http', '2025-11-25');
        sessionLogger.info({ event: 'auth.accepted', transport: 'http', session: id, scopes: authInfo.scopes, remote });
      },
    });
    // Made, then assigned (not a literal assigned to a property: see transport/ws-session.ts).
    const onclose = () => {
      if (session.id !== undefined && sessions.get(session.id) === session) sessions.delete(session.id);
      clearTimeout(session.idleTimer);
      session.lease.release();
      session.gauge?.closed();
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
    transport.onclose = onclose;
    session = {
      id: undefined,
      transport,
      mcp: options.createSession({ authInfo, logger: sessionLogger, directToolCalls: false }).server,
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
      options.metrics?.refused('access.denied', 'over_budget', 'http');
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
        let open = true;
        // Deferred a turn: a deadline already past must still find the stream set up.
        const expiry = new ExpiryTimer(Date.now, () =>
          setTimeout(() => open && s.transport.closeStandaloneSSEStream(), 0).unref(),
        );
        expiry.arm(exp);
        res.once('close', () => {
          open = false;
          expiry.clear();
        });
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
    const refuse = (refusal: Refusal, fields: Record<string, unknown> = {}) => {
      admission.audit(refusal, 'http', { remote, ...fields });
      sendJson(res, refusal.status, refusal.headers, refusal.body);
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
      const message = await readJsonMessage(req, res, options.maxMessageBytes);
      if (message === undefined) return;
      body = message.body;
      // The SDK's own classification (what its isLegacyRequest runs, without building a web
      // Request), so the two legs can never disagree on a request's era.
      const outcome = classifyPost(req.headers, body);
      const shape = postShapeProblem(req, body, outcome);
      if (shape !== undefined) return jsonRpcError(res, shape.status, shape.code, shape.message, readableId(body));
      const stepUp = missingToolScope(body, authInfo);
      if (stepUp !== undefined) {
        return refuse(admission.refusalFor(stepUp.error), {
          azp: authInfo.clientId,
          tool: stepUp.tool,
          id: readableId(body),
        });
      }
      if (outcome.kind !== 'legacy') {
        options.metrics?.httpRequest('2026-07-28');
        return serveModern(req, res, body, outcome, authInfo);
      }
      options.metrics?.httpRequest('2025-11-25');
      const problem = legacyPostProblem(req, body);
      if (problem !== undefined)
        return jsonRpcError(res, problem.status, problem.code, problem.message, readableId(body));
    } else if (isModernHeaderOnly(req) && req.headers['mcp-session-id'] === undefined) {
      // 2026-07-28 has no GET stream and no session to delete.
      res.setHeader('allow', 'POST');
      return jsonRpcError(res, 405, -32000, 'Method not allowed: 2026-07-28 serves POST only');
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
        options.metrics?.refused('access.denied', 'session_binding', 'http');
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
      await modern.close();
    },
  };
}
