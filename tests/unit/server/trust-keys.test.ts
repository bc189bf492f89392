// Signing keys are selected by kid among the keys that declare use "sig": Keycloak 26.7's JWKS also
// lists an encryption key (use "enc"), and a key that does not say what it is for never verifies.
// Tokens must carry the RFC 9068 header typ at+jwt, as the realm issues them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { JwksCache, type JwksFetchEvent } from '../../../mcp-server/src/auth/jwks-cache.ts';
import { createTokenVerifier } from '../../../mcp-server/src/auth/token-verifier.ts';

const ISSUER = 'http://issuer.test/realms/mcp';
const AUD = 'http://localhost:3000/mcp';

describe('JWKS keys: kid and use "sig"', () => {
  let server: Server;
  let jwksUrl: URL;
  const pairs: Record<string, Awaited<ReturnType<typeof generateKeyPair>>> = {};
  const published: JWK[] = [];

  before(async () => {
    for (const [kid, use] of [
      ['sig-key', 'sig'],
      ['enc-key', 'enc'],
      ['bare-key', undefined],
    ] as const) {
      pairs[kid] = await generateKeyPair('RS256', { extractable: true });
      const jwk: JWK = { ...(await exportJWK(pairs[kid].publicKey)), kid, alg: 'RS256' };
      if (use !== undefined) jwk.use = use;
      published.push(jwk);
    }
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    jwksUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const sign = (kid: string, typ: string | null = 'at+jwt') => {
    const pair = pairs[kid];
    if (pair === undefined) throw new Error(`no key ${kid}`);
    return new SignJWT({ scope: 'file.list', azp: 'c' })
      .setProtectedHeader({ alg: 'RS256', kid, ...(typ === null ? {} : { typ }) })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setExpirationTime('5m')
      .sign(pair.privateKey);
  };

  it('keeps only the signature keys of a fetched set', async () => {
    const events: JwksFetchEvent[] = [];
    const cache = new JwksCache({ url: jwksUrl, onFetch: (e) => events.push(e) });
    await cache.reload();
    assert.equal(events[0]?.keys, 1, 'one of the three published keys is a signature key');
  });

  it('verifies with the use "sig" key and refuses tokens signed with the enc or the undeclared key', async () => {
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUD, jwksUrl, cooldownMs: 60_000 });
    assert.equal((await verifier.verify(await sign('sig-key'))).clientId, 'c');
    for (const kid of ['enc-key', 'bare-key']) {
      await assert.rejects(verifier.verify(await sign(kid)), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'token_invalid', `${kid}: ${err.message}`);
        return true;
      });
    }
  });

  it('accepts exactly the RFC 9068 header typ the realm issues (at+jwt), not JWT nor none', async () => {
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUD, jwksUrl, cooldownMs: 60_000 });
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
      assert.equal((await verifier.verify(await sign('sig-key', typ))).clientId, 'c', typ);
    }
    for (const typ of ['JWT', 'jwt', 'logout+jwt', null]) {
      await assert.rejects(verifier.verify(await sign('sig-key', typ)), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'token_invalid', `typ ${typ}`);
        assert.match(err.message, /at\+jwt/);
        return true;
      });
    }
  });
});
