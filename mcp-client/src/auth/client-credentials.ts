import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { readSecretFile } from '../config.ts';
import { ClientError, scopeAdvice } from '../errors.ts';
import { describeFailure, findIssuerMismatch, mapDiscoveryError } from './discovery-errors.ts';
import { type CachedToken, TokenCache, type TokenKey } from './token-cache.ts';
import { revocationEndpointOf } from './token-revocation.ts';
import type { GetTokenOptions, TokenSource } from './token-source.ts';
import { requireSecureTransport } from './trust.ts';

/**
 * Options of {@link ClientCredentialsTokenSource}. Give exactly one of `issuer` and `tokenUrl`: the
 * secret goes to that issuer's token endpoint (or that endpoint) and nowhere else.
 */
export interface ClientCredentialsOptions {
  /** Issuer to discover (`/.well-known/openid-configuration`); its `issuer` must match exactly. */
  readonly issuer?: string | URL | undefined;
  /** Token endpoint to use as is, without discovery. */
  readonly tokenUrl?: string | URL | undefined;
  /**
   * RFC 8707 resource indicator sent on every token request: the MCP server's canonical URI. The
   * authorization server binds the token's `aud` to it. Omitted from requests when undefined.
   */
  readonly resource?: string | undefined;
  /** Hosts (`host` or `host:port`) allowed over plain http although not loopback. Default none. */
  readonly insecureHosts?: readonly string[] | undefined;
  /** Where tokens are kept, keyed by issuer + resource + scope; share it across sources. Default a private cache. */
  readonly cache?: TokenCache | undefined;
  readonly clientId: string;
  /** The secret itself. Give this or `clientSecretFile`. */
  readonly clientSecret?: string | undefined;
  /** File holding the secret; read on first use and re-read once when the endpoint says invalid_client. */
  readonly clientSecretFile?: string | undefined;
  /**
   * When the endpoint refuses the secret and the file still holds it, how long to watch the file for
   * the rotated secret (an admin regenerates in Keycloak, then updates the file), in ms. Default 5000.
   */
  readonly secretFileWaitMs?: number | undefined;
  /** Space-separated scopes to request; omitted from the request when undefined. */
  readonly scope?: string | undefined;
  /** Renew this many seconds before `exp` (capped at half the lifetime). Default 30. */
  readonly renewSkewSeconds?: number | undefined;
  /** HTTP timeout per request, in seconds. Default 10. */
  readonly timeoutSeconds?: number | undefined;
  /** Clock in ms since the epoch (tests). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** How often a refused client re-reads its secret file while waiting for the rotated secret, in ms. */
const SECRET_FILE_POLL_MS = 200;

/**
 * OAuth 2.0 client-credentials tokens via openid-client, cached until `exp` minus a skew, per
 * issuer + resource + scope. Concurrent callers share one in-flight token request, so one lifetime
 * costs one request. Plain http to a non-loopback token endpoint is refused unless allowed by name.
 */
export class ClientCredentialsTokenSource implements TokenSource {
  readonly refreshable = true;
  readonly clientId: string;
  readonly #opts: ClientCredentialsOptions;
  readonly #now: () => number;
  #server: oidc.ServerMetadata | undefined;
  #secret: string | undefined;
  readonly #cache: TokenCache;
  #inflight: Promise<string> | undefined;
  #requests = 0;
  /** Tokens this source obtained, with their expiry (ms): what {@link revoke} revokes. */
  readonly #issued = new Map<string, number>();

  /** @throws TypeError when neither or both of `issuer`/`tokenUrl`, or neither secret option, are given. */
  constructor(options: ClientCredentialsOptions) {
    if ((options.issuer === undefined) === (options.tokenUrl === undefined)) {
      throw new TypeError('ClientCredentialsTokenSource needs exactly one of issuer and tokenUrl');
    }
    if ((options.clientSecret === undefined) === (options.clientSecretFile === undefined)) {
      throw new TypeError('ClientCredentialsTokenSource needs exactly one of clientSecret and clientSecretFile');
    }
    this.#opts = options;
    this.clientId = options.clientId;
    this.#now = options.now ?? Date.now;
    this.#secret = options.clientSecret;
    this.#cache = options.cache ?? new TokenCache();
  }

