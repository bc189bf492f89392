// A person's sign-in as the MCP authorization spec runs it, against a local authorization server
// (tests/unit/client/fake-authorization-server.ts): the scope chosen from the challenge, then the
// resource metadata, else none; dynamic client registration (RFC 7591, application_type native)
// when no client is registered, its answer deciding how the client authenticates; a client ID
// metadata document where the server supports one; step-up with the union of scopes on 403 and
// no loop when the scope was already asked for; a bounded number of sign-ins; a resource metadata
// document for another resource refused before the authorization server hears anything; a server
// that moved to another authorization server gets a client of that server's own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isClientError } from '../../../mcp-client/src/errors.ts';
import type { LoginClient } from '../../../mcp-client/src/login/client-registration.ts';
import { selectScope, stepUpScope } from '../../../mcp-client/src/login/scope-selection.ts';
import { SignInTokenSource } from '../../../mcp-client/src/login/sign-in-token-source.ts';
import { TokenStore } from '../../../mcp-client/src/login/token-store.ts';
import {
  approveInBrowser,
  type FakeAs,
  type FakeResource,
  startFakeAs,
  startFakeResource,
} from './fake-authorization-server.ts';

describe('scope selection', () => {
  it('prefers the person, then the challenge, then scopes_supported, else no scope', () => {
    const all = { explicit: 'a', challenged: 'b', scopesSupported: ['c', 'd'] };
    assert.equal(selectScope(all), 'a');
    assert.equal(selectScope({ ...all, explicit: undefined }), 'b');
    assert.equal(selectScope({ ...all, explicit: ' ', challenged: undefined }), 'c d');
    assert.equal(selectScope({}), undefined);
    assert.equal(selectScope({ scopesSupported: [] }), undefined);
  });

  it('steps up to the union, and not at all when the challenge asks for nothing new', () => {
    assert.equal(stepUpScope('mcp:basic', 'mcp:write'), 'mcp:basic mcp:write');
    assert.equal(stepUpScope('a b', 'b c a'), 'a b c');
    assert.equal(stepUpScope('a b', 'b'), undefined);
    assert.equal(stepUpScope('a', undefined), undefined);
  });
});

