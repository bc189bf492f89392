import * as oidc from 'openid-client';
import type { GetTokenOptions, TokenSource } from '../auth/token-source.ts';
import { ClientError } from '../errors.ts';
import { storedClientConfiguration } from './client-registration.ts';
import { loginFromTokens, refusal } from './sign-in.ts';
import type { StoredLogin, TokenStore } from './token-store.ts';

/** Options of {@link LoginTokenSource}. */
export interface LoginTokenSourceOptions {
  readonly store: TokenStore;
  /** The sign-in to act with, as found in the store. */
  readonly login: StoredLogin;
  readonly insecureHosts: readonly string[];
  /** Refresh this many seconds before the access token expires. Default 30. */
  readonly renewSkewSeconds?: number | undefined;
  /** Clock in ms since the epoch (tests). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/**
 * Access tokens of a person who signed in with `mcp-client login`: the stored access token while
 * it is fresh, then a refresh-token grant at the same issuer with the same `resource`; the new
 * tokens (the rotated refresh token included) replace the stored ones at once, so a second process
 * never replays a refresh token the server already rotated away. It revokes nothing on close:
 * the sign-in outlives one command, and only `mcp-client logout` ends it.
 */
export class LoginTokenSource implements TokenSource {
  readonly refreshable = true;
  readonly clientId: string;
  readonly #opts: LoginTokenSourceOptions;
  readonly #now: () => number;
  #login: StoredLogin;
  #config: oidc.Configuration | undefined;
  #inflight: Promise<string> | undefined;

  constructor(options: LoginTokenSourceOptions) {
    this.#opts = options;
    this.#login = options.login;
    this.clientId = options.login.clientId;
    this.#now = options.now ?? Date.now;
  }

  /** The sign-in in use (its tokens are never printed). */
  get login(): StoredLogin {
    return this.#login;
  }

  getToken(options: GetTokenOptions = {}): Promise<string> {
    const skewMs = (this.#opts.renewSkewSeconds ?? 30) * 1000;
    if (!options.forceRefresh && this.#login.expiresAt - skewMs > this.#now()) {
      return Promise.resolve(this.#login.accessToken);
    }
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #refresh(): Promise<string> {
    const login = this.#login;
    if (login.refreshToken === undefined) throw signInAgain(login, 'the sign-in has expired');
    this.#config ??= await storedClientConfiguration(login.issuer, login, this.#opts.insecureHosts);
    let tokens: oidc.TokenEndpointResponse;
    try {
      tokens = await oidc.refreshTokenGrant(this.#config, login.refreshToken, { resource: login.resource });
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') {
        // Expired, revoked, or rotated away by another process: the stored sign-in is spent.
        this.#opts.store.remove(login.issuer, login.resource);
        throw signInAgain(login, 'the sign-in has ended (the refresh token was refused)');
      }
      throw refusal(err, 'refreshing the sign-in');
    }
    this.#login = loginFromTokens(login, login, login.requestedScope, tokens, login.refreshToken);
    this.#opts.store.save(this.#login);
    return this.#login.accessToken;
  }
}

function signInAgain(login: StoredLogin, why: string): ClientError {
  return new ClientError(
    'auth_refused',
    `${why} for ${login.username ?? 'you'} at ${login.issuer}: sign in again with mcp-client login`,
  );
}

/**
 * Ends a sign-in: revokes its refresh token and access token at the issuer (RFC 7009, when the
 * metadata names a revocation endpoint) and forgets it. Resolves to whether the server accepted
 * the revocations; the stored sign-in is forgotten either way.
 */
export async function logout(
  store: TokenStore,
  login: StoredLogin,
  insecureHosts: readonly string[],
): Promise<boolean> {
  try {
    const config = await storedClientConfiguration(login.issuer, login, insecureHosts);
    if (config.serverMetadata().revocation_endpoint === undefined) return false;
    const revocations: Promise<void>[] = [];
    if (login.refreshToken !== undefined) {
      revocations.push(oidc.tokenRevocation(config, login.refreshToken, { token_type_hint: 'refresh_token' }));
    }
    revocations.push(oidc.tokenRevocation(config, login.accessToken, { token_type_hint: 'access_token' }));
    const results = await Promise.allSettled(revocations);
    return results.every((r) => r.status === 'fulfilled');
  } catch {
    return false;
  } finally {
    store.remove(login.issuer, login.resource);
  }
}
