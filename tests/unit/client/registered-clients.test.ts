// Clients registered dynamically (RFC 7591) are kept per issuer in the user's config directory, so
// a later command (a new SignInTokenSource, as a new process has) signs in with the same client
// instead of registering another one each time; a client registered for fewer scopes than a
// sign-in asks for is replaced; the file is 0600 and refused when others may read it.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isClientError } from '../../../mcp-client/src/errors.ts';
import type { LoginClient } from '../../../mcp-client/src/login/client-registration.ts';
import { RegisteredClientStore } from '../../../mcp-client/src/login/registered-clients.ts';
import { SignInTokenSource } from '../../../mcp-client/src/login/sign-in-token-source.ts';
import { TokenStore } from '../../../mcp-client/src/login/token-store.ts';
import { approveInBrowser, startFakeAs, startFakeResource } from './fake-authorization-server.ts';

describe('dynamically registered clients are kept per issuer', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'registered-clients-'));
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setUp(scopesSupported: string[], options: Parameters<typeof startFakeAs>[0] = {}) {
    const as = await startFakeAs(options);
    const resource = await startFakeResource((serverUrl) => ({
      resource: serverUrl,
      authorization_servers: [as.issuer],
      scopes_supported: scopesSupported,
    }));
    closers.push(as.close, resource.close);
    const home = mkdtempSync(path.join(dir, 'home-'));
    return { as, resource, registrations: new RegisteredClientStore(path.join(home, 'clients')), home };
  }

  /** A fresh token source, as a new command has: nothing in memory, the same directories. */
  function command(
    serverUrl: string,
    home: string,
    registrations: RegisteredClientStore,
    scope?: string,
    person: { show: typeof approveInBrowser; timeoutMs: number } = { show: approveInBrowser, timeoutMs: 10_000 },
  ) {
    const client: LoginClient = { kind: 'auto' };
    return new SignInTokenSource({
      config: { serverUrl, resource: undefined, issuer: undefined, insecureHosts: [], tokenRenewSkewSeconds: 30 },
      // Each command starts without a sign-in (logged out, or another server of the same issuer).
      store: new TokenStore(mkdtempSync(path.join(home, 'logins-'))),
      login: undefined,
      client,
      registrations,
      scope,
      ...person,
      awaitChallenge: true,
    });
  }

  it('registers once for every supported scope; the next command signs in with the same client', async () => {
    const { as, resource, registrations, home } = await setUp(['file.list', 'file.read']);
    await command(resource.serverUrl, home, registrations).getToken({
      forceRefresh: true,
      challenge: { scope: 'file.list' },
    });
    assert.equal(as.registrations.length, 1);
    assert.equal(as.registrations[0]?.scope, 'file.list file.read', 'registered for the step-up too');
    const file = registrations.pathOf(as.issuer);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(registrations.find(as.issuer)?.clientId, as.clientIds[0]);

    await command(resource.serverUrl, home, registrations).getToken({
      forceRefresh: true,
      challenge: { error: 'insufficient_scope', scope: 'file.read' },
    });
    assert.equal(as.registrations.length, 1, 'no second registration');
    assert.equal(as.authorizations[1]?.get('client_id'), as.clientIds[0]);
    assert.equal(registrations.find('http://other.example/realms/x'), undefined, 'kept for its issuer only');
  });

  it('registers again when asked for a scope the kept client was not registered for', async () => {
    const { as, resource, registrations, home } = await setUp(['file.list']);
    await command(resource.serverUrl, home, registrations).getToken({ forceRefresh: true, challenge: {} });
    await command(resource.serverUrl, home, registrations, 'file.list admin').getToken({
      forceRefresh: true,
      challenge: {},
    });
    assert.equal(as.registrations.length, 2);
    assert.equal(as.registrations[1]?.scope, 'file.list admin');
    assert.equal(registrations.find(as.issuer)?.clientId, as.clientIds[1], 'the wider one is kept');
  });

  it('refuses a kept client others may read', async () => {
    const { as, resource, registrations, home } = await setUp(['file.list']);
    await command(resource.serverUrl, home, registrations).getToken({ forceRefresh: true, challenge: {} });
    chmodSync(registrations.pathOf(as.issuer), 0o644);
    await assert.rejects(
      command(resource.serverUrl, home, registrations).getToken({ forceRefresh: true, challenge: {} }),
      (err) => isClientError(err, 'untrusted') && /chmod 600/.test(err.message),
    );
    assert.equal(as.registrations.length, 1);
  });

  it("registers again when the kept client's secret has expired (RFC 7591 client_secret_expires_at)", async () => {
    const { as, resource, registrations, home } = await setUp(['file.list'], {
      registered: { client_secret: 's3cret', client_secret_expires_at: 1 },
    });
    await command(resource.serverUrl, home, registrations).getToken({ forceRefresh: true, challenge: {} });
    assert.equal(registrations.find(as.issuer)?.secretExpiresAt, 1000);
    await command(resource.serverUrl, home, registrations).getToken({ forceRefresh: true, challenge: {} });
    assert.equal(as.registrations.length, 2);
  });

  it('forgets a kept client when a sign-in with it does not complete, and says so', async () => {
    const { as, resource, registrations, home } = await setUp(['file.list']);
    await command(resource.serverUrl, home, registrations).getToken({ forceRefresh: true, challenge: {} });
    // The person never gets through (the authorization server no longer knows the client, say).
    const stuck = command(resource.serverUrl, home, registrations, undefined, { show: () => {}, timeoutMs: 300 });
    await assert.rejects(
      stuck.getToken({ forceRefresh: true, challenge: {} }),
      (err) =>
        isClientError(err, 'timeout') &&
        err.message.includes(`the client ${as.clientIds[0]} registered at ${as.issuer} earlier is forgotten`),
    );
    assert.equal(registrations.find(as.issuer), undefined);
    await command(resource.serverUrl, home, registrations).getToken({ forceRefresh: true, challenge: {} });
    assert.equal(as.registrations.length, 2, 'the next sign-in registers a new client');
  });
});
