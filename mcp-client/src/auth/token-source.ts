import type { BearerChallenge } from 'mcp-ws-common';

/** Options of {@link TokenSource.getToken}. */
export interface GetTokenOptions {
  /** Ignore any cached token and fetch a new one (e.g. after close code 4401 or a 401). Default false. */
  readonly forceRefresh?: boolean;
  /**
   * The server's challenge that prompted this call: a 401's, or a 403 `insufficient_scope`'s
   * (then only for a source that {@link TokenSource.stepsUp}). Its `scope` and `resource_metadata`
   * say what to ask for and where to look.
   */
  readonly challenge?: BearerChallenge | undefined;
}

/**
 * Where access tokens come from. Implementations cache as they see fit; callers ask for a token
 * before each connection and force a refresh when the server says the token expired.
 */
export interface TokenSource {
  /**
   * Resolves to a bearer access token; an empty string means none yet (a source that signs in only
   * when the server challenges): the request then goes without `Authorization`.
   * @throws ClientError `auth_refused`, `token_endpoint`, `issuer_mismatch` or `config`.
   */
  getToken(options?: GetTokenOptions): Promise<string>;
  /** True when a forced refresh can yield a different token (false for a static token). */
  readonly refreshable: boolean;
  /**
   * True when a 403 `insufficient_scope` can be answered with a new token carrying more scope (a
   * person signing in again), so the transport asks once more with the challenge instead of failing.
   */
  readonly stepsUp?: boolean;
  /** The OAuth client id, when known (used in error advice). */
  readonly clientId?: string | undefined;
  /** Told about a server's `WWW-Authenticate` challenge (e.g. to learn its resource metadata URL). */
  onChallenge?(challenge: BearerChallenge): void;
  /**
   * Revokes at the authorization server (RFC 7009) the tokens this source obtained that have not
   * expired, when the issuer's metadata advertises a `revocation_endpoint`, and forgets them. Best
   * effort: resolves with how many the server accepted, never rejects. Called on close.
   */
  revoke?(): Promise<number>;
}
