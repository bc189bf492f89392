// JwksCache: stale-if-error, removals honoured on a successful refetch, one fetch per cooldown.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { exportJWK, type GenerateKeyPairResult, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { JwksCache } from '../../../mcp-server/src/auth/jwks-cache.ts';
import { isServerError } from '../../../mcp-server/src/errors.ts';

describe('JwksCache', () => {
  const state = { keys: [] as JWK[], status: 200, fetches: 0 };
  const server = createServer((_req, res) => {
    state.fetches++;
    if (state.status !== 200) return void res.writeHead(state.status).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  let url: URL;
  type Kid = 'a' | 'b' | 'c';
  const pairs = {} as Record<Kid, GenerateKeyPairResult>;
  const jwk = {} as Record<Kid, JWK>;
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`);
    for (const kid of ['a', 'b', 'c'] as const) {
      pairs[kid] = await generateKeyPair('RS256', { extractable: true });
      jwk[kid] = { ...(await exportJWK(pairs[kid].publicKey)), kid, alg: 'RS256', use: 'sig' };
    }
  });
  after(() => server.close());

  const sign = (kid: Kid) =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid }).setExpirationTime('5m').sign(pairs[kid].privateKey);
  const verifies = (cache: JwksCache, token: string) =>
    jwtVerify(token, cache.getKey).then(
      () => true,
      () => false,
    );

  it('keeps the last good keys when a refetch fails, and drops removed keys when one succeeds', async () => {
    state.keys = [jwk.a];
    state.status = 200;
    const cache = new JwksCache({ url, maxAgeMs: 50, cooldownMs: 20 });
    await cache.reload();
    const tokenA = await sign('a');
    state.status = 503;
    await delay(80);
    assert.equal(await verifies(cache, tokenA), true, 'stale keys used while the JWKS fails');
    await delay(80);
    assert.equal(await verifies(cache, tokenA), true);
    state.status = 200;
    state.keys = [jwk.b];
    await delay(80);
    assert.equal(await verifies(cache, tokenA), false, 'removed key refused after a successful refetch');
    assert.equal(await verifies(cache, await sign('b')), true);
  });

  it('a burst of unknown kids costs one fetch per cooldown, and a new kid within the cooldown waits instead of failing', async () => {
    state.keys = [jwk.a];
    state.status = 200;
    const cache = new JwksCache({ url, maxAgeMs: 60_000, cooldownMs: 300 });
    await cache.reload();
    const before = state.fetches;
    state.keys = [jwk.a, jwk.b];
    const junk = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'zz' }).sign(pairs.a.privateKey);
    const results = await Promise.all([
      ...Array.from({ length: 30 }, () => verifies(cache, junk)),
      verifies(cache, await sign('b')),
    ]);
    assert.equal(results.at(-1), true);
    assert.ok(results.slice(0, -1).every((r) => r === false));
    assert.ok(state.fetches - before <= 2, `fetches: ${state.fetches - before}`);
    // Right after that fetch a third key appears: its first token waits out the cooldown, then passes.
    state.keys = [jwk.a, jwk.b, jwk.c];
    const t0 = Date.now();
    assert.equal(await verifies(cache, await sign('c')), true);
    assert.ok(Date.now() - t0 <= 300 + 200);
  });

  it('with no keys ever loaded, answers keys_unavailable', async () => {
    state.status = 503;
    const cache = new JwksCache({ url, cooldownMs: 0 });
    await assert.rejects(cache.getKey({ alg: 'RS256', kid: 'a' }, { payload: '', signature: '' }), (err: unknown) =>
      isServerError(err, 'keys_unavailable'),
    );
    await assert.rejects(cache.reload(), /HTTP 503/);
    state.status = 200;
  });
});
