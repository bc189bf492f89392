// Token sources: cache, renewal, shared in-flight requests, secret-file re-read, error mapping.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  ClientCredentialsTokenSource,
  ClientError,
  loadConfig,
  protectedResourceMetadataUrls,
  ResourceDiscoveryTokenSource,
  StaticTokenSource,
  tokenSourceFromConfig,
} from 'mcp-client';
import { TokenStore } from '../../../mcp-client/src/login/token-store.ts';
import { waitUntil } from '../../support/wait.ts';
import { FakeTokenEndpoint } from './fake-token-endpoint.ts';

describe('ClientCredentialsTokenSource', () => {
  let ep: FakeTokenEndpoint;
  before(async () => {
    ep = await FakeTokenEndpoint.start({ expiresIn: 300 });
  });
  after(() => ep.stop());

  it('sends one token request per lifetime and renews before exp minus the skew', async () => {
    let now = 1_000_000;
    const start = ep.requests;
    const ts = new ClientCredentialsTokenSource({
      tokenUrl: ep.tokenUrl,
      clientId: 'mcp-client',
      clientSecret: 's3cret',
      scope: 'file.read file.list',
      renewSkewSeconds: 30,
      now: () => now,
    });
    const a = await ts.getToken();
    assert.equal(decodeJwt(a).scope, 'file.read file.list');
    now += 200_000;
    assert.equal(await ts.getToken(), a, 'reused within the lifetime');
    now += 69_000; // 269 s: still before 300 - 30
    assert.equal(await ts.getToken(), a);
    assert.equal(ep.requests - start, 1);
    now += 2_000; // 271 s: inside the skew window
    const b = await ts.getToken();
    assert.notEqual(b, a);
    assert.equal(ep.requests - start, 2);
    assert.equal(ts.requestCount, 2);
  });

  it('lets concurrent callers share one in-flight request', async () => {
    const slow = await FakeTokenEndpoint.start({ delayMs: 100 });
    try {
      const ts = new ClientCredentialsTokenSource({
        tokenUrl: slow.tokenUrl,
        clientId: 'mcp-client',
        clientSecret: 's3cret',
      });
      const tokens = await Promise.all(Array.from({ length: 20 }, () => ts.getToken()));
      assert.equal(new Set(tokens).size, 1);
      assert.equal(slow.requests, 1);
      // forced refreshes issued together also share one request
      const forced = await Promise.all([ts.getToken({ forceRefresh: true }), ts.getToken({ forceRefresh: true })]);
      assert.equal(forced[0], forced[1]);
      assert.equal(slow.requests, 2);
    } finally {
      await slow.stop();
    }
  });

  it('uses discovery when given an issuer', async () => {
    const ts = new ClientCredentialsTokenSource({ issuer: ep.issuer, clientId: 'mcp-client', clientSecret: 's3cret' });
    assert.equal(decodeJwt(await ts.getToken()).azp, 'mcp-client');
    assert.equal(ts.endpoint, ep.tokenUrl);
  });

  it('maps invalid_client to auth_refused with advice and without the secret', async () => {
    const ts = new ClientCredentialsTokenSource({
      tokenUrl: ep.tokenUrl,
      clientId: 'mcp-client',
      clientSecret: 'wrong-one',
    });
    await assert.rejects(ts.getToken(), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.code, 'auth_refused');
      assert.equal(err.oauthError, 'invalid_client');
      assert.equal(err.status, 401);
      assert.match(
        err.message,
        /Keycloak refused the client credentials \(invalid_client\) for client mcp-client at http:\/\/127\.0\.0\.1:\d+\/realms\/test\/protocol\/openid-connect\/token: check OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET/,
      );
      assert.ok(!err.message.includes('wrong-one'));
      return true;
    });
  });

  it('re-reads the secret file once on invalid_client, then retries', async () => {
    const rotating = await FakeTokenEndpoint.start({ secrets: ['old-secret'] });
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'mcp-secret-')), 'secret');
      writeFileSync(file, 'old-secret\n');
      const ts = new ClientCredentialsTokenSource({
        tokenUrl: rotating.tokenUrl,
        clientId: 'mcp-client',
        clientSecretFile: file,
        secretFileWaitMs: 300,
      });
      await ts.getToken();
      rotating.opts.secrets = ['new-secret'];
      writeFileSync(file, 'new-secret\n');
      await ts.getToken({ forceRefresh: true });
      assert.deepEqual(rotating.presented, ['old-secret', 'old-secret', 'new-secret']);
      // An unchanged file is not retried: one request, then the mapped error naming the file.
      rotating.opts.secrets = ['newest'];
      await assert.rejects(ts.getToken({ forceRefresh: true }), (err: unknown) => {
        assert.ok(err instanceof ClientError && err.code === 'auth_refused');
        assert.match(err.message, /OAUTH_CLIENT_SECRET_FILE \(.*secret\)/);
        return true;
      });
      assert.equal(rotating.presented.length, 4);
    } finally {
      await rotating.stop();
    }
  });

  it('waits for the secret file to change when Keycloak already refuses the secret it holds', async () => {
    const rotating = await FakeTokenEndpoint.start({ secrets: ['new-secret'] });
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'mcp-secret-')), 'secret');
      writeFileSync(file, 'old-secret\n');
      const ts = new ClientCredentialsTokenSource({
        tokenUrl: rotating.tokenUrl,
        clientId: 'mcp-client',
        clientSecretFile: file,
        secretFileWaitMs: 5000,
      });
      // The admin regenerated the secret in Keycloak; the file is updated only after Keycloak has
      // refused the old secret (so the client must wait for the file, whatever the machine's load).
      const rotated = waitUntil(
        () => rotating.presented.includes('old-secret'),
        5000,
        5,
        'the old secret refused',
      ).then(() => writeFileSync(file, 'new-secret\n'));
      await ts.getToken();
      await rotated;
      assert.deepEqual(rotating.presented, ['old-secret', 'new-secret']);
    } finally {
      await rotating.stop();
    }
  });

  it('reports an issuer mismatch with both issuers', async () => {
    const liar = await FakeTokenEndpoint.start({ publishedIssuer: 'http://keycloak:8080/realms/test' });
    try {
      const ts = new ClientCredentialsTokenSource({
        issuer: liar.issuer,
        clientId: 'mcp-client',
        clientSecret: 's3cret',
      });
      await assert.rejects(ts.getToken(), (err: unknown) => {
        assert.ok(err instanceof ClientError && err.code === 'issuer_mismatch');
        assert.match(
          err.message,
          /^issuer mismatch: expected http:\/\/127\.0\.0\.1:\d+\/realms\/test, got http:\/\/keycloak:8080\/realms\/test/,
        );
        return true;
      });
    } finally {
      await liar.stop();
    }
  });

  it('sends a token request that timed out once more, and gives up after that one', async () => {
    // The first answer comes after the 1 s timeout: the repeat gets the token.
    const slowFirst = await FakeTokenEndpoint.start({ delayOf: (n) => (n === 1 ? 1500 : 0) });
    const stuck = await FakeTokenEndpoint.start({ delayMs: 1500 });
    try {
      const ok = new ClientCredentialsTokenSource({
        tokenUrl: slowFirst.tokenUrl,
        clientId: 'mcp-client',
        clientSecret: 's3cret',
        timeoutSeconds: 1,
      });
      assert.equal(decodeJwt(await ok.getToken()).n, 2);
      assert.equal(slowFirst.requests, 2);
      const failing = new ClientCredentialsTokenSource({
        tokenUrl: stuck.tokenUrl,
        clientId: 'mcp-client',
        clientSecret: 's3cret',
        timeoutSeconds: 1,
      });
      await assert.rejects(
        failing.getToken(),
        (err: unknown) =>
          err instanceof ClientError && err.code === 'token_endpoint' && /timed out|aborted/i.test(err.message),
      );
      assert.equal(stuck.requests, 2);
    } finally {
      await Promise.all([slowFirst.stop(), stuck.stop()]);
    }
  });

  it('does not repeat a request the token endpoint answered with an OAuth error', async () => {
    const before = ep.requests;
    const ts = new ClientCredentialsTokenSource({
      tokenUrl: ep.tokenUrl,
      clientId: 'mcp-client',
      clientSecret: 'wrong',
    });
    await assert.rejects(ts.getToken(), (err: unknown) => err instanceof ClientError && err.code === 'auth_refused');
    assert.equal(ep.requests - before, 1);
  });

  it('maps an unreachable token endpoint to token_endpoint', async () => {
    const free = await FakeTokenEndpoint.start();
    const url = free.tokenUrl;
    await free.stop();
    const ts = new ClientCredentialsTokenSource({ tokenUrl: url, clientId: 'c', clientSecret: 's' });
    await assert.rejects(
      ts.getToken(),
      (err: unknown) => err instanceof ClientError && err.code === 'token_endpoint' && /ECONNREFUSED/.test(err.message),
    );
  });
});

