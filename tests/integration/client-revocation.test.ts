// mcp-client revokes what it no longer needs (RFC 7009), against the real Keycloak: the token
// source revokes the tokens it obtained when the issuer's metadata advertises a revocation
// endpoint (Keycloak's does), the revoked token turns inactive at introspection and is not handed
// out again; with OAUTH_TOKEN_URL (no metadata) nothing is sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientCredentialsTokenSource } from '../../mcp-client/src/index.ts';
import { isolatedRealm, TEST_CLIENTS, TEST_RESOURCE } from '../support/keycloak.ts';
import { INTROSPECTION_CLIENT } from '../support/revocation.ts';

async function active(issuer: string, token: string): Promise<boolean> {
  const { clientId, clientSecret } = INTROSPECTION_CLIENT;
  const res = await fetch(`${issuer}/protocol/openid-connect/token/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { active: boolean }).active;
}

describe('mcp-client token revocation (RFC 7009, real Keycloak)', { timeout: 120_000 }, () => {
  it('revoke() revokes the tokens the source obtained; the next getToken fetches a new one', async (t) => {
    const kc = await isolatedRealm('client-revoke');
    t.after(() => kc.remove());
    const { clientId, clientSecret } = TEST_CLIENTS.full;
    const source = new ClientCredentialsTokenSource({
      issuer: kc.issuer,
      clientId,
      clientSecret,
      scope: 'file.read file.list',
      resource: TEST_RESOURCE,
    });
    const first = await source.getToken();
    const second = await source.getToken({ forceRefresh: true });
    assert.notEqual(first, second);
    assert.ok((await active(kc.issuer, first)) && (await active(kc.issuer, second)));
    assert.equal(await source.revoke(), 2, 'both unexpired tokens revoked');
    assert.equal(await active(kc.issuer, first), false);
    assert.equal(await active(kc.issuer, second), false);
    const requests = source.requestCount;
    const third = await source.getToken();
    assert.notEqual(third, second, 'a revoked token is not handed out again');
    assert.equal(source.requestCount, requests + 1);
    assert.equal(await active(kc.issuer, third), true);
    assert.equal(await source.revoke(), 1);
    assert.equal(await source.revoke(), 0, 'nothing left to revoke');
  });

  it('with OAUTH_TOKEN_URL there is no metadata, so no revocation endpoint: nothing is revoked', async (t) => {
    const kc = await isolatedRealm('client-revoke-url');
    t.after(() => kc.remove());
    const { clientId, clientSecret } = TEST_CLIENTS.full;
    const source = new ClientCredentialsTokenSource({
      tokenUrl: kc.tokenEndpoint,
      clientId,
      clientSecret,
      scope: 'file.list',
      resource: TEST_RESOURCE,
    });
    const token = await source.getToken();
    assert.equal(await source.revoke(), 0);
    assert.equal(await active(kc.issuer, token), true, 'the token stays active');
  });
});
