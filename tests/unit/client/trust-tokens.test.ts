// Resource-bound tokens on the client side: RFC 8707 `resource` on every token request, a cache
// keyed by issuer + resource + scope, and the pure trust rules (canonical URI, loopback, opt-in).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientCredentialsTokenSource, loadConfig, TokenCache, tokenSourceFromConfig } from 'mcp-client';
import {
  canonicalResource,
  isLoopbackHost,
  parseInsecureHosts,
  requireSecureTransport,
} from '../../../mcp-client/src/auth/trust.ts';
import { FakeTokenEndpoint } from './fake-token-endpoint.ts';

describe('canonical resource URI', () => {
  it('reads ws as http, drops fragment, default port and a trailing slash, lower-cases the host', () => {
    assert.equal(canonicalResource('ws://LOCALHOST:3000/mcp/'), 'http://localhost:3000/mcp');
    assert.equal(canonicalResource('wss://Mcp.Example.com:443/mcp#x'), 'https://mcp.example.com/mcp');
    assert.equal(canonicalResource('http://h:80/'), 'http://h/');
    assert.equal(canonicalResource('https://h/a/b'), 'https://h/a/b');
  });
});

describe('transport rule', () => {
  it('counts localhost, 127/8 and ::1 as loopback, nothing else', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.9.9.9', '[::1]', '::1'])
      assert.ok(isLoopbackHost(h), h);
    for (const h of ['keycloak', '10.0.0.1', '128.0.0.1', 'localhost.example.com', '127.0.0.1.nip.io']) {
      assert.ok(!isLoopbackHost(h), h);
    }
  });

  it('refuses plain http/ws off loopback unless the host is named, accepts https/wss anywhere', () => {
    assert.doesNotThrow(() => requireSecureTransport('http://127.0.0.1:1/x', 'x', []));
    assert.doesNotThrow(() => requireSecureTransport('https://kc.example.com/t', 'x', []));
    assert.doesNotThrow(() => requireSecureTransport('wss://mcp.example.com/mcp', 'x', []));
    assert.throws(
      () => requireSecureTransport('http://keycloak:8080/t', 'the client secret', []),
      (err: Error) => {
        assert.equal((err as Error & { code: string }).code, 'untrusted');
        assert.match(err.message, /INSECURE_HTTP_HOSTS=keycloak/);
        return true;
      },
    );
    assert.throws(() => requireSecureTransport('ws://mcp:3000/mcp', 'x', ['keycloak']), /INSECURE_HTTP_HOSTS=mcp/);
    assert.doesNotThrow(() => requireSecureTransport('http://keycloak:8080/t', 'x', ['keycloak']));
    assert.doesNotThrow(() => requireSecureTransport('http://keycloak:8080/t', 'x', ['keycloak:8080']));
    assert.throws(() => requireSecureTransport('http://keycloak:9999/t', 'x', ['keycloak:8080']), /untrusted|plain/);
    assert.deepEqual(parseInsecureHosts(' Keycloak, mcp:3000 ,,'), ['keycloak', 'mcp:3000']);
  });
});

describe('TokenCache', () => {
  it('keys by issuer, resource and scope (scope order ignored) and drops the oldest beyond its bound', () => {
    const cache = new TokenCache(2);
    const k = { issuer: 'i', resource: 'r', scope: 'a b' };
    cache.set(k, { token: 't1', renewAt: 100 });
    assert.equal(cache.get({ ...k, scope: 'b a' }, 0), 't1');
    assert.equal(cache.get({ ...k, resource: 'r2' }, 0), undefined);
    assert.equal(cache.get({ ...k, issuer: 'i2' }, 0), undefined);
    assert.equal(cache.get({ ...k, scope: 'a' }, 0), undefined);
    assert.equal(cache.get(k, 100), undefined, 'not past renewAt');
    cache.set({ ...k, resource: 'r2' }, { token: 't2', renewAt: 100 });
    cache.set({ ...k, resource: 'r3' }, { token: 't3', renewAt: 100 });
    assert.equal(cache.size, 2);
    assert.equal(cache.get(k, 0), undefined, 'the oldest was dropped');
    assert.throws(() => new TokenCache(0), TypeError);
  });
});

describe('RFC 8707 resource on token requests', () => {
  let ep: FakeTokenEndpoint;
  before(async () => {
    ep = await FakeTokenEndpoint.start();
  });
  after(() => ep.stop());

  it('sends resource on every request; a shared cache never hands one server the token of another', async () => {
    const cache = new TokenCache();
    const make = (resource: string) =>
      new ClientCredentialsTokenSource({
        tokenUrl: ep.tokenUrl,
        clientId: 'mcp-client',
        clientSecret: 's3cret',
        scope: 'file.list',
        resource,
        cache,
      });
    const a = make('http://localhost:3000/mcp');
    const b = make('http://localhost:4000/mcp');
    const start = ep.forms.length;
    const ta = await a.getToken();
    const tb = await b.getToken();
    assert.notEqual(ta, tb);
    assert.equal(await make('http://localhost:3000/mcp').getToken(), ta, 'same issuer+resource+scope: cached');
    await a.getToken({ forceRefresh: true });
    const sent = ep.forms.slice(start).map((f) => f.get('resource'));
    assert.deepEqual(sent, ['http://localhost:3000/mcp', 'http://localhost:4000/mcp', 'http://localhost:3000/mcp']);
  });

  it('derives resource from SERVER_URL, or takes OAUTH_RESOURCE', async () => {
    const base = { OAUTH_CLIENT_ID: 'mcp-client', OAUTH_CLIENT_SECRET: 's3cret', OAUTH_TOKEN_URL: ep.tokenUrl };
    const start = ep.forms.length;
    await tokenSourceFromConfig(loadConfig({ ...base, SERVER_URL: 'ws://localhost:3000/mcp' })).getToken();
    await tokenSourceFromConfig(
      loadConfig({ ...base, SERVER_URL: 'ws://127.0.0.1:1/mcp', OAUTH_RESOURCE: 'https://mcp.example.com/mcp' }),
    ).getToken();
    assert.deepEqual(
      ep.forms.slice(start).map((f) => f.get('resource')),
      ['http://localhost:3000/mcp', 'https://mcp.example.com/mcp'],
    );
  });
});