describe('ResourceDiscoveryTokenSource', () => {
  it('derives the well-known metadata URLs from the server URL', () => {
    assert.deepEqual(protectedResourceMetadataUrls('ws://h:3000/mcp').map(String), [
      'http://h:3000/.well-known/oauth-protected-resource/mcp',
      'http://h:3000/.well-known/oauth-protected-resource',
    ]);
    assert.deepEqual(protectedResourceMetadataUrls('wss://h/').map(String), [
      'https://h/.well-known/oauth-protected-resource',
    ]);
  });

  it('uses the issuer the metadata lists when it is a trusted one, sending resource', async () => {
    const ep = await FakeTokenEndpoint.start();
    try {
      ep.documents.set('/.well-known/oauth-protected-resource/mcp', {
        resource: `${ep.base}/mcp`,
        authorization_servers: [ep.issuer],
        scopes_supported: ['file.read', 'file.list'],
      });
      const ts = new ResourceDiscoveryTokenSource({
        serverUrl: `${ep.base.replace('http:', 'ws:')}/mcp`,
        clientId: 'mcp-client',
        clientSecret: 's3cret',
        trustedIssuers: ['http://other.example/realms/x', ep.issuer],
      });
      assert.equal(decodeJwt(await ts.getToken()).azp, 'mcp-client');
      assert.deepEqual(ts.metadata?.authorization_servers, [ep.issuer]);
      assert.equal(ep.forms[0]?.get('resource'), `${ep.base}/mcp`);
    } finally {
      await ep.stop();
    }
  });
});

