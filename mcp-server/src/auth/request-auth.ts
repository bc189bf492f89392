import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { ServerError } from '../errors.ts';
import { requestBearerToken } from './authorization-header.ts';

/** What {@link authenticateRequest} needs: the verifier and OAUTH_REQUIRED_SCOPES. */
export interface RequestAuthOptions {
  /** Verifies a bearer token (waits for readiness). @throws ServerError */
  verify(token: string): Promise<AuthInfo>;
  /** Scopes every request needs (OAUTH_REQUIRED_SCOPES). */
  requiredScopes: readonly string[];
  /** Longest bearer token in bytes; longer gets 401 before parsing. Default 8192. */
  maxTokenBytes?: number;
}

/** True when the URL carries a token in the query string (refused: MCP authorization forbids it). */
export function hasTokenInQuery(url: URL | null): boolean {
  // null: a target no URL parser accepts; both entry points refuse it (400) before asking this
  return url !== null && (url.searchParams.has('access_token') || url.searchParams.has('token'));
}

/**
 * Authenticates one HTTP request (a WebSocket upgrade or a Streamable HTTP request) the same
 * way: exactly one `Authorization: Bearer` header (no longer than `maxTokenBytes`), then
 * {@link authenticateToken}.
 * @throws ServerError `token_malformed`, `token_missing`, `token_invalid`, `token_expired`, `insufficient_scope`, `keys_unavailable`.
 */
export async function authenticateRequest(req: IncomingMessage, options: RequestAuthOptions): Promise<AuthInfo> {
  return authenticateToken(requestBearerToken(req, options.maxTokenBytes), options);
}

/**
 * The checks every presented token passes, at the upgrade, on every HTTP request and on an
 * in-band renewal: verified token, not already past `exp` (even within the clock tolerance),
 * every required scope present.
 * @throws ServerError `token_invalid`, `token_expired`, `insufficient_scope`, `keys_unavailable`.
 */
export async function authenticateToken(token: string, options: RequestAuthOptions): Promise<AuthInfo> {
  const authInfo = await options.verify(token);
  if (authInfo.expiresAt !== undefined && authInfo.expiresAt * 1000 <= Date.now()) {
    throw new ServerError('token_expired', 'the token has expired');
  }
  const missing = options.requiredScopes.filter((s) => !authInfo.scopes.includes(s));
  if (missing.length > 0) {
    throw new ServerError('insufficient_scope', `the token lacks scope ${missing.join(' ')}`, { scopes: missing });
  }
  return authInfo;
}
