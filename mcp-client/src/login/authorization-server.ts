import * as oidc from 'openid-client';
import { findIssuerMismatch, mapDiscoveryError } from '../auth/discovery-errors.ts';
import { fetchProtectedResourceMetadata, protectedResourceMetadataUrls } from '../auth/resource-discovery.ts';
import { canonicalResource, requireSecureTransport } from '../auth/trust.ts';
import type { ClientConfig } from '../config.ts';
import { ClientError } from '../errors.ts';

/** Where a person signs in for one MCP server: the issuer, the resource and a public client. */
export interface LoginTarget {
  readonly issuer: string;
  /** The MCP server's canonical URI, sent as RFC 8707 `resource` on every request. */
  readonly resource: string;
  /** Scopes the server's metadata says it understands, when it says. */
  readonly scopesSupported: readonly string[] | undefined;
}

/**
 * The authorization server a person signs in at: OAUTH_ISSUER when set, else the first one the
 * server's protected resource metadata (RFC 9728, fetched from the server's own origin and naming
 * the same resource) lists. Unlike client credentials, no secret travels: the person sees the
 * authorization server's page and types the password there, which is the MCP authorization flow.
 * @throws ClientError `token_endpoint`, `untrusted` or `connect_failed` when metadata cannot be read.
 */
export async function findLoginTarget(config: ClientConfig): Promise<LoginTarget> {
  const resource = canonicalResource(config.resource ?? config.serverUrl);
  if (config.issuer !== undefined) return { issuer: config.issuer, resource, scopesSupported: undefined };
  requireSecureTransport(resource, 'a metadata request', config.insecureHosts);
  let last: unknown;
  for (const url of protectedResourceMetadataUrls(config.serverUrl)) {
    try {
      const meta = await fetchProtectedResourceMetadata(url);
      if (canonicalResource(meta.resource) !== resource) {
        throw new ClientError(
          'untrusted',
          `the resource metadata at ${url} describes ${meta.resource}, not ${resource} (RFC 9728 §3.3): ` +
            'if the server sits behind another name, set OAUTH_RESOURCE to its canonical URI',
        );
      }
      const issuer = meta.authorization_servers?.[0] as string;
      return { issuer, resource, scopesSupported: meta.scopes_supported };
    } catch (err) {
      if (err instanceof ClientError && err.code === 'untrusted') throw err;
      last = err;
    }
  }
  const why = last instanceof Error ? last.message : String(last);
  throw new ClientError(
    'token_endpoint',
    `cannot find where to sign in for ${config.serverUrl} (${why}): set OAUTH_ISSUER`,
    { cause: last },
  );
}

/**
 * Discovers `issuer` (OpenID Connect, then RFC 8414) for a public client: no secret, PKCE and
 * RFC 9207 `iss` checks are openid-client's. Plain http is allowed only where the settings allow it.
 * @throws ClientError `issuer_mismatch` or `token_endpoint`.
 */
export async function publicClientConfiguration(
  issuer: string,
  clientId: string,
  insecureHosts: readonly string[],
): Promise<oidc.Configuration> {
  const url = new URL(issuer);
  requireSecureTransport(url, 'a sign-in', insecureHosts);
  const discover = (algorithm: 'oidc' | 'oauth2') =>
    oidc.discovery(url, clientId, undefined, oidc.None(), {
      execute: url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
      algorithm,
    });
  try {
    return await discover('oidc').catch(async (err: unknown) => {
      if (findIssuerMismatch(err) !== undefined) throw err;
      return discover('oauth2').catch(() => {
        throw err;
      });
    });
  } catch (err) {
    throw mapDiscoveryError(err, url);
  }
}
