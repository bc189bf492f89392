// The sign-in pieces without Keycloak: the token store's modes and refusal of a readable file;
// the loopback receiver (only GET /callback, once; a timeout); and the authorization response
// checks before a code is redeemed: wrong state, wrong or missing RFC 9207 iss, an error answer.
// A local token endpoint counts redemptions, so "refused before redeeming" is observed. A stored
// sign-in: refreshed with its resource and saved rotated; forgotten when the refresh is refused.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { isClientError } from '../../../mcp-client/src/errors.ts';
import { LoginTokenSource } from '../../../mcp-client/src/login/login-token-source.ts';
import { listenForRedirect } from '../../../mcp-client/src/login/loopback-redirect.ts';
import { refusal, signInWithBrowser } from '../../../mcp-client/src/login/sign-in.ts';
import { type StoredLogin, TokenStore } from '../../../mcp-client/src/login/token-store.ts';

const LOGIN: StoredLogin = {
  issuer: 'https://id.example/realms/mcp',
  resource: 'https://mcp.example/mcp',
  clientId: 'mcp-cli',
  requestedScope: 'file.read file.list',
  scope: 'file.list',
  accessToken: 'at',
  refreshToken: 'rt',
  expiresAt: Date.now() + 60_000,
  username: 'alice',
};

describe('token store', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'store-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps one 0600 file per issuer + resource in a 0700 directory, and forgets it', () => {
    const store = new TokenStore(path.join(dir, 'logins'));
    store.save(LOGIN);
    store.save({ ...LOGIN, issuer: 'https://other.example/realms/mcp' });
    store.save({ ...LOGIN, accessToken: 'at2' });
    assert.equal(statSync(store.dir).mode & 0o777, 0o700);
    assert.equal(statSync(store.pathOf(LOGIN.issuer, LOGIN.resource)).mode & 0o777, 0o600);
    assert.equal(store.find(LOGIN.resource).length, 2);
    assert.equal(store.find(LOGIN.resource, LOGIN.issuer)[0]?.accessToken, 'at2');
    assert.deepEqual(store.find('https://elsewhere.example/mcp'), []);
    assert.equal(store.remove(LOGIN.issuer, LOGIN.resource), true);
    assert.equal(store.remove(LOGIN.issuer, LOGIN.resource), false);
  });

  it('refuses a sign-in file that others may read, naming the fix', () => {
    const store = new TokenStore(path.join(dir, 'open'));
    store.save(LOGIN);
    chmodSync(store.pathOf(LOGIN.issuer, LOGIN.resource), 0o644);
    assert.throws(
      () => store.find(LOGIN.resource),
      (err) => isClientError(err, 'untrusted') && /chmod 600/.test(err.message) && !err.message.includes('"at"'),
    );
  });
});

describe('loopback redirect', () => {
  it('answers only GET /callback, once, with a 127.0.0.1 redirect URI', async () => {
    const redirect = await listenForRedirect(5_000);
    assert.match(redirect.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const base = new URL(redirect.redirectUri);
    assert.equal((await fetch(new URL('/other?code=x', base))).status, 404);
    assert.equal((await fetch(base, { method: 'POST' })).status, 404);
    const first = await fetch(`${redirect.redirectUri}?code=c1&state=s`);
    assert.equal(first.status, 200);
    await first.text();
    const got = await redirect.wait();
    assert.equal(got.searchParams.get('code'), 'c1');
    await assert.rejects(fetch(`${redirect.redirectUri}?code=c2`), 'closed after the first redirect');
  });

  it('gives up after its timeout', async () => {
    const redirect = await listenForRedirect(50);
    await assert.rejects(redirect.wait(), (err) => isClientError(err, 'timeout'));
  });
});

describe('authorization response checks before the code is redeemed', () => {
  let as: Server;
  let issuer: string;
  let redemptions = 0;
  before(async () => {
    as = createServer((_req, res) => {
      redemptions += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 60, scope: 'file.list' }));
    });
    as.listen(0, '127.0.0.1');
    await once(as, 'listening');
    issuer = `http://127.0.0.1:${(as.address() as AddressInfo).port}/realms/t`;
  });
  after(() => as.close());

  function configuration(): oidc.Configuration {
    const config = new oidc.Configuration(
      {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        authorization_response_iss_parameter_supported: true,
      },
      'mcp-cli',
      undefined,
      oidc.None(),
    );
    oidc.allowInsecureRequests(config);
    return config;
  }

  /** Runs a sign-in whose "browser" comes back with what `answer` makes of the authorization URL. */
  function signIn(answer: (auth: URL) => Record<string, string>) {
    return signInWithBrowser({
      target: { issuer, resource: 'http://127.0.0.1:1/mcp', scopesSupported: undefined },
      client: async () => ({ config: configuration(), client: { clientId: 'mcp-cli' }, origin: 'pre-registered' }),
      scope: 'file.list',
      timeoutMs: 5_000,
      show: (prompt) => {
        assert.equal(prompt.kind, 'browser');
        if (prompt.kind !== 'browser') return;
        const auth = new URL(prompt.url);
        assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
        assert.equal(auth.searchParams.get('resource'), 'http://127.0.0.1:1/mcp');
        const back = new URL(auth.searchParams.get('redirect_uri') as string);
        for (const [k, v] of Object.entries(answer(auth))) back.searchParams.set(k, v);
        void fetch(back).then((r) => r.text());
      },
    });
  }
  const state = (auth: URL) => auth.searchParams.get('state') as string;

  it('redeems a code that comes back with its state and the issuer', async () => {
    const before = redemptions;
    const login = await signIn((auth) => ({ code: 'c', state: state(auth), iss: issuer }));
    assert.equal(login.accessToken, 'tok');
    assert.equal(redemptions, before + 1);
  });

  for (const [name, answer] of [
    ['another state', (_auth: URL) => ({ code: 'c', state: 'forged', iss: issuer })],
    [
      'another issuer (RFC 9207 mix-up)',
      (auth: URL) => ({ code: 'c', state: state(auth), iss: 'https://evil.example' }),
    ],
    ['no iss although the server promises it', (auth: URL) => ({ code: 'c', state: state(auth) })],
    ['an error answer', (auth: URL) => ({ error: 'access_denied', state: state(auth), iss: issuer })],
  ] as const) {
    it(`refuses ${name} without redeeming the code`, async () => {
      const before = redemptions;
      await assert.rejects(signIn(answer), (err) => isClientError(err, 'auth_refused'));
      assert.equal(redemptions, before);
    });
  }
});

