import type { AuthInfo } from '@modelcontextprotocol/server';
import { ServerError } from '../errors.ts';

/** What {@link authenticateToken} needs: the verifier and OAUTH_REQUIRED_SCOPES. */
export interface RequestAuthOptions {
  /** Verifies a bearer token (waits for readiness). @throws ServerError */
  verify(token: string): Promise<AuthInfo>;
  /**
   * The verdict `verify` would answer at once from memory (revocation screened as `verify` does),
   * else undefined: such a token is checked without waiting. Default none. @throws ServerError
   */
  remembered?(token: string): AuthInfo | undefined;
  /** Scopes every request needs (OAUTH_REQUIRED_SCOPES). */
  requiredScopes: readonly string[];
}

/** True when the URL carries a token in the query string (refused: MCP authorization forbids it). */
export function hasTokenInQuery(url: URL | null): boolean {
  // null: a target no URL parser accepts; both entry points refuse it (400) before asking this
  return url !== null && (url.searchParams.has('access_token') || url.searchParams.has('token'));
}

/**
 * The checks every presented token passes, at the upgrade, on every HTTP request and on an
 * in-band renewal: verified token, not already past `exp` (even within the clock tolerance),
 * every required scope present.
 * @throws ServerError `token_invalid`, `token_expired`, `insufficient_scope`, `keys_unavailable`.
 */
export async function authenticateToken(token: string, options: RequestAuthOptions): Promise<AuthInfo> {
  return acceptVerified(await options.verify(token), options.requiredScopes);
}

/**
 * The checks of {@link authenticateToken} after verification, for a verdict at hand (a
 * remembered one): not already past `exp`, every required scope present.
 * @throws ServerError `token_expired`, `insufficient_scope`.
 */
export function acceptVerified(authInfo: AuthInfo, requiredScopes: readonly string[]): AuthInfo {
  if (authInfo.expiresAt !== undefined && authInfo.expiresAt * 1000 <= Date.now()) {
    throw new ServerError('token_expired', 'the token has expired');
  }
  const missing = requiredScopes.filter((s) => !authInfo.scopes.includes(s));
  if (missing.length > 0) {
    throw new ServerError('insufficient_scope', `the token lacks scope ${missing.join(' ')}`, { scopes: missing });
  }
  return authInfo;
}