describe('sign-in on demand', () => {
  let dir: string;
  const closers: (() => Promise<void>)[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sign-in-'));
  });
  after(async () => {
    for (const close of closers) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setUp(
    as: Parameters<typeof startFakeAs>[0] = {},
    prm: (issuer: string) => (serverUrl: string) => Record<string, unknown> = (issuer) => (serverUrl) => ({
      resource: serverUrl,
      authorization_servers: [issuer],
    }),
  ): Promise<{ as: FakeAs; resource: FakeResource; store: TokenStore }> {
    const fakeAs = await startFakeAs(as);
    const resource = await startFakeResource(prm(fakeAs.issuer));
    closers.push(fakeAs.close, resource.close);
    return { as: fakeAs, resource, store: new TokenStore(mkdtempSync(path.join(dir, 'store-'))) };
  }

  function source(serverUrl: string, store: TokenStore, client: LoginClient = { kind: 'auto' }, awaitChallenge = true) {
    return new SignInTokenSource({
      config: { serverUrl, resource: undefined, issuer: undefined, insecureHosts: [], tokenRenewSkewSeconds: 30 },
      store,
      login: undefined,
      client,
      scope: undefined,
      timeoutMs: 10_000,
      show: approveInBrowser,
      awaitChallenge,
    });
  }

  it('asks without a token first, then signs in with the challenge scope through a registered native client', async () => {
    const { as, resource, store } = await setUp();
    const tokens = source(resource.serverUrl, store);
    assert.equal(await tokens.getToken(), '', 'no token before the server challenges');
    assert.equal(as.authorizations.length + resource.fetches(), 0, 'nothing contacted before the challenge');
    const token = await tokens.getToken({ forceRefresh: true, challenge: { scope: 'mcp:basic' } });
    assert.equal(token, 'token-1');
    assert.equal(as.registrations.length, 1);
    const registered = as.registrations[0] as Record<string, unknown>;
    assert.equal(registered.application_type, 'native');
    assert.equal(registered.token_endpoint_auth_method, 'none');
    assert.equal(registered.scope, 'mcp:basic', 'RFC 7591 scope: what the client will ask for');
    assert.match(String((registered.redirect_uris as string[])[0]), /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(
      (registered.redirect_uris as string[])[1],
      'http://127.0.0.1/callback',
      'any port later (RFC 8252 §7.3)',
    );
    const auth = as.authorizations[0] as URLSearchParams;
    assert.equal(auth.get('client_id'), as.clientIds[0]);
    assert.equal(auth.get('scope'), 'mcp:basic');
    assert.equal(auth.get('resource'), resource.serverUrl);
    assert.equal(auth.get('code_challenge_method'), 'S256');
    assert.equal(as.tokens[0]?.form.get('resource'), resource.serverUrl);
    assert.equal(store.find(resource.serverUrl)[0]?.accessToken, 'token-1', 'the sign-in is saved');
    assert.equal(await tokens.getToken(), 'token-1', 'and used while fresh');
  });

  it('signs in at once where no challenge can come first (WebSocket), scoped by the metadata', async () => {
    const { as, resource, store } = await setUp({}, (issuer) => (serverUrl) => ({
      resource: serverUrl,
      authorization_servers: [issuer],
      scopes_supported: ['file.list'],
    }));
    assert.equal(await source(resource.serverUrl, store, { kind: 'auto' }, false).getToken(), 'token-1');
    assert.equal(as.authorizations[0]?.get('scope'), 'file.list');
  });

  it('asks for every scope the metadata lists without a challenge scope, and for none without either', async () => {
    const listed = await setUp({}, (issuer) => (serverUrl) => ({
      resource: serverUrl,
      authorization_servers: [issuer],
      scopes_supported: ['a', 'b'],
    }));
    await source(listed.resource.serverUrl, listed.store).getToken({ forceRefresh: true, challenge: {} });
    assert.equal(listed.as.authorizations[0]?.get('scope'), 'a b');
    const bare = await setUp();
    await source(bare.resource.serverUrl, bare.store).getToken({ forceRefresh: true, challenge: {} });
    assert.equal(bare.as.authorizations[0]?.has('scope'), false, 'no scope parameter at all');
  });

  it('authenticates at the token endpoint the way registration said (a secret, client_secret_basic)', async () => {
    const { as, resource, store } = await setUp({
      registered: { client_secret: 's3cret', token_endpoint_auth_method: 'client_secret_basic' },
    });
    await source(resource.serverUrl, store).getToken({ forceRefresh: true, challenge: {} });
    const sent = as.tokens[0];
    assert.match(sent?.authorization ?? '', /^Basic /);
    // RFC 6749 §2.3.1: both parts form-encoded before base64.
    const [id, secret] = Buffer.from(sent?.authorization?.slice(6) ?? '', 'base64')
      .toString()
      .split(':');
    assert.deepEqual([decodeURIComponent(id ?? ''), secret], [as.clientIds[0], 's3cret']);
    assert.equal(sent?.form.has('client_secret'), false);
  });

  it('uses the client ID metadata document where supported, and registers nothing', async () => {
    const { as, resource, store } = await setUp({ cimd: true });
    const doc = 'https://client.example/mcp-client.json';
    await source(resource.serverUrl, store, { kind: 'auto', metadataUrl: doc }).getToken({
      forceRefresh: true,
      challenge: {},
    });
    assert.equal(as.registrations.length, 0);
    assert.equal(as.authorizations[0]?.get('client_id'), doc);
  });

  it('refuses when the server offers neither registration nor CIMD, naming --client-id', async () => {
    const { as, resource, store } = await setUp({ registration: false });
    await assert.rejects(
      source(resource.serverUrl, store).getToken({ forceRefresh: true, challenge: {} }),
      (err) => isClientError(err, 'config') && /--client-id/.test(err.message),
    );
    assert.equal(as.authorizations.length, 0);
  });

  it('steps up with the union of scopes on 403, and gives up when the challenge asks for nothing new', async () => {
    const { as, resource, store } = await setUp();
    const tokens = source(resource.serverUrl, store);
    await tokens.getToken({ forceRefresh: true, challenge: { scope: 'mcp:basic' } });
    const stepped = await tokens.getToken({
      forceRefresh: true,
      challenge: { error: 'insufficient_scope', scope: 'mcp:write' },
    });
    assert.equal(stepped, 'token-2');
    assert.equal(as.authorizations[1]?.get('scope'), 'mcp:basic mcp:write');
    // The first client was registered for mcp:basic only (the metadata lists no scopes): a client
    // for the union is registered, as an authorization server may refuse scopes a client lacks.
    assert.equal(as.registrations.length, 2);
    assert.equal((as.registrations[1] as Record<string, unknown>).scope, 'mcp:basic mcp:write');
    await assert.rejects(
      tokens.getToken({ forceRefresh: true, challenge: { error: 'insufficient_scope', scope: 'mcp:write' } }),
      (err) => isClientError(err, 'insufficient_scope') && err.scope === 'mcp:write',
    );
    assert.equal(as.authorizations.length, 2, 'no third authorization for a scope already asked for');
  });

  it('keeps the stepped-up scopes when a refused token needs a new sign-in', async () => {
    const { as, resource, store } = await setUp();
    const tokens = source(resource.serverUrl, store);
    await tokens.getToken({ forceRefresh: true, challenge: { scope: 'a' } });
    await tokens.getToken({ forceRefresh: true, challenge: { error: 'insufficient_scope', scope: 'b' } });
    // Refused later (no refresh token here): the sign-in again asks for all it had asked for.
    await tokens.getToken({ forceRefresh: true, challenge: { scope: 'a' } });
    assert.deepEqual(
      as.authorizations.map((a) => a.get('scope')),
      ['a', 'a b', 'a b'],
    );
  });

  it('signs in once for requests refused together', async () => {
    const { as, resource, store } = await setUp();
    const tokens = source(resource.serverUrl, store);
    const got = await Promise.all([1, 2, 3].map(() => tokens.getToken({ forceRefresh: true, challenge: {} })));
    assert.deepEqual(got, ['token-1', 'token-1', 'token-1']);
    assert.equal(as.authorizations.length, 1);
  });

  it('runs at most three sign-ins however often the server refuses', async () => {
    const { as, resource, store } = await setUp();
    const tokens = source(resource.serverUrl, store);
    const outcomes: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(await tokens.getToken({ forceRefresh: true, challenge: { scope: 'x' } }).catch((e: unknown) => e));
    }
    assert.equal(as.authorizations.length, 3);
    assert.ok(
      outcomes.slice(3).every((e) => isClientError(e, 'auth_refused')),
      'then refuses, naming why',
    );
  });

  it('refuses metadata for another resource before the authorization server hears anything', async () => {
    const { as, resource, store } = await setUp({}, (issuer) => () => ({
      resource: 'https://evil.example/mcp',
      authorization_servers: [issuer],
    }));
    await assert.rejects(
      source(resource.serverUrl, store).getToken({ forceRefresh: true, challenge: {} }),
      (err) => isClientError(err, 'untrusted') && /RFC 9728/.test(err.message),
    );
    assert.equal(as.registrations.length + as.authorizations.length + as.tokens.length, 0);
  });

  it('signs in at the new authorization server when the server moved, with a client of its own', async () => {
    const first = await startFakeAs();
    const second = await startFakeAs();
    closers.push(first.close, second.close);
    let current = first.issuer;
    const resource = await startFakeResource((serverUrl) => ({
      resource: serverUrl,
      authorization_servers: [current],
    }));
    closers.push(resource.close);
    const store = new TokenStore(mkdtempSync(path.join(dir, 'store-')));
    const tokens = source(resource.serverUrl, store);
    await tokens.getToken({ forceRefresh: true, challenge: {} });
    current = second.issuer;
    await tokens.getToken({ forceRefresh: true, challenge: {} });
    assert.equal(second.registrations.length, 1, 'registered at the new server');
    assert.equal(second.authorizations[0]?.get('client_id'), second.clientIds[0]);
    assert.equal(second.tokens[0]?.form.get('client_id'), second.clientIds[0]);
    assert.ok(
      second.authorizations.every((a) => !first.clientIds.includes(a.get('client_id') ?? '')),
      'the old client never reaches the new server',
    );
    assert.deepEqual(
      store.find(resource.serverUrl).map((l) => l.issuer),
      [second.issuer],
      'the sign-in at the old server is forgotten',
    );
  });
});
