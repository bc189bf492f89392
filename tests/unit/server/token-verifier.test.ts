import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  exportJWK,
  exportSPKI,
  type GenerateKeyPairResult,
  generateKeyPair,
  errors as joseErrors,
  SignJWT,
} from 'jose';
import { discoverProvider, rewriteJwksUri } from '../../../mcp-server/src/auth/oidc-discovery.ts';
import { createTokenVerifier, type TokenVerifier, toServerError } from '../../../mcp-server/src/auth/token-verifier.ts';
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
    assert.deepEqual(info.extra, { sub: 'user-1', aud: 'mcp-server' });
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

describe('token verifier during a key rotation (two keys published)', () => {
  const state = { status: 200, fetches: 0 };
  let published: object[] = [];
  const jwks = createServer((_req, res) => {
    state.fetches++;
    if (state.status !== 200) return void res.writeHead(state.status).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  const issuer = 'https://issuer.test/realms/r';
  let oldKey: GenerateKeyPairResult;
  let newKey: GenerateKeyPairResult;
  let verifier: TokenVerifier;

  before(async () => {
    jwks.listen(0, '127.0.0.1');
    await once(jwks, 'listening');
    oldKey = await generateKeyPair('RS256', { extractable: true });
    newKey = await generateKeyPair('RS256', { extractable: true });
    published = [
      { ...(await exportJWK(oldKey.publicKey)), kid: 'old', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(newKey.publicKey)), kid: 'new', alg: 'RS256', use: 'sig' },
    ];
    verifier = createTokenVerifier({
      issuer,
      audience: 'mcp-server',
      jwksUrl: new URL(`http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`),
      cooldownMs: 60_000, // a refused token must not depend on a refetch being allowed
    });
    await verifier.loadKeys();
  });
  after(() => jwks.close());

  const sign = (key: GenerateKeyPairResult['privateKey'], header: { kid?: string } = {}) =>
    new SignJWT({ azp: 'c' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', ...header })
      .setIssuer(issuer)
      .setAudience('mcp-server')
      .setExpirationTime('5m')
      .sign(key);
  async function code(token: string): Promise<string> {
    return verifier.verify(token).then(
      () => 'ok',
      (err: unknown) => {
        assert.ok(isServerError(err), String(err));
        return err.code;
      },
    );
  }

  it('a token without kid signed by neither key is token_invalid (401), not keys_unavailable', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    assert.equal(await code(await sign(privateKey)), 'token_invalid');
  });
  it('a token without kid signed by either published key verifies (each matching key is tried)', async () => {
    assert.equal(await code(await sign(oldKey.privateKey)), 'ok');
    assert.equal(await code(await sign(newKey.privateKey)), 'ok');
  });
  it('a garbage signature is token_invalid, with a known kid, an unknown kid (twice, within the cooldown) or none', async () => {
    const fetches = state.fetches;
    for (const header of [{ kid: 'new' }, { kid: 'made-up' }, { kid: 'made-up' }, {}]) {
      const [h, p] = (await sign(newKey.privateKey, header)).split('.');
      for (const sig of ['cccc', 'A'.repeat(342), '']) assert.equal(await code(`${h}.${p}.${sig}`), 'token_invalid');
    }
    assert.ok(state.fetches - fetches <= 1, `at most one refetch for the unknown kid, got ${state.fetches - fetches}`);
  });
  it('is keys_unavailable (503) only when no keys can be obtained', async () => {
    const down = createTokenVerifier({ issuer, audience: 'mcp-server', jwksUrl: new URL('http://127.0.0.1:1/certs') });
    await assert.rejects(down.verify(await sign(newKey.privateKey, { kid: 'new' })), (err: unknown) =>
      isServerError(err, 'keys_unavailable'),
    );
  });
});

describe('toServerError classifies by jose error code, never by message text', () => {
  const keySetWords = 'no key in the JSON Web Key Set';
  const cases: [string, unknown, string][] = [
    ['JWTExpired', new joseErrors.JWTExpired('x', {}, 'exp', 'check_failed'), 'token_expired'],
    [
      'JWTClaimValidationFailed',
      new joseErrors.JWTClaimValidationFailed('x', {}, 'aud', 'check_failed'),
      'token_invalid',
    ],
    ['JWKSNoMatchingKey', new joseErrors.JWKSNoMatchingKey(), 'token_invalid'],
    [
      'JWKSMultipleMatchingKeys (message names the key set)',
      new joseErrors.JWKSMultipleMatchingKeys(),
      'token_invalid',
    ],
    ['JWSSignatureVerificationFailed', new joseErrors.JWSSignatureVerificationFailed(), 'token_invalid'],
    ['JWSInvalid whose message names the key set', new joseErrors.JWSInvalid(keySetWords), 'token_invalid'],
    ['JWTInvalid', new joseErrors.JWTInvalid('x'), 'token_invalid'],
    ['JOSEAlgNotAllowed', new joseErrors.JOSEAlgNotAllowed('x'), 'token_invalid'],
    ['JOSENotSupported whose message names the key set', new joseErrors.JOSENotSupported(keySetWords), 'token_invalid'],
    ['JWKSInvalid', new joseErrors.JWKSInvalid('x'), 'keys_unavailable'],
    ['JWKSTimeout', new joseErrors.JWKSTimeout(), 'keys_unavailable'],
    ['JWKInvalid', new joseErrors.JWKInvalid('x'), 'keys_unavailable'],
    ['a TypeError (a bug, not the token or the keys)', new TypeError(keySetWords), 'internal_error'],
  ];
  for (const [name, err, expected] of cases) {
    it(`${name} -> ${expected}`, () => {
      const mapped = toServerError(err);
      assert.equal(mapped.code, expected);
      assert.equal(mapped.cause, err);
    });
  }
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
