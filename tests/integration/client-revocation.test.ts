// mcp-client revokes what it no longer needs (RFC 7009), against the real Keycloak: the token
// source revokes the tokens it obtained when the issuer's metadata advertises a revocation
// endpoint (Keycloak's does), the revoked token turns inactive at introspection and is not handed
// out again; with OAUTH_TOKEN_URL (no metadata) nothing is sent. And the client's answer to a
// revocation close (4403): one fresh token, then either service again or a clear stop.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClientCredentialsTokenSource,
  isClientError,
  ResilientClient,
  type SessionEvent,
} from '../../mcp-client/src/index.ts';
import { isolatedRealm, type KeycloakFixture, TEST_CLIENTS, TEST_RESOURCE } from '../support/keycloak.ts';
import { INTROSPECTION_CLIENT, startRevocationServer } from '../support/revocation.ts';
import { waitFor } from '../support/wait.ts';

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

/** RFC 7009 with the client's own credentials, as an admin holding them (or the client) would. */
async function revoke(kc: KeycloakFixture, token: string): Promise<void> {
  const { clientId, clientSecret } = TEST_CLIENTS.full;
  const res = await fetch(`${kc.issuer}/protocol/openid-connect/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token,
      token_type_hint: 'access_token',
      client_id: clientId,
      client_secret: clientSecret,
    }),
  });
  assert.equal(res.status, 200);
}

async function setEnabled(kc: KeycloakFixture, enabled: boolean): Promise<void> {
  const admin = await kc.admin();
  const [client] = await admin.clients.find({ clientId: TEST_CLIENTS.full.clientId });
  await admin.clients.update({ id: client?.id as string }, { ...client, enabled });
}

describe('mcp-client after a revocation close (4403), real server and Keycloak', { timeout: 120_000 }, () => {
  async function setup(t: { after(fn: () => unknown): void }) {
    const kc = await isolatedRealm('client-4403');
    t.after(() => kc.remove());
    const server = await startRevocationServer(kc.issuer, 500);
    t.after(() => server.close());
    const { clientId, clientSecret } = TEST_CLIENTS.full;
    const source = new ClientCredentialsTokenSource({
      issuer: kc.issuer,
      clientId,
      clientSecret,
      scope: 'file.read file.list',
      resource: TEST_RESOURCE,
    });
    const events: SessionEvent[] = [];
    const client = await ResilientClient.connect({
      url: server.wsUrl,
      tokenSource: source,
      reconnect: { baseDelayMs: 10, maxDelayMs: 50 },
      onEvent: (e) => events.push(e),
    });
    t.after(() => client.close());
    await client.callTool('list-files', { directory: '.' });
    return { kc, source, client, events };
  }

  it('token revoked at Keycloak: disconnected with 4403, one fresh token, calls work again', async (t) => {
    const { kc, source, client, events } = await setup(t);
    const requests = source.requestCount;
    await revoke(kc, await source.getToken());
    await waitFor(() => events.find((e) => e.type === 'reconnected'), 10_000, 'the reconnect');
    assert.ok(events.some((e) => e.type === 'disconnected' && e.code === 4403));
    assert.ok(events.some((e) => e.type === 'reconnecting' && e.freshToken));
    assert.equal(source.requestCount, requests + 1, 'exactly one new token');
    const result = await client.callTool('list-files', { directory: '.' });
    assert.notEqual(result.isError, true);
  });

  it('the new token withdrawn too (a second 4403 within a minute): the client stops, no loop', async (t) => {
    const { kc, source, client, events } = await setup(t);
    await revoke(kc, await source.getToken());
    await waitFor(() => events.find((e) => e.type === 'reconnected'), 10_000, 'the reconnect');
    const requests = source.requestCount;
    await revoke(kc, await source.getToken());
    await waitFor(
      () => (events.filter((e) => e.type === 'disconnected').length === 2 ? true : undefined),
      10_000,
      'the second 4403',
    );
    const err = await client.callTool('list-files', { directory: '.' }).then(
      () => assert.fail('a call succeeded after access was withdrawn twice'),
      (e: unknown) => e,
    );
    assert.ok(isClientError(err, 'upgrade_refused'), String(err));
    assert.match(err.message, /access was withdrawn.*withdrew the new token too/s);
    assert.equal(events.filter((e) => e.type === 'reconnecting').length, 1, 'no second reconnect');
    assert.equal(source.requestCount, requests, 'no further token request');
  });

  it('client disabled: Keycloak refuses the one fresh token, the client stops with auth_refused, no loop', async (t) => {
    const { kc, source, client, events } = await setup(t);
    const requests = source.requestCount;
    await setEnabled(kc, false);
    const failed = await waitFor(
      () => events.find((e) => e.type === 'reconnect_failed'),
      10_000,
      'the refused reconnect',
    );
    assert.ok(events.some((e) => e.type === 'disconnected' && e.code === 4403));
    const err = await client.callTool('list-files', { directory: '.' }).then(
      () => assert.fail('a call succeeded after access was withdrawn'),
      (e: unknown) => e,
    );
    assert.ok(isClientError(err, 'auth_refused'), String(err));
    assert.match(err.message, /access was withdrawn.*4403.*Keycloak refused the client credentials/s);
    assert.equal(err.closeCode, 4403);
    assert.ok(failed.type === 'reconnect_failed' && isClientError(failed.error, 'auth_refused'));
    assert.equal(events.filter((e) => e.type === 'reconnecting').length, 1, 'one attempt, no reconnect loop');
    assert.equal(source.requestCount, requests + 1, 'one token request');
  });

  it('close() revokes the token the client used (RFC 7009)', async (t) => {
    const { kc, source, client } = await setup(t);
    const token = await source.getToken();
    assert.equal(await active(kc.issuer, token), true);
    await client.close();
    assert.equal(await active(kc.issuer, token), false);
  });
});
