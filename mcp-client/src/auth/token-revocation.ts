import type * as oidc from 'openid-client';

/**
 * The issuer's RFC 7009 endpoint, when its metadata names one on the token endpoint's origin: the
 * secret goes nowhere else (metadata may confirm where the trusted issuer is, never send the
 * secret to another host). Undefined with OAUTH_TOKEN_URL (no metadata).
 */
export function revocationEndpointOf(server: oidc.ServerMetadata): string | undefined {
  const endpoint = server.revocation_endpoint;
  if (typeof endpoint !== 'string' || typeof server.token_endpoint !== 'string') return undefined;
  try {
    return new URL(endpoint).origin === new URL(server.token_endpoint).origin ? endpoint : undefined;
  } catch {
    return undefined;
  }
}
