import { setTimeout as delay } from 'node:timers/promises';
import { ServerError } from '../errors.ts';

/** The fields of an OpenID Provider configuration this server uses. */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
}

/** Options of {@link discoverProvider}. */
export interface DiscoveryOptions {
  /** Expected `issuer`, compared exactly (no trailing-slash normalization). */
  issuer: string;
  /** Base URL to fetch from instead of the issuer (the container reaches Keycloak by another host). */
  discoveryUrl?: string | undefined;
  /** Attempts before giving up. Default 30. */
  attempts?: number;
  /** First retry delay in ms, doubled up to 5000. Default 250. */
  initialDelayMs?: number;
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
  /** Aborts the retry loop (server shutdown). */
  signal?: AbortSignal;
  /** Called before each retry, for logging. */
  onRetry?: (attempt: number, error: Error) => void;
}

/** `${base}/.well-known/openid-configuration`, keeping the base's path (e.g. `/realms/mcp`). */
export function discoveryDocumentUrl(base: string): URL {
  return new URL(`${base.replace(/\/+$/, '')}/.well-known/openid-configuration`);
}

/**
 * Rewrites the origin of `jwksUri` to the origin of `discoveryUrl` when one is set, so a server
 * that reaches Keycloak as `http://keycloak:8080` fetches keys there while `iss` stays public.
 */
export function rewriteJwksUri(jwksUri: string, issuer: string, discoveryUrl: string | undefined): URL {
  const jwks = new URL(jwksUri);
  if (discoveryUrl === undefined) return jwks;
  const from = new URL(issuer);
  const to = new URL(discoveryUrl);
  if (jwks.origin !== from.origin) return jwks;
  jwks.protocol = to.protocol;
  jwks.host = to.host;
  return jwks;
}

async function fetchOnce(url: URL, issuer: string, timeoutMs: number, signal?: AbortSignal): Promise<ProviderMetadata> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  if (!res.ok) throw new Error(`discovery answered HTTP ${res.status}`);
  const body = (await res.json()) as Partial<ProviderMetadata>;
  if (typeof body.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
  if (body.issuer !== issuer) {
    // Not retried: a mismatch is a configuration error, not a boot-time race.
    throw new ServerError(
      'discovery_failed',
      `discovery issuer "${String(body.issuer)}" differs from OAUTH_ISSUER "${issuer}"`,
    );
  }
  return { issuer: body.issuer, jwks_uri: body.jwks_uri };
}

/**
 * Fetches the OpenID Provider configuration, retrying with exponential backoff while the
 * authorization server boots.
 * @throws ServerError `discovery_failed` on an issuer mismatch or when attempts run out.
 */
export async function discoverProvider(options: DiscoveryOptions): Promise<ProviderMetadata> {
  const url = discoveryDocumentUrl(options.discoveryUrl ?? options.issuer);
  const attempts = options.attempts ?? 30;
  let wait = options.initialDelayMs ?? 250;
  let last: Error = new Error('no attempt made');
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await fetchOnce(url, options.issuer, options.timeoutMs ?? 5000, options.signal);
    } catch (err) {
      if (err instanceof ServerError || options.signal?.aborted) throw err;
      last = err as Error;
      if (attempt === attempts) break;
      options.onRetry?.(attempt, last);
      await delay(wait, undefined, { signal: options.signal });
      wait = Math.min(wait * 2, 5000);
    }
  }
  throw new ServerError('discovery_failed', `could not fetch ${url.href}: ${last.message}`, { cause: last });
}
