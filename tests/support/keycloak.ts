import { readFileSync } from 'node:fs';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { TEST_ADMIN, TEST_CLIENTS, TEST_REALM } from './keycloak-container.ts';

export { TEST_CLIENTS, TEST_REALM, TEST_RESOURCE } from './keycloak-container.ts';

/** What an integration test needs to know about the shared Keycloak. */
export interface KeycloakFixture {
  /** e.g. `http://localhost:32768` */
  readonly baseUrl: string;
  /** `${baseUrl}/realms/mcp`: the `iss` of every token */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly containerId: string;
  /** An admin API client logged in with the bootstrap service account, working on this fixture's realm. */
  admin(): Promise<KcAdminClient>;
  /**
   * A client-credentials token, fetched plainly (tests of the server; the product client uses
   * openid-client). `resource` (RFC 8707) binds its `aud`; omitted, `aud` is the client id mcp-server.
   */
  token(client?: keyof typeof TEST_CLIENTS, scope?: string, resource?: string): Promise<string>;
}

/** What the token endpoint answered to a client-credentials request (status and OAuth error included). */
export interface TokenAnswer {
  status: number;
  access_token?: string;
  error?: string;
}

/** A plain client-credentials request, for tests that need to see refusals (the product client uses openid-client). */
export async function requestToken(
  tokenEndpoint: string,
  clientId: string,
  clientSecret: string,
  scope: string,
  resource?: string,
): Promise<TokenAnswer> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      ...(scope === '' ? {} : { scope }),
      ...(resource === undefined ? {} : { resource }),
    }),
  });
  return { status: res.status, ...((await res.json()) as { access_token?: string; error?: string }) };
}

/** The Keycloak started by `global-setup.ts`; throws when the run has none (not an integration run). */
export function keycloak(): KeycloakFixture {
  const baseUrl = process.env.TEST_KEYCLOAK_URL;
  const containerId = process.env.TEST_KEYCLOAK_CONTAINER_ID;
  if (!baseUrl || !containerId) throw new Error('no test Keycloak: run integration tests through `npm test`');
  return fixtureFor(baseUrl, containerId);
}

export function fixtureFor(baseUrl: string, containerId: string, realm: string = TEST_REALM): KeycloakFixture {
  const issuer = `${baseUrl}/realms/${realm}`;
  const tokenEndpoint = `${issuer}/protocol/openid-connect/token`;
  return {
    baseUrl,
    issuer,
    tokenEndpoint,
    containerId,
    async admin() {
      const kc = new KcAdminClient({ baseUrl, realmName: 'master' });
      await kc.auth({ grantType: 'client_credentials', ...TEST_ADMIN });
      kc.setConfig({ realmName: realm });
      return kc;
    },
    async token(client = 'full', scope = 'file.read file.list', resource?: string) {
      const { clientId, clientSecret } = TEST_CLIENTS[client];
      const answer = await requestToken(tokenEndpoint, clientId, clientSecret, scope, resource);
      if (!answer.access_token) throw new Error(`token request failed: ${answer.status} ${answer.error ?? ''}`);
      return answer.access_token;
    },
  };
}

let realmCounter = 0;

/**
 * Creates a fresh realm from keycloak/realm-export.json (same clients, scopes and default secrets)
 * under a unique name, for tests that mutate realm state (rotate keys or secrets, unlink scopes,
 * change lifespans) without disturbing other test files that share the Keycloak. Returns a fixture
 * bound to the new realm and a `remove()` to delete it.
 */
export async function isolatedRealm(
  prefix: string,
  overrides: Record<string, unknown> = {},
): Promise<KeycloakFixture & { readonly realm: string; remove(): Promise<void> }> {
  const base = keycloak();
  const realm = `${prefix}-${process.pid}-${++realmCounter}`;
  const json = readFileSync(new URL('../../keycloak/realm-export.json', import.meta.url), 'utf8')
    // Keycloak substitutes ${VAR:default} only at --import-realm; here we apply the defaults.
    .replace(/\$\{[A-Z0-9_]+:([^}]*)\}/g, '$1');
  const admin = await base.admin();
  await admin.realms.create({ ...JSON.parse(json), ...overrides, realm, id: realm });
  const fixture = fixtureFor(base.baseUrl, base.containerId, realm);
  return {
    ...fixture,
    realm,
    async remove() {
      await (await base.admin()).realms.del({ realm });
    },
  };
}
