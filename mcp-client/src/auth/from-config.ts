import type { ClientConfig } from '../config.ts';
import { ClientError } from '../errors.ts';
import { LoginTokenSource } from '../login/login-token-source.ts';
import { type StoredLogin, TokenStore } from '../login/token-store.ts';
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
 * Without a secret or a token, a person's sign-in (`mcp-client login`) for this resource (and
 * OAUTH_ISSUER, when set) is used: explicit settings win over state on disk.
 * @throws ClientError `config` when there are no credentials at all; `untrusted` when SERVER_URL is
 *   plain ws/http to a host neither loopback nor in INSECURE_HTTP_HOSTS, or the stored sign-in is
 *   readable by others.
 */
export function tokenSourceFromConfig(config: ClientConfig, store: TokenStore = new TokenStore()): TokenSource {
  requireSecureTransport(config.serverUrl, 'the access token', config.insecureHosts);
  if (config.accessToken !== undefined) return new StaticTokenSource(config.accessToken, config.clientId);
  if (config.clientSecret === undefined && config.clientSecretFile === undefined) {
    const login = storedLoginFor(config, store);
    if (login !== undefined) {
      return new LoginTokenSource({
        store,
        login,
        insecureHosts: config.insecureHosts,
        renewSkewSeconds: config.tokenRenewSkewSeconds,
      });
    }
    if (config.clientId === undefined) {
      throw new ClientError(
        'config',
        'no credentials: set OAUTH_CLIENT_ID (with OAUTH_CLIENT_SECRET or OAUTH_CLIENT_SECRET_FILE), or ' +
          'OAUTH_ACCESS_TOKEN, or sign in as a person with mcp-client login',
      );
    }
    throw new ClientError(
      'config',
      `no client secret for ${config.clientId}: set OAUTH_CLIENT_SECRET or OAUTH_CLIENT_SECRET_FILE ` +
        '(or sign in as a person with mcp-client login)',
    );
  }
  if (config.clientId === undefined) throw new ClientError('config', 'OAUTH_CLIENT_ID is not set');
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

/**
 * The stored sign-in for SERVER_URL's resource (and OAUTH_ISSUER, when set).
 * @throws ClientError `config` when several issuers hold one and OAUTH_ISSUER does not pick one.
 */
export function storedLoginFor(config: ClientConfig, store: TokenStore): StoredLogin | undefined {
  const resource = canonicalResource(config.resource ?? config.serverUrl);
  const found = store.find(resource, config.issuer);
  if (found.length > 1) {
    throw new ClientError(
      'config',
      `you are signed in for ${resource} at several issuers (${found.map((l) => l.issuer).join(', ')}): ` +
        'set OAUTH_ISSUER to the one to use',
    );
  }
  return found[0];
}
