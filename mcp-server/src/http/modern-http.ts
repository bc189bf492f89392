import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler, type McpServer } from '@modelcontextprotocol/server';
import type { Lease } from '../admission/client-ledger.ts';
import { meterResponse } from '../admission/response-meter.ts';
import type { Logger } from '../log.ts';
import { readableId } from '../mcp/request-id.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import { jsonRpcError } from './json-rpc-reply.ts';

/** The 2026-07-28 revisions served; the first is the latest. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;

/** Seconds a request refused because its client is at its budget is told to wait. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/** Options of {@link createModernHttp}. */
export interface ModernHttpOptions {
  /** Creates the McpServer that serves one request (fresh per request, never shared). */
  createSession(authInfo: AuthInfo, logger: Logger): McpServer;
  /** Largest request body in bytes (already enforced while reading; passed on to the SDK). */
  maxMessageBytes: number;
  logger: Logger;
  /** Counts budget refusals (METRICS_PORT set). Default none. */
  metrics?: Pick<ServerMetrics, 'refused'> | undefined;
}

/** The 2026-07-28 (stateless) leg of the Streamable HTTP endpoint. */
export interface ModernHttp {
  /**
   * Serves one authenticated, already-parsed POST under its client's budget (`lease`, released
   * when the response closes). Over the budget: 429 + Retry-After, the request's id echoed.
   */
  serve(req: IncomingMessage, res: ServerResponse, body: unknown, authInfo: AuthInfo, lease: Lease): Promise<void>;
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

/**
 * Serves 2026-07-28 requests statelessly with the SDK's `createMcpHandler` (strict:
 * `legacy: 'reject'`; 2025-11-25 traffic never reaches it). Each request gets a fresh McpServer
 * from the shared session factory, built for the token that came with it, so any replica could
 * answer any request. The SDK checks the per-request `_meta` envelope and the
 * `MCP-Protocol-Version` / `Mcp-Method` / `Mcp-Name` headers against the body (400 -32020), and
 * answers unknown revisions with 400 -32022 naming the supported ones.
 */
export function createModernHttp(options: ModernHttpOptions): ModernHttp {
  const { logger } = options;
  const handler = createMcpHandler(
    (ctx) => {
      // The entry always passes the authInfo given to fetch below; every request was authenticated.
      const authInfo = ctx.authInfo as AuthInfo;
      const requestLogger = logger.child({
        azp: authInfo.clientId,
        sub: authInfo.extra?.sub,
        user: authInfo.extra?.user,
        transport: 'http',
      });
      return options.createSession(authInfo, requestLogger);
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

  return {
    async serve(req, res, body, authInfo, lease) {
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
      (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
      await node(req, res, body);
    },
    close: () => handler.close(),
  };
}
