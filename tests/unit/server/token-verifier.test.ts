import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, SignJWT } from 'jose';
import { discoverProvider, rewriteJwksUri } from '../../../mcp-server/src/auth/oidc-discovery.ts';
import { createTokenVerifier, type TokenVerifier } from '../../../mcp-server/src/auth/token-verifier.ts';
import { isServerError } from '../../../mcp-server/src/errors.ts';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('token verifier', () => {
  let kc: LocalIssuer;
  let verifier: TokenVerifier;

  before(async () => {
    kc = await startLocalIssuer();
    verifier = createTokenVerifier({
      issuer: kc.issuer,
      audience: 'mcp-server',
      jwksUrl: new URL(kc.jwksUrl),
      clockToleranceSeconds: 0,
      cooldownMs: 0,
    });
    await verifier.loadKeys();
  });
  after(() => kc.close());

  async function refused(token: string, code: string): Promise<void> {
    await assert.rejects(verifier.verify(token), (err: unknown) => {
      assert.ok(isServerError(err), String(err));
      assert.equal(err.code, code, err.message);
      assert.ok(token === '' || !err.message.includes(token), 'message must not echo the token');
      return true;
    });
  }

  it('accepts a valid token and returns AuthInfo', async () => {
    const token = await kc.sign({ scope: 'file.list file.read' });
    const info = await verifier.verify(token);
    assert.equal(info.token, token);
    assert.equal(info.clientId, 'test-client');
    assert.deepEqual(info.scopes, ['file.list', 'file.read']);
    assert.equal(typeof info.expiresAt, 'number');
    assert.deepEqual(info.extra, { sub: 'user-1' });
    assert.equal(verifier.keysLoaded, true);
  });
  it('uses client_id when azp is absent, and accepts aud arrays', async () => {
    const info = await verifier.verify(await kc.sign({ azp: undefined, client_id: 'cid', aud: ['x', 'mcp-server'] }));
    assert.equal(info.clientId, 'cid');
  });
  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: kc.issuer, aud: 'mcp-server', exp: now + 60 })}.`;
    await refused(token, 'token_invalid');
  });
  it('refuses HS256 signed with the RSA public key (key confusion)', async () => {
    const pem = await exportSPKI(kc.publicKey);
    const token = await new SignJWT({ scope: 'file.read' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(kc.issuer)
      .setAudience('mcp-server')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    await refused(token, 'token_invalid');
  });
  it('refuses a wrong issuer, including a trailing slash', async () => {
    await refused(await kc.sign({ iss: 'http://evil.example/realms/test' }), 'token_invalid');
    await refused(await kc.sign({ iss: `${kc.issuer}/` }), 'token_invalid');
  });
  it('refuses a wrong or missing audience', async () => {
    await refused(await kc.sign({ aud: 'other' }), 'token_invalid');
    await refused(await kc.sign({}, { omit: ['aud'] }), 'token_invalid');
  });
  it('refuses an expired token and a token without exp', async () => {
    await refused(await kc.sign({ exp: Math.floor(Date.now() / 1000) - 10 }), 'token_expired');
    await refused(await kc.sign({}, { omit: ['exp'] }), 'token_invalid');
  });
  it('refuses a token not yet valid (nbf in the future)', async () => {
    await refused(await kc.sign({ nbf: Math.floor(Date.now() / 1000) + 120 }), 'token_invalid');
  });
  it('refuses an unknown kid and garbage', async () => {
    await refused(await kc.sign({}, { kid: 'unknown' }), 'token_invalid');
    await refused('not.a.jwt', 'token_invalid');
    await refused('', 'token_missing');
  });
  it('reports keys_unavailable when the JWKS cannot be fetched', async () => {
    const v = createTokenVerifier({
      issuer: kc.issuer,
      audience: 'mcp-server',
      jwksUrl: new URL('http://127.0.0.1:1/certs'),
    });
    await assert.rejects(v.verify(await kc.sign()), (err: unknown) => isServerError(err, 'keys_unavailable'));
    await assert.rejects(v.loadKeys(), (err: unknown) => isServerError(err, 'keys_unavailable'));
  });
});

describe('oidc discovery', () => {
  let kc: LocalIssuer;
  before(async () => {
    kc = await startLocalIssuer();
  });
  after(() => kc.close());

  it('fetches metadata and checks the issuer exactly', async () => {
    const meta = await discoverProvider({ issuer: kc.issuer });
    assert.equal(meta.jwks_uri, kc.jwksUrl);
    await assert.rejects(
      discoverProvider({ issuer: `${kc.issuer}/`, discoveryUrl: kc.issuer, attempts: 1 }),
      (err: unknown) => isServerError(err, 'discovery_failed'),
    );
  });
  it('gives up after the attempts with discovery_failed', async () => {
    await assert.rejects(
      discoverProvider({ issuer: 'http://127.0.0.1:1/realms/x', attempts: 2, initialDelayMs: 10 }),
      (err: unknown) => isServerError(err, 'discovery_failed'),
    );
  });
  it('rewrites the jwks_uri origin to the discovery URL', () => {
    const u = rewriteJwksUri(
      'http://localhost:8080/realms/mcp/protocol/openid-connect/certs',
      'http://localhost:8080/realms/mcp',
      'http://keycloak:8080/realms/mcp',
    );
    assert.equal(u.href, 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs');
    assert.equal(rewriteJwksUri('http://a/certs', 'http://a/r', undefined).href, 'http://a/certs');
  });
});
