// Remembered token verdicts (auth/verified-tokens.ts): used only until `exp` and while the key set
// that verified the token is the one in use and fresh, bounded in count; through the verifier, a
// removed key or a JWKS outage past its bound refuses a token exactly as without the memory.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createTokenVerifier, type TokenVerifier } from '../../../mcp-server/src/auth/token-verifier.ts';
import { VerifiedTokens } from '../../../mcp-server/src/auth/verified-tokens.ts';
import { isServerError } from '../../../mcp-server/src/errors.ts';

function info(token: string, expiresAt: number | undefined): AuthInfo {
  return { token, clientId: 'c', scopes: ['file.read'], ...(expiresAt === undefined ? {} : { expiresAt }) };
}

describe('verified token memory', () => {
  it('answers a verdict only for the same key set and before exp', () => {
    const tokens = new VerifiedTokens();
    const exp = 2_000_000_000;
    tokens.set(info('t1', exp), 3);
    assert.equal(tokens.get('t1', 3, exp * 1000 - 1)?.token, 't1');
    assert.equal(tokens.get('t2', 3, exp * 1000 - 1), undefined, 'another token text');
    assert.equal(tokens.get('t1', 4, exp * 1000 - 1), undefined, 'another key set');
    assert.equal(tokens.get('t1', 3, exp * 1000 - 1), undefined, 'a stale verdict is forgotten');
    tokens.set(info('t1', exp), 3);
    assert.equal(tokens.get('t1', 3, exp * 1000), undefined, 'not at or after exp');
    tokens.set(info('no-exp', undefined), 3);
    assert.equal(tokens.get('no-exp', 3, 0), undefined, 'a token without exp is never remembered');
  });

  it('keeps at most maxEntries tokens, forgetting the oldest', () => {
    const tokens = new VerifiedTokens(3);
    for (let i = 0; i < 1000; i++) tokens.set(info(`t${i}`, 2_000_000_000), 1);
    assert.equal(tokens.size, 3);
    assert.equal(tokens.get('t996', 1, 0), undefined);
    assert.equal(tokens.get('t999', 1, 0)?.token, 't999');
  });
});

describe('verifier with remembered verdicts', { timeout: 20_000 }, () => {
  const MAX_AGE_MS = 150;
  let keys: JWK[];
  let status = 200;
  let jwksServer: Server;
  let jwksUrl: URL;
  let sign: (kid: string) => Promise<string>;
  let jwk: Record<string, JWK>;

  before(async () => {
    const pairs = { a: await generateKeyPair('RS256'), b: await generateKeyPair('RS256') };
    jwk = {
      a: { ...(await exportJWK(pairs.a.publicKey)), kid: 'a', alg: 'RS256', use: 'sig' },
      b: { ...(await exportJWK(pairs.b.publicKey)), kid: 'b', alg: 'RS256', use: 'sig' },
    };
    sign = (kid) =>
      new SignJWT({ azp: 'c', scope: 'file.read' })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
        .setIssuer('https://issuer.test')
        .setAudience('mcp-server')
        .setExpirationTime('5m')
        .sign(pairs[kid as 'a' | 'b'].privateKey);
    jwksServer = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUrl = new URL(`http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/certs`);
  });
  after(() => new Promise<void>((r) => jwksServer.close(() => r())));

  async function verifier(): Promise<TokenVerifier> {
    keys = [jwk.a!, jwk.b!];
    status = 200;
    const v = createTokenVerifier({
      issuer: 'https://issuer.test',
      audience: 'mcp-server',
      jwksUrl,
      cacheMaxAgeMs: MAX_AGE_MS,
      cooldownMs: 0,
      maxStalenessMs: MAX_AGE_MS,
    });
    await v.loadKeys();
    return v;
  }

  /** Resolves once the verifier's key set is older than its max age (a refetch is due). */
  async function untilStale(v: TokenVerifier): Promise<void> {
    while (v.jwks.fresh) await new Promise((r) => setTimeout(r, 10));
  }

  async function outcome(v: TokenVerifier, token: string): Promise<string> {
    try {
      await v.verify(token);
      return 'ok';
    } catch (err) {
      assert.ok(isServerError(err), String(err));
      return err.code;
    }
  }

  it('a token whose key was removed is refused at the next refetch, remembered or not', async () => {
    const v = await verifier();
    const token = await sign('a');
    assert.equal(v.remembered(token), undefined, 'nothing is remembered before a verification');
    assert.equal(await outcome(v, token), 'ok');
    assert.equal(v.remembered(token)?.token, token, 'the verdict is at hand (the request path waits for nothing)');
    assert.equal(await outcome(v, token), 'ok', 'remembered while the key set is fresh');
    keys = [jwk.b!];
    await untilStale(v);
    assert.equal(v.remembered(token), undefined, 'not from a key set past its max age');
    assert.equal(await outcome(v, token), 'token_invalid', 'the refetched set no longer has the key');
    assert.equal(v.remembered(token), undefined, 'nor once the set that verified it was replaced');
    assert.equal(await outcome(v, token), 'token_invalid');
    assert.equal(await outcome(v, await sign('b')), 'ok');
  });

  it('a remembered token is refused once the key set is stale past its bound (JWKS outage)', async () => {
    const v = await verifier();
    const token = await sign('a');
    assert.equal(await outcome(v, token), 'ok');
    status = 503;
    // Past max age + max staleness the set may not be used, whatever verified the token before.
    while (v.jwks.ageMs <= MAX_AGE_MS * 2) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await outcome(v, token), 'keys_unavailable');
  });
});
