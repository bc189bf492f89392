import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../mcp-server/src/config.ts';
import { isServerError } from '../../../mcp-server/src/errors.ts';

describe('loadConfig', () => {
  it('applies the defaults', () => {
    const c = loadConfig({ OAUTH_ISSUER: 'http://kc:8080/realms/mcp' });
    assert.equal(c.port, 3000);
    assert.equal(c.host, '127.0.0.1');
    assert.deepEqual(c.allowedHosts, ['localhost', '127.0.0.1', '[::1]'], 'loopback bind: Host check on');
    assert.equal(c.targetDir, '/data');
    assert.deepEqual(c.oauthAudience, ['http://localhost:3000/mcp'], 'the canonical URI, nothing else');
    assert.deepEqual(c.oauthRequiredScopes, []);
    assert.equal(c.publicUrl, 'http://localhost:3000/mcp');
    assert.equal(c.maxFileBytes, 1024 * 1024);
    assert.equal(c.maxMessageBytes, 1024 * 1024);
    assert.equal(c.maxConnections, 10000);
    assert.equal(c.clockToleranceSeconds, 5);
    assert.equal(c.shutdownGraceMs, 5000);
  });
  it('parses scopes and accepts PORT=0', () => {
    const c = loadConfig({
      OAUTH_ISSUER: 'http://kc/realms/mcp',
      PORT: '0',
      OAUTH_AUDIENCE: 'mcp-server',
      OAUTH_REQUIRED_SCOPES: ' file.read  file.list ',
    });
    assert.equal(c.port, 0);
    assert.deepEqual(c.oauthRequiredScopes, ['file.read', 'file.list']);
  });
  it('expects the canonical URI in aud, plus what OAUTH_AUDIENCE names', () => {
    const c = loadConfig({
      OAUTH_ISSUER: 'http://kc/realms/mcp',
      PUBLIC_URL: 'https://MCP.example.com:443/mcp/',
      OAUTH_AUDIENCE: 'mcp-server, legacy',
    });
    assert.equal(c.publicUrl, 'https://mcp.example.com/mcp');
    assert.deepEqual(c.oauthAudience, ['https://mcp.example.com/mcp', 'mcp-server', 'legacy']);
    const tls = loadConfig({ OAUTH_ISSUER: 'http://kc/r', PORT: '8443', TLS_CERT_FILE: 'c', TLS_KEY_FILE: 'k' });
    assert.deepEqual(tls.oauthAudience, ['https://localhost:8443/mcp']);
  });
  it('refuses PORT=0 with nothing to derive the audience from, naming PUBLIC_URL', () => {
    assert.throws(
      () => loadConfig({ OAUTH_ISSUER: 'http://kc/realms/mcp', PORT: '0' }),
      (err: unknown) => isServerError(err, 'config_invalid') && /PUBLIC_URL/.test(err.message),
    );
  });
  it('throws one error listing every problem', () => {
    assert.throws(
      () => loadConfig({ PORT: 'abc', MAX_FILE_BYTES: '-1', LOG_LEVEL: 'loud' }),
      (err: unknown) => {
        assert.ok(isServerError(err, 'config_invalid'));
        for (const key of ['OAUTH_ISSUER', 'PORT', 'MAX_FILE_BYTES', 'LOG_LEVEL'])
          assert.match(err.message, new RegExp(key));
        return true;
      },
    );
  });
  it('revocation: off without a secret file; the introspection client defaults to the canonical URI; bounds checked', () => {
    const issuer = { OAUTH_ISSUER: 'http://kc:8080/realms/mcp' };
    const off = loadConfig(issuer);
    assert.equal(off.introspectionClientId, undefined);
    assert.equal(off.revocationCheckIntervalMs, 5000);
    assert.equal(off.introspectionMaxStalenessMs, 120000);
    assert.equal(off.jwksMaxStalenessMs, 300000);
    const on = loadConfig({ ...issuer, PUBLIC_URL: 'https://mcp.example/mcp', INTROSPECTION_CLIENT_SECRET_FILE: '/s' });
    assert.equal(on.introspectionClientId, 'https://mcp.example/mcp');
    const named = loadConfig({ ...issuer, INTROSPECTION_CLIENT_SECRET_FILE: '/s', INTROSPECTION_CLIENT_ID: 'rs' });
    assert.equal(named.introspectionClientId, 'rs');
    const refused = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => loadConfig({ ...issuer, ...env }),
        (err: unknown) => {
          assert.ok(isServerError(err, 'config_invalid'));
          assert.match(err.message, pattern);
          return true;
        },
      );
    refused({ INTROSPECTION_CLIENT_ID: 'rs' }, /INTROSPECTION_CLIENT_SECRET_FILE/);
    refused({ PORT: '0', OAUTH_AUDIENCE: 'x', INTROSPECTION_CLIENT_SECRET_FILE: '/s' }, /INTROSPECTION_CLIENT_ID/);
    refused(
      { REVOCATION_CHECK_INTERVAL_MS: '10000', INTROSPECTION_MAX_STALENESS_MS: '5000' },
      /INTROSPECTION_MAX_STALENESS_MS must be at least/,
    );
  });
});
