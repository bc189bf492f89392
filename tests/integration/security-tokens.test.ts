// Keycloak-specific adversarial tokens (the rest are in tests/unit/security/tokens.test.ts): a token
// of another realm of the same Keycloak, and an ID token / refresh token instead of an access token.
// Each is refused with 401 and a valid connection still works afterwards.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, loadConfig, type ServerHandle, startServer } from '../../mcp-server/src/index.ts';
import { isolatedRealm, keycloak } from '../support/keycloak.ts';
import { rawRequest, upgradeLines } from '../unit/security/raw-http.ts';

const DATA = path.resolve(import.meta.dirname, '../../data');

describe('adversarial Keycloak tokens', () => {
  let realm: Awaited<ReturnType<typeof isolatedRealm>>;
  let server: ServerHandle;
  let valid: string;
  let passwordGrant: { id_token: string; refresh_token: string; access_token: string };

  before(async () => {
    realm = await isolatedRealm('sec-tokens');
    const admin = await realm.admin();
    await admin.clients.create({
      clientId: 'sec-password',
      publicClient: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
    });
    // Not a demo user of the realm (alice and bob exist there): a user of its own.
    await admin.users.create({
      username: 'mallory',
      enabled: true,
      email: 'mallory@example.test',
      emailVerified: true,
      firstName: 'Mallory',
      lastName: 'Test',
      credentials: [{ type: 'password', value: 'mallory-password', temporary: false }],
    });
    const res = await fetch(realm.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'sec-password',
        username: 'mallory',
        password: 'mallory-password',
        scope: 'openid',
      }),
    });
    passwordGrant = (await res.json()) as typeof passwordGrant;
    assert.ok(passwordGrant.id_token && passwordGrant.refresh_token, `password grant failed: ${res.status}`);
    // Tokens requested without resource: aud is the client id mcp-server (compatibility audience).
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TARGET_DIR: DATA,
      OAUTH_ISSUER: realm.issuer,
      OAUTH_AUDIENCE: 'mcp-server',
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
    await server.ready;
    valid = await realm.token();
  });
  after(async () => {
    await server?.close();
    await realm?.remove();
  });

  async function status(token: string): Promise<number> {
    return (await rawRequest(server.port, upgradeLines(server.port, [`Authorization: Bearer ${token}`]))).status;
  }
  async function refusedThenServing(token: string): Promise<void> {
    assert.equal(await status(token), 401);
    assert.equal(await status(valid), 101);
  }

  it('accepts a client-credentials access token of the configured realm (control)', async () => {
    assert.equal(await status(valid), 101);
  });
  it('refuses an access token of another realm of the same Keycloak', async () => {
    await refusedThenServing(await keycloak().token());
  });
  it('refuses an ID token of the configured realm', async () => {
    await refusedThenServing(passwordGrant.id_token);
  });
  it('refuses a refresh token of the configured realm', async () => {
    await refusedThenServing(passwordGrant.refresh_token);
  });
  it('refuses a user access token lacking this audience', async () => {
    const claims = JSON.parse(Buffer.from(passwordGrant.access_token.split('.')[1]!, 'base64url').toString());
    const aud = ([] as string[]).concat(claims.aud ?? []);
    if (aud.includes('mcp-server')) return; // the realm's default scope adds the audience: nothing to prove here
    await refusedThenServing(passwordGrant.access_token);
  });
});
