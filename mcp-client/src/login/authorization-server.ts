import * as oidc from 'openid-client';
import { findIssuerMismatch, mapDiscoveryError } from '../auth/discovery-errors.ts';
import { fetchProtectedResourceMetadata, protectedResourceMetadataUrls } from '../auth/resource-discovery.ts';
import { canonicalResource, httpOrigin, requireSecureTransport } from '../auth/trust.ts';
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
 * The authorization server a person signs in at: OAUTH_ISSUER when set (read without
 * metadata unless a challenge named it), else the first one the server's protected resource metadata (RFC 9728) lists. The metadata is read from
 * `resourceMetadataUrl` (a challenge's `resource_metadata`) when given and on the server's own
 * origin, else from the well-known URLs (path-inserted first, then the root); a document naming
 * another resource than the server is refused before anything is sent to any authorization
 * server (RFC 9728 §3.3, MCP: the `resource` must match the server URL). Unlike client
 * credentials, no secret travels: the person types the password on the authorization server's page.
 * @throws ClientError `token_endpoint`, `untrusted` or `connect_failed` when metadata cannot be read.
 */
export async function findLoginTarget(
  config: Pick<ClientConfig, 'serverUrl' | 'resource' | 'issuer' | 'insecureHosts'>,
  resourceMetadataUrl?: string | undefined,
): Promise<LoginTarget> {
  const resource = canonicalResource(config.resource ?? config.serverUrl);
  if (config.issuer !== undefined && resourceMetadataUrl === undefined) {
    return { issuer: config.issuer, resource, scopesSupported: undefined };
  }
  requireSecureTransport(resource, 'a metadata request', config.insecureHosts);
  // Each URL with the resources its document may name (RFC 9728 §3.3): the server's URL for a
  // challenge's URL and the path-inserted well-known one; for the root well-known one also the
  // origin, the identifier that URL is built from.
  const [inserted, root] = protectedResourceMetadataUrls(config.serverUrl).map(String);
  const candidates: [url: string, names: string[]][] = [[inserted as string, [resource]]];
  if (root !== undefined) candidates.push([root, [resource, canonicalResource(httpOrigin(config.serverUrl))]]);
  // A challenge's URL is the server's word on where its metadata is: first, if on its origin.
  if (resourceMetadataUrl !== undefined && httpOrigin(resourceMetadataUrl) === httpOrigin(config.serverUrl)) {
    candidates.unshift([resourceMetadataUrl, [resource]]);
  }
  let last: unknown;
  for (const [url, names] of candidates) {
    try {
      const meta = await fetchProtectedResourceMetadata(url);
      if (!names.includes(canonicalResource(meta.resource))) {
        throw new ClientError(
          'untrusted',
          `the resource metadata at ${url} describes ${meta.resource}, not ${names.join(' or ')} (RFC 9728 §3.3): ` +
            'if the server sits behind another name, set OAUTH_RESOURCE to its canonical URI',
        );
      }
      const issuer = config.issuer ?? (meta.authorization_servers?.[0] as string);
      // Sent as RFC 8707 `resource` exactly as the server publishes it.
      return { issuer, resource: meta.resource, scopesSupported: meta.scopes_supported };
    } catch (err) {
      if (err instanceof ClientError && err.code === 'untrusted') throw err;
      last = err;
    }
  }
  if (config.issuer !== undefined) return { issuer: config.issuer, resource, scopesSupported: undefined };
  const why = last instanceof Error ? last.message : String(last);
  throw new ClientError(
    'token_endpoint',
    `cannot find where to sign in for ${config.serverUrl} (${why}): set OAUTH_ISSUER`,
    { cause: last },
  );
}

/** How an issuer's metadata was found: OpenID Connect discovery, or RFC 8414. */
export type DiscoveryAlgorithm = 'oidc' | 'oauth2';

/** openid-client's request options for `issuer`: plain http only where the settings allow it. */
export function requestOptions(issuer: URL, algorithm: DiscoveryAlgorithm): oidc.DiscoveryRequestOptions {
  return {
    execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
    timeout: 10,
    algorithm,
  };
}

/**
 * Discovers `issuer` (OpenID Connect, then RFC 8414; openid-client checks that the metadata's
 * `issuer` is exactly the one asked for) for `clientId` authenticating with `auth` (default none:
 * a public client). PKCE and RFC 9207 `iss` checks are openid-client's.
 * @throws ClientError `untrusted` (plain http not allowed), `issuer_mismatch` or `token_endpoint`.
 */
export async function discoverIssuer(
  issuer: string,
  clientId: string,
  insecureHosts: readonly string[],
  auth: oidc.ClientAuth = oidc.None(),
): Promise<{ config: oidc.Configuration; algorithm: DiscoveryAlgorithm }> {
  const url = new URL(issuer);
  requireSecureTransport(url, 'a sign-in', insecureHosts);
  const discover = async (algorithm: DiscoveryAlgorithm) => ({
    config: await oidc.discovery(url, clientId, undefined, auth, requestOptions(url, algorithm)),
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

/**
 * {@link discoverIssuer} for a public client (no secret).
 * @throws ClientError `issuer_mismatch` or `token_endpoint`.
 */
export async function publicClientConfiguration(
  issuer: string,
  clientId: string,
  insecureHosts: readonly string[],
): Promise<oidc.Configuration> {
  return (await discoverIssuer(issuer, clientId, insecureHosts)).config;
}