describe('a stored sign-in', () => {
  let as: Server;
  let issuer: string;
  const forms: URLSearchParams[] = [];
  let answer: { status: number; body: Record<string, unknown> } = { status: 200, body: {} };
  before(async () => {
    as = createServer(async (req, res) => {
      if (req.url?.endsWith('/.well-known/openid-configuration')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, authorization_endpoint: `${issuer}/auth` }),
        );
        return;
      }
      let body = '';
      for await (const chunk of req) body += chunk;
      forms.push(new URLSearchParams(body));
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
    as.listen(0, '127.0.0.1');
    await once(as, 'listening');
    issuer = `http://127.0.0.1:${(as.address() as AddressInfo).port}/realms/t`;
  });
  after(() => as.close());

  function source(dir: string, login: StoredLogin): { store: TokenStore; tokens: LoginTokenSource } {
    const store = new TokenStore(path.join(dir, 'logins'));
    store.save(login);
    return { store, tokens: new LoginTokenSource({ store, login, insecureHosts: [] }) };
  }

  it('hands out the fresh access token, then refreshes with the same resource and stores the rotated tokens', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'signin-'));
    try {
      const { store, tokens } = source(dir, { ...LOGIN, issuer });
      assert.equal(await tokens.getToken(), 'at');
      assert.equal(forms.length, 0, 'no request while the token is fresh');
      answer = {
        status: 200,
        body: { access_token: 'at2', refresh_token: 'rt2', token_type: 'Bearer', expires_in: 300 },
      };
      assert.equal(await tokens.getToken({ forceRefresh: true }), 'at2');
      const sent = forms.at(-1);
      assert.equal(sent?.get('grant_type'), 'refresh_token');
      assert.equal(sent?.get('refresh_token'), 'rt');
      assert.equal(sent?.get('resource'), LOGIN.resource);
      assert.equal(sent?.get('client_id'), 'mcp-cli');
      const [saved] = store.find(LOGIN.resource, issuer);
      assert.equal(saved?.accessToken, 'at2');
      assert.equal(saved?.refreshToken, 'rt2');
      assert.equal(statSync(store.pathOf(issuer, LOGIN.resource)).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('forgets the sign-in when the refresh token is refused, and says to sign in again', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'signin-'));
    try {
      const { store, tokens } = source(dir, { ...LOGIN, issuer, expiresAt: Date.now() - 1 });
      answer = { status: 400, body: { error: 'invalid_grant', error_description: 'Token is not active' } };
      await assert.rejects(
        tokens.getToken(),
        (err) =>
          isClientError(err, 'auth_refused') && /mcp-client login/.test(err.message) && !err.message.includes('rt'),
      );
      assert.deepEqual(store.find(LOGIN.resource), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a sign-in failure', () => {
  it('names the HTTP status when the authorization server answered one it should not (e.g. a 500)', () => {
    const err = new Error('unexpected HTTP response status code', { cause: new Response('oops', { status: 500 }) });
    const refused = refusal(err, 'the sign-in');
    assert.equal(refused.code, 'auth_refused');
    assert.equal(refused.message, 'the sign-in failed: unexpected HTTP response status code (HTTP 500)');
  });
});
