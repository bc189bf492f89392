import KcAdminClient from '@keycloak/keycloak-admin-client';
import { TEST_ADMIN, TEST_CLIENTS, TEST_REALM } from './keycloak-container.ts';

export { TEST_CLIENTS, TEST_REALM } from './keycloak-container.ts';

/** What an integration test needs to know about the shared Keycloak. */
export interface KeycloakFixture {
  /** e.g. `http://localhost:32768` */
  readonly baseUrl: string;
  /** `${baseUrl}/realms/mcp`: the `iss` of every token */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly containerId: string;
  /** An admin API client logged in with the bootstrap service account, working on realm `mcp`. */
  admin(): Promise<KcAdminClient>;
  /** A client-credentials token, fetched plainly (tests of the server; the product client uses openid-client). */
  token(client?: keyof typeof TEST_CLIENTS, scope?: string): Promise<string>;
}

/** The Keycloak started by `global-setup.ts`; throws when the run has none (not an integration run). */
export function keycloak(): KeycloakFixture {
  const baseUrl = process.env.TEST_KEYCLOAK_URL;
  const containerId = process.env.TEST_KEYCLOAK_CONTAINER_ID;
  if (!baseUrl || !containerId) throw new Error('no test Keycloak: run integration tests through `npm test`');
  return fixtureFor(baseUrl, containerId);
}

export function fixtureFor(baseUrl: string, containerId: string): KeycloakFixture {
  const issuer = `${baseUrl}/realms/${TEST_REALM}`;
  const tokenEndpoint = `${issuer}/protocol/openid-connect/token`;
  return {
    baseUrl,
    issuer,
    tokenEndpoint,
    containerId,
    async admin() {
      const kc = new KcAdminClient({ baseUrl, realmName: 'master' });
      await kc.auth({ grantType: 'client_credentials', ...TEST_ADMIN });
      kc.setConfig({ realmName: TEST_REALM });
      return kc;
    },
    async token(client = 'full', scope = 'file.read file.list') {
      const { clientId, clientSecret } = TEST_CLIENTS[client];
      const res = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
          scope,
        }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string };
      if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error ?? ''}`);
      return body.access_token;
    },
  };
}
