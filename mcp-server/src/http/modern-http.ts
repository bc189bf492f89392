import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler, type InboundClassificationOutcome } from '@modelcontextprotocol/server';
import type { Lease } from '../admission/client-ledger.ts';
import { meterResponse } from '../admission/response-meter.ts';
import type { Logger } from '../log.ts';
import type { Exchange } from '../mcp/dispatch-channels.ts';
import type { SharedDispatch } from '../mcp/modern-dispatch.ts';
import { readableId } from '../mcp/request-id.ts';
import type { Session, SessionOptions } from '../mcp/session.ts';
import { TOOLS, visibleTools } from '../mcp/tool-list.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import { principalLoggers } from '../principal-loggers.ts';
import { CheckPhaseBatch } from './check-phase-batch.ts';
import { exchangeResponse } from './exchange-response.ts';
import { jsonRpcError } from './json-rpc-reply.ts';
import { dispatchableRequest } from './modern-route.ts';

/** The 2026-07-28 revisions served; the first is the latest. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;

/** Seconds a request refused because its client is at its budget is told to wait. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** What the HTTP side asks of the session factory (the rest is the server's configuration). */
export type SessionRequest = Pick<SessionOptions, 'authInfo' | 'logger'> &
  Partial<Pick<SessionOptions, 'supportedProtocolVersions' | 'directToolCalls'>>;

/** Options of {@link createModernHttp}. */
export interface ModernHttpOptions {
  /** Creates a fresh McpServer per request the SDK's entry serves (never shared). */
  createSession(session: SessionRequest): Session;
  /** Largest request body in bytes (already enforced while reading; passed on to the SDK). */
  maxMessageBytes: number;
  logger: Logger;
  /** Counts budget refusals (METRICS_PORT set). Default none. */
  metrics?: Pick<ServerMetrics, 'refused'> | undefined;
  /** The server's shared dispatch (it also serves WebSocket connections; the server closes it). */
  dispatch: SharedDispatch;
}

/** The 2026-07-28 (stateless) leg of the Streamable HTTP endpoint. */
export interface ModernHttp {
  /**
   * Serves one authenticated, already-parsed POST under its client's budget (`lease`, released
   * when the response closes). Over the budget: 429 + Retry-After, the request's id echoed.
   */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    outcome: InboundClassificationOutcome,
    authInfo: AuthInfo,
    lease: Lease,
  ): Promise<void>;
  /** Aborts requests in flight (shutdown). */
  close(): Promise<void>;
}

/**
 * True when a GET/DELETE (which carries no body) names a 2026-07-28 revision in
 * `MCP-Protocol-Version`: such a client has no session to resume or end, so it gets 405.
 */
export function isModernHeaderOnly(req: IncomingMessage): boolean {
  const version = req.headers['mcp-protocol-version'];
  return typeof version === 'string' && (MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(version);
}

/** Tools whose input schema declares `x-mcp-header` parameters (their `Mcp-Param-*` headers are the SDK entry's to check). */
function toolsWithParamHeaders(): ReadonlySet<string> {
  const all = visibleTools(TOOLS.map((t) => t.scope)).tools;
  return new Set(all.filter((t) => JSON.stringify(t.inputSchema).includes('"x-mcp-header"')).map((t) => t.name));
}

/**
 * Serves 2026-07-28 requests statelessly: no session, any replica could answer any request.
 * tools/call, tools/list and server/discover that the SDK would dispatch unchanged go to one
 * long-lived McpServer (mcp/modern-dispatch.ts), answered as the SDK's per-request transport
 * answers (http/exchange-response.ts); everything else (refusals of its validation ladder,
 * notifications, `subscriptions/listen`, other methods) goes to the SDK's `createMcpHandler`
 * (strict: `legacy: 'reject'`; 2025-11-25 traffic never reaches it), which builds a fresh
 * McpServer for the request from the shared session factory. The route is chosen by
 * http/modern-route.ts from the SDK's own classification, so both serve a request alike.
 */
export function createModernHttp(options: ModernHttpOptions): ModernHttp {
  const { logger } = options;
  const paramHeaderTools = toolsWithParamHeaders();
  const { dispatch } = options;
  const handler = createMcpHandler(
    (ctx) => {
      // The entry always passes the authInfo given to fetch below; every request was authenticated.
      const authInfo = ctx.authInfo as AuthInfo;
      return options.createSession({ authInfo, logger: requestLoggerOf(authInfo), directToolCalls: false }).server;
    },
    {
      legacy: 'reject',
      maxRequestBodySize: options.maxMessageBytes,
      onerror: (err) => logger.debug({ event: 'request_rejected', transport: 'http', error: err.message }),
    },
  );
  const node = toNodeHandler(handler, {
    maxRequestBodySize: options.maxMessageBytes,
    onerror: (err) => logger.error({ event: 'http_request_failed', error: err.message }),
  });

  const requestLoggerOf = principalLoggers(logger, { transport: 'http' });
  const batch = new CheckPhaseBatch((err) =>
    logger.error({ event: 'http_request_failed', error: (err as Error).message }),
  );

  return {
    async serve(req, res, body, outcome, authInfo, lease) {
      res.once('close', () => lease.release());
      const id = readableId(body);
      if (!lease.budget.open) {
        logger.warn({
          event: 'access.denied',
          transport: 'http',
          reason: 'over_budget',
          azp: authInfo.clientId,
          status: 429,
        });
        options.metrics?.refused('access.denied', 'over_budget', 'http');
        res.setHeader('retry-after', String(BUSY_RETRY_AFTER_SECONDS));
        return jsonRpcError(res, 429, -32000, 'this client has too much work in flight; retry later', id);
      }
      meterResponse(res, [lease.budget]);
      const request = dispatchableRequest(outcome, req, paramHeaderTools);
      if (request === undefined) {
        (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
        return node(req, res, body);
      }
      // Dispatched with the other requests read in this iteration (check-phase-batch.ts).
      batch.add(() => {
        if (res.destroyed) return; // the client went away meanwhile: nothing to answer
        let exchange: Exchange;
        try {
          exchange = dispatch.dispatch(request, authInfo, requestLoggerOf(authInfo), exchangeResponse(res));
        } catch (err) {
          logger.error({ event: 'http_request_failed', error: (err as Error).message });
          return jsonRpcError(res, 500, -32603, 'Internal server error', id);
        }
        // The client went away before its answer: abort the handler, as the SDK's entry does.
        res.once('close', () => {
          if (!res.writableFinished) exchange.cancel('the client closed the request');
        });
      });
    },
    async close() {
      await handler.close();
    },
  };
}