describe('tokenSourceFromConfig', () => {
  const base = { OAUTH_CLIENT_ID: 'mcp-client', OAUTH_CLIENT_SECRET: 'x' };
  it('picks static, explicit, discovery and resource discovery in that order', () => {
    assert.ok(tokenSourceFromConfig(loadConfig({ ...base, OAUTH_ACCESS_TOKEN: 't' })) instanceof StaticTokenSource);
    const explicit = tokenSourceFromConfig(
      loadConfig({ ...base, OAUTH_TOKEN_URL: 'http://k/t', OAUTH_ISSUER: 'http://k' }),
    );
    assert.ok(explicit instanceof ClientCredentialsTokenSource);
    assert.equal((explicit as ClientCredentialsTokenSource).endpoint, 'http://k/t');
    assert.ok(
      tokenSourceFromConfig(loadConfig({ ...base, OAUTH_ISSUER: 'http://k' })) instanceof ClientCredentialsTokenSource,
    );
    assert.ok(tokenSourceFromConfig(loadConfig(base)) instanceof ResourceDiscoveryTokenSource);
  });

  it('refuses contradictory or missing settings with code config, never echoing secrets', () => {
    // No credentials at all (and no stored sign-in in an empty store): refused when a source is built.
    const empty = new TokenStore(mkdtempSync(join(tmpdir(), 'no-logins-')));
    for (const env of [{}, { OAUTH_CLIENT_ID: 'c' }]) {
      assert.throws(
        () => tokenSourceFromConfig(loadConfig(env), empty),
        (err: unknown) => err instanceof ClientError && err.code === 'config' && /login/.test(err.message),
        JSON.stringify(env),
      );
    }
    const bad = [
      { ...base, OAUTH_CLIENT_SECRET_FILE: '/run/secrets/x' },
      { ...base, SERVER_URL: 'ftp://h/mcp' },
      { ...base, RECONNECT_MAX_ATTEMPTS: '-1' },
      { ...base, OAUTH_ISSUER: 'not a url' },
    ];
    for (const env of bad) {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ClientError && err.code === 'config' && !err.message.includes('"x"'),
        JSON.stringify(env),
      );
    }
  });

  it('lets overrides win over the environment', () => {
    const c = loadConfig({ ...base, SERVER_URL: 'ws://a/mcp', OAUTH_SCOPE: 'file.list' }, { serverUrl: 'ws://b/mcp' });
    assert.equal(c.serverUrl, 'ws://b/mcp');
    assert.equal(c.scope, 'file.list');
    assert.equal(loadConfig(base).scope, 'file.read file.list');
    assert.equal(loadConfig(base).serverUrl, 'ws://localhost:3000/mcp');
  });
});
