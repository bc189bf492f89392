import type { ClientConfig } from '../config.ts';
import { ClientError } from '../errors.ts';
import { ClientCredentialsTokenSource } from './client-credentials.ts';
import { ResourceDiscoveryTokenSource } from './resource-discovery.ts';
import { StaticTokenSource } from './static-token.ts';
import type { TokenSource } from './token-source.ts';
import { canonicalResource, requireSecureTransport } from './trust.ts';

/**
 * Picks the token source the settings ask for, first match wins:
 * `OAUTH_ACCESS_TOKEN` -> static; `OAUTH_TOKEN_URL` -> client credentials at that endpoint;
 * `OAUTH_ISSUER` -> client credentials after discovery; otherwise the server's protected resource
 * metadata is read only to say which issuer to configure (the secret never goes to an issuer the
 * server chose). Every client-credentials request carries `resource` = OAUTH_RESOURCE or SERVER_URL.
 * @throws ClientError `config` when client credentials are needed but incomplete; `untrusted` when
 *   SERVER_URL is plain ws/http to a host neither loopback nor in INSECURE_HTTP_HOSTS.
 */
export function tokenSourceFromConfig(config: ClientConfig): TokenSource {
  requireSecureTransport(config.serverUrl, 'the access token', config.insecureHosts);
  if (config.accessToken !== undefined) return new StaticTokenSource(config.accessToken, config.clientId);
  if (config.clientId === undefined) throw new ClientError('config', 'OAUTH_CLIENT_ID is not set');
  if (config.clientSecret === undefined && config.clientSecretFile === undefined) {
    throw new ClientError('config', 'set OAUTH_CLIENT_SECRET or OAUTH_CLIENT_SECRET_FILE');
  }
  const common = {
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    clientSecretFile: config.clientSecretFile,
    scope: config.scope,
    renewSkewSeconds: config.tokenRenewSkewSeconds,
    resource: canonicalResource(config.resource ?? config.serverUrl),
    insecureHosts: config.insecureHosts,
  };
  if (config.tokenUrl !== undefined) {
    return new ClientCredentialsTokenSource({ ...common, tokenUrl: config.tokenUrl, issuer: undefined });
  }
  if (config.issuer !== undefined) return new ClientCredentialsTokenSource({ ...common, issuer: config.issuer });
  return new ResourceDiscoveryTokenSource({ ...common, serverUrl: config.serverUrl });
}