  /** Number of token requests sent so far (observability and tests). */
  get requestCount(): number {
    return this.#requests;
  }

  /** Where tokens come from, for messages: the token URL, or the issuer before discovery. */
  get endpoint(): string {
    return String(this.#server?.token_endpoint ?? this.#opts.tokenUrl ?? this.#opts.issuer);
  }

  /** The RFC 8707 resource sent with every token request, if any. */
  get resource(): string | undefined {
    return this.#opts.resource;
  }

  async getToken(options: GetTokenOptions = {}): Promise<string> {
    if (this.#inflight) return this.#inflight;
    if (!options.forceRefresh && this.#server) {
      const cached = this.#cache.get(this.#key(this.#server), this.#now());
      if (cached !== undefined) return cached;
    }
    const request = this.#fetch(options.forceRefresh === true).finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = request;
    return request;
  }

  #key(server: oidc.ServerMetadata): TokenKey {
    return { issuer: server.issuer, resource: this.#opts.resource ?? '', scope: this.#opts.scope ?? '' };
  }

  async #fetch(forceRefresh: boolean): Promise<string> {
    const server = await this.#serverMetadata();
    // Another source sharing the cache may already hold a token for this issuer + resource + scope.
    const cached = forceRefresh ? undefined : this.#cache.get(this.#key(server), this.#now());
    if (cached !== undefined) return cached;
    requireSecureTransport(server.token_endpoint as string, 'the client secret', this.#opts.insecureHosts ?? []);
    this.#secret ??= readSecretFile(this.#opts.clientSecretFile as string);
    const fresh = await this.#grantWithRetry(server, this.#secret);
    this.#cache.set(this.#key(server), fresh);
    this.#issued.set(fresh.token, fresh.expiresAt);
    return fresh.token;
  }

  async revoke(): Promise<number> {
    const server = this.#server;
    const now = this.#now();
    const live = [...this.#issued].filter(([, expiresAt]) => expiresAt > now).map(([token]) => token);
    this.#issued.clear();
    if (server === undefined || live.length === 0) return 0;
    for (const token of live) this.#cache.delete(this.#key(server), token);
    const endpoint = revocationEndpointOf(server);
    if (endpoint === undefined || this.#secret === undefined) return 0;
    const config = this.#configuration(server, this.#secret);
    const results = await Promise.allSettled(
      live.map((token) => oidc.tokenRevocation(config, token, { token_type_hint: 'access_token' })),
    );
    return results.filter((r) => r.status === 'fulfilled').length;
  }

  async #grantWithRetry(server: oidc.ServerMetadata, secret: string): Promise<IssuedToken> {
    try {
      return await this.#grantRepeating(server, secret);
    } catch (err) {
      if (!isInvalidClient(err) || this.#opts.clientSecretFile === undefined) throw this.#mapError(err);
      // The secret may have been rotated under us (Docker/Kubernetes secret update): re-read once.
      const reread = await this.#awaitNewSecret(this.#opts.clientSecretFile, secret);
      if (reread === undefined) throw this.#mapError(err);
      this.#secret = reread;
      try {
        return await this.#grant(server, reread);
      } catch (again) {
        throw this.#mapError(again);
      }
    }
  }

  /** The file's secret once it differs from `current`, polled for at most `secretFileWaitMs`; undefined if it never does. */
  async #awaitNewSecret(file: string, current: string): Promise<string | undefined> {
    const deadline = this.#now() + (this.#opts.secretFileWaitMs ?? 5000);
    for (;;) {
      const secret = readSecretFile(file);
      if (secret !== current) return secret;
      if (this.#now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, SECRET_FILE_POLL_MS));
    }
  }

  #configuration(server: oidc.ServerMetadata, secret: string): oidc.Configuration {
    // client_secret_post unless the server lists methods without it and with client_secret_basic.
    const methods = server.token_endpoint_auth_methods_supported;
    const basic =
      Array.isArray(methods) && methods.includes('client_secret_basic') && !methods.includes('client_secret_post');
    const config = new oidc.Configuration(
      server,
      this.clientId,
      secret,
      basic ? basicAuth(secret) : oidc.ClientSecretPost(secret),
    );
    this.#tune(config);
    return config;
  }

  /**
   * {@link #grant}, sent once more after {@link REPEAT_PAUSE_MS} when it got no answer (timed out,
   * refused, reset) or a gateway's 502/503/504: a client-credentials grant changes nothing at the
   * authorization server but issue a token, so repeating it is safe, and behind a load balancer the
   * repeat may reach another node (one that was still starting can take longer than the timeout).
   */
  async #grantRepeating(server: oidc.ServerMetadata, secret: string): Promise<IssuedToken> {
    try {
      return await this.#grant(server, secret);
    } catch (err) {
      if (!isTransient(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, REPEAT_PAUSE_MS));
      return this.#grant(server, secret);
    }
  }

  async #grant(server: oidc.ServerMetadata, secret: string): Promise<IssuedToken> {
    const config = this.#configuration(server, secret);
    this.#requests += 1;
    const started = this.#now();
    const params: Record<string, string> = {};
    if (this.#opts.scope !== undefined && this.#opts.scope !== '') params.scope = this.#opts.scope;
    // RFC 8707 on every request (MCP requires it even where the server ignores it). Keycloak binds
    // aud to it with feature resource-indicators; see keycloak/realm-export.json for keycloak#50251.
    if (this.#opts.resource !== undefined) params.resource = this.#opts.resource;
    const tokens = await oidc.clientCredentialsGrant(config, params);
    const lifetimeMs = lifetimeOf(tokens, started) * 1000;
    const skewMs = Math.min((this.#opts.renewSkewSeconds ?? 30) * 1000, lifetimeMs / 2);
    return { token: tokens.access_token, renewAt: started + lifetimeMs - skewMs, expiresAt: started + lifetimeMs };
  }

  async #serverMetadata(): Promise<oidc.ServerMetadata> {
    if (this.#server) return this.#server;
    if (this.#opts.tokenUrl !== undefined) {
      const tokenUrl = new URL(this.#opts.tokenUrl);
      const issuer = this.#opts.issuer === undefined ? tokenUrl.origin : String(this.#opts.issuer);
      this.#server = { issuer, token_endpoint: tokenUrl.href };
      return this.#server;
    }
    const issuer = new URL(this.#opts.issuer as string | URL);
    requireSecureTransport(issuer, 'a discovery request', this.#opts.insecureHosts ?? []);
    const discover = (algorithm: 'oidc' | 'oauth2') =>
      oidc.discovery(issuer, this.clientId, undefined, undefined, {
        execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
        timeout: this.#opts.timeoutSeconds ?? 10,
        algorithm,
      });
    try {
      // OpenID Connect discovery first (Keycloak), then RFC 8414 authorization server metadata.
      const discovered = await discover('oidc').catch(async (err: unknown) => {
        if (findIssuerMismatch(err) !== undefined) throw err;
        return discover('oauth2').catch(() => {
          throw err;
        });
      });
      this.#server = discovered.serverMetadata();
    } catch (err) {
      throw mapDiscoveryError(err, issuer);
    }
    if (!this.#server.token_endpoint) {
      throw new ClientError('token_endpoint', `the issuer ${issuer.href} publishes no token_endpoint in its metadata`);
    }
    return this.#server;
  }

  #tune(config: oidc.Configuration): void {
    if (new URL(this.endpoint).protocol === 'http:') oidc.allowInsecureRequests(config);
    config.timeout = this.#opts.timeoutSeconds ?? 10;
  }

  #mapError(err: unknown): ClientError {
    if (err instanceof ClientError) return err;
    const at = this.endpoint;
    if (err instanceof oidc.ResponseBodyError) {
      const details = { status: err.status, oauthError: err.error, cause: err };
      if (isInvalidClient(err)) {
        const fix =
          this.#opts.clientSecretFile === undefined
            ? 'check OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET'
            : `check OAUTH_CLIENT_ID and the secret in OAUTH_CLIENT_SECRET_FILE (${this.#opts.clientSecretFile})`;
        return new ClientError(
          'auth_refused',
          `Keycloak refused the client credentials (${err.error}) for client ${this.clientId} at ${at}: ${fix}`,
          details,
        );
      }
      if (err.error === 'invalid_target') {
        return new ClientError(
          'auth_refused',
          `the authorization server at ${at} does not issue tokens for the resource ${this.#opts.resource} ` +
            `(invalid_target): set OAUTH_RESOURCE to the server's canonical URI (its PUBLIC_URL), or register ` +
            `that URI as the resource_url of the server's client in Keycloak`,
          details,
        );
      }
      if (err.error === 'invalid_scope') {
        const scope = this.#opts.scope ?? '';
        return new ClientError(
          'auth_refused',
          `Keycloak refused the requested scope "${scope}" (invalid_scope) for client ${this.clientId}: ` +
            `${scopeAdvice(scope, this.clientId)}, or remove the scope from OAUTH_SCOPE`,
          { ...details, scope },
        );
      }
      const desc = err.error_description ? `: ${err.error_description}` : '';
      return new ClientError(
        'auth_refused',
        `the token endpoint ${at} refused the request (HTTP ${err.status} ${err.error}${desc})`,
        details,
      );
    }
    return new ClientError('token_endpoint', `token request to ${at} failed: ${describeFailure(err)}`, { cause: err });
  }
}

/** A token as obtained: cached until `renewAt`, revocable until `expiresAt` (ms). */
interface IssuedToken extends CachedToken {
  readonly expiresAt: number;
}

/** application/x-www-form-urlencoded (RFC 6749 §2.3.1) without escaping `-._*`, which some servers fail to decode. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** client_secret_basic: `Authorization: Basic base64(urlencode(id):urlencode(secret))`. */
function basicAuth(secret: string): oidc.ClientAuth {
  return (_as, client, _body, headers) => {
    const pair = `${formEncode(client.client_id)}:${formEncode(secret)}`;
    headers.set('authorization', `Basic ${Buffer.from(pair).toString('base64')}`);
  };
}

/** Pause before the one repeat of a token request that got no answer. */
const REPEAT_PAUSE_MS = 250;

/** Network errors a request that got no HTTP answer ends with (Node's errno codes and undici's). */
const NO_ANSWER =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN|UND_ERR_(SOCKET|CONNECT_TIMEOUT|HEADERS_TIMEOUT|CLOSED))$/;

/** True for a token request that got no answer, or a gateway's 502/503/504 (not an OAuth error). */
function isTransient(err: unknown): boolean {
  if (err instanceof oidc.ResponseBodyError) return false;
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const { name, code, status } = e as { name?: unknown; code?: unknown; status?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    if (typeof code === 'string' && NO_ANSWER.test(code)) return true;
    if (status === 502 || status === 503 || status === 504) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function isInvalidClient(err: unknown): boolean {
  return (
    err instanceof oidc.ResponseBodyError && (err.error === 'invalid_client' || err.error === 'unauthorized_client')
  );
}

/** Token lifetime in seconds: `expires_in`, else the JWT's `exp`, else 0 (not cached). */
function lifetimeOf(tokens: oidc.TokenEndpointResponse, startedMs: number): number {
  if (typeof tokens.expires_in === 'number' && tokens.expires_in > 0) return tokens.expires_in;
  try {
    const { exp } = decodeJwt(tokens.access_token);
    if (typeof exp === 'number') return Math.max(0, exp - startedMs / 1000);
  } catch {
    // An opaque token without expires_in: fetch a new one each time.
  }
  return 0;
}

export { describeFailure } from './discovery-errors.ts';
