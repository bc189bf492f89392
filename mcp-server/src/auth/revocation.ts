import type { ServerConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { IntrospectionClient } from './introspection.ts';
import { RevocationWatch } from './revocation-watch.ts';

/**
 * Longest wait for one introspection answer, in ms. Not tied to the interval: a slow answer only
 * delays the next round, while a short timeout would turn a loaded Keycloak into failures.
 */
const INTROSPECTION_TIMEOUT_MS = 5000;

/** Told the result of every introspection request (metrics). */
export interface IntrospectionObserver {
  introspected(result: 'active' | 'inactive' | 'error'): void;
}

/**
 * The revocation watch of this configuration: introspection with the server's own client
 * (INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET_FILE) every REVOCATION_CHECK_INTERVAL_MS.
 * Undefined when no introspection client is configured: then a token stays valid until its `exp`,
 * which the server says once at start.
 */
export function createRevocationWatch(
  config: ServerConfig,
  logger: Logger,
  observer?: IntrospectionObserver,
): RevocationWatch | undefined {
  if (config.introspectionClientId === undefined || config.introspectionClientSecretFile === undefined) {
    logger.warn({
      event: 'revocation_unchecked',
      detail: 'INTROSPECTION_CLIENT_SECRET_FILE is not set: revoked tokens keep working until they expire',
    });
    return undefined;
  }
  const unchecked = config.oauthAudience.filter((a) => a !== config.introspectionClientId);
  if (unchecked.length > 0) {
    // Keycloak answers introspection only for a client named in the token's aud.
    logger.warn({
      event: 'revocation_unchecked',
      detail: `tokens whose aud names only ${unchecked.join(', ')} (not ${config.introspectionClientId}) are not checked for revocation`,
    });
  }
  const client = new IntrospectionClient({
    issuer: config.oauthIssuer,
    discoveryUrl: config.oauthDiscoveryUrl,
    clientId: config.introspectionClientId,
    secretFile: config.introspectionClientSecretFile,
    timeoutMs: INTROSPECTION_TIMEOUT_MS,
  });
  const watch = new RevocationWatch({
    introspect: observer === undefined ? (token) => client.introspect(token) : observed(client, observer),
    audience: config.introspectionClientId,
    intervalMs: config.revocationCheckIntervalMs,
    maxStalenessMs: config.introspectionMaxStalenessMs,
    // Every connection or session may hold its own token; HTTP-only tokens beyond it are forgotten first.
    maxTokens: config.maxConnections,
    logger,
  });
  watch.start();
  return watch;
}

/** `client.introspect`, telling `observer` each result. */
function observed(client: IntrospectionClient, observer: IntrospectionObserver) {
  return async (token: string): Promise<{ active: boolean }> => {
    try {
      const result = await client.introspect(token);
      observer.introspected(result.active ? 'active' : 'inactive');
      return result;
    } catch (err) {
      observer.introspected('error');
      throw err;
    }
  };
}
