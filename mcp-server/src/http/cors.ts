import type { IncomingMessage, ServerResponse } from 'node:http';
import { forbiddenBody, isOriginAllowed } from './origin-policy.ts';

/**
 * CORS for browser-based MCP hosts (MCP Inspector, web IDEs), for the origins in ALLOWED_ORIGINS
 * only: the same list that admits a browser's request admits its reading the answer. The origin is
 * echoed (never `*` on /mcp, which carries bearer tokens), with `Vary: Origin` so caches keep
 * answers per origin. The RFC 9728 metadata is public and answers any origin.
 */

/** Request headers a browser host may send to /mcp (SEP-2243 `Mcp-Param-*` ones are matched by prefix). */
const MCP_REQUEST_HEADERS = new Set([
  'authorization',
  'content-type',
  'accept',
  'last-event-id',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
]);

/** Response headers a browser host must be able to read (step-up challenges, sessions, back-off). */
const EXPOSED = 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, Retry-After';
/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * Adds CORS headers to a response of /mcp when the request's Origin is allowed. Requests without
 * an Origin (CLIs, servers) and refused origins get none; the admission answers the latter 403.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: readonly string[]): void {
  res.setHeader('vary', 'Origin');
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || !isOriginAllowed(origin, allowedOrigins)) return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', EXPOSED);
}

/**
 * Answers a CORS preflight (`OPTIONS`) of /mcp: 204 naming the methods and the requested headers
 * when the origin is allowed and every requested header is one MCP uses; 403 otherwise.
 */
export function servePreflight(req: IncomingMessage, res: ServerResponse, allowedOrigins: readonly string[]): void {
  const origin = req.headers.origin;
  const requested = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.length > 0);
  const headersOk = requested.every((h) => MCP_REQUEST_HEADERS.has(h) || h.startsWith('mcp-param-'));
  if (typeof origin !== 'string' || !isOriginAllowed(origin, allowedOrigins) || !headersOk) {
    res.writeHead(403, { 'content-type': 'application/json', vary: 'Origin' });
    res.end(forbiddenBody('origin'));
    return;
  }
  res.writeHead(204, {
    vary: 'Origin',
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': requested.join(', '),
    'access-control-max-age': PREFLIGHT_MAX_AGE,
  });
  res.end();
}

/** Answers a preflight of the public metadata document: any origin, GET, the MCP version header. */
export function serveMetadataPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, OPTIONS',
    'access-control-allow-headers': 'mcp-protocol-version',
    'access-control-max-age': PREFLIGHT_MAX_AGE,
  });
  res.end();
}
