import { setTimeout as delay } from 'node:timers/promises';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { ServerConfig } from '../config.ts';
import { ServerError } from '../errors.ts';
import type { Readiness } from '../http/health.ts';
import type { Logger } from '../log.ts';
import type { JwksFetchEvent } from './jwks-cache.ts';
import { discoverProvider, rewriteJwksUri } from './oidc-discovery.ts';
import { createTokenVerifier, type TokenVerifier } from './token-verifier.ts';

/** Discovery, key loading and token verification, with readiness for /readyz. */
export interface Authorizer {
  /** Verifies a token; waits up to `readyWaitMs` for the first key load. @throws ServerError */
  verify(token: string): Promise<AuthInfo>;
  /** What verify() would answer at once from remembered verdicts (token-verifier.ts), else undefined. */
  remembered(token: string): AuthInfo | undefined;
  readonly readiness: Readiness;
  /**
   * Resolves once signing keys were loaded (what /readyz reports from then on). Rejects with the
   * ServerError when authorization cannot start (`discovery_failed`: the discovery document names
   * another issuer; not retried) or with `aborted` when close() came first. Awaiting it is optional:
   * an unobserved rejection is not reported as unhandled.
   */
  readonly ready: Promise<void>;
  /** Stops background discovery/key retries. */
  close(): void;
}

/** Options of {@link createAuthorizer}. */
export interface AuthorizerOptions {
  /** How long a verify() waits for readiness before answering keys_unavailable, in ms. Default 10000. */
  readyWaitMs?: number;
  /** Told of every JWKS fetch after it is logged (metrics). Default none. */
  onJwksFetch?: (event: JwksFetchEvent) => void;
}

/**
 * Starts discovery in the background (retrying while Keycloak boots), then loads the JWKS once;
 * readiness turns true when both succeeded. OAUTH_JWKS_URL skips discovery.
 */
export function createAuthorizer(config: ServerConfig, logger: Logger, options: AuthorizerOptions = {}): Authorizer {
  const abort = new AbortController();
  let verifier: TokenVerifier | undefined;
  let reason = 'discovering the authorization server';
  let isReady = false;

  async function boot(): Promise<void> {
    let jwksUrl: URL;
    if (config.oauthJwksUrl !== undefined) {
      jwksUrl = new URL(config.oauthJwksUrl);
    } else {
      const meta = await discoverProvider({
        issuer: config.oauthIssuer,
        discoveryUrl: config.oauthDiscoveryUrl,
        attempts: Number.POSITIVE_INFINITY,
        signal: abort.signal,
        onRetry: (attempt, err) => {
          reason = `discovery failing: ${err.message}`;
          logger.warn({ event: 'discovery_retry', attempt, error: err.message });
        },
      });
      jwksUrl = rewriteJwksUri(meta.jwks_uri, config.oauthIssuer, config.oauthDiscoveryUrl);
    }
    const v = createTokenVerifier({
      issuer: config.oauthIssuer,
      audience: config.oauthAudience,
      jwksUrl,
      clockToleranceSeconds: config.clockToleranceSeconds,
      cacheMaxAgeMs: config.jwksCacheMaxAgeMs,
      cooldownMs: config.jwksCooldownMs,
      maxStalenessMs: config.jwksMaxStalenessMs,
      fetchTimeoutMs: config.jwksTimeoutMs,
      onJwksFetch: (e) => {
        if (e.ok) logger.debug({ event: 'jwks_fetched', reason: e.reason, keys: e.keys, ms: e.ms });
        else if (e.staleAgeMs !== undefined) {
          // stale-if-error: the last good keys stay in use; tokens they verify keep working.
          logger.warn({ event: 'jwks_fetch_failed', reason: e.reason, error: e.error, servingStaleMs: e.staleAgeMs });
        } else logger.warn({ event: 'jwks_fetch_failed', reason: e.reason, error: e.error });
        options.onJwksFetch?.(e);
      },
    });
    reason = 'loading signing keys';
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      try {
        await v.loadKeys();
        break;
      } catch (err) {
        reason = (err as Error).message;
        logger.warn({ event: 'jwks_retry', error: reason });
        await delay(wait, undefined, { signal: abort.signal });
      }
    }
    verifier = v;
    isReady = true;
    reason = '';
    logger.info({ event: 'auth_ready', jwks: jwksUrl.href });
  }

  const ready = boot().catch((err: unknown) => {
    if (abort.signal.aborted) {
      throw new ServerError('aborted', 'closed before signing keys were loaded', { cause: err });
    }
    reason = (err as Error).message;
    logger.error({ event: 'auth_failed', error: reason });
    throw err;
  });
  // The failure is already in the log and in /readyz; callers that do not await `ready` are fine.
  ready.catch(() => {});

  return {
    ready,
    get readiness(): Readiness {
      return { ready: isReady, reason: isReady ? undefined : reason };
    },
    async verify(token) {
      if (verifier === undefined) {
        const wait = options.readyWaitMs ?? 10_000;
        await Promise.race([ready.catch(() => {}), delay(wait, undefined, { ref: false })]);
      }
      if (verifier === undefined) throw new ServerError('keys_unavailable', `not ready: ${reason}`);
      return verifier.verify(token);
    },
    remembered(token) {
      return verifier?.remembered(token);
    },
    close() {
      abort.abort();
    },
  };
}
