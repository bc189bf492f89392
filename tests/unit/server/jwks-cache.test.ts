// JwksCache: stale-if-error, removals honoured on a successful refetch, one fetch per cooldown, and
// each refusal with its exact code (a made-up kid is the token's fault; only a key set that cannot
// be fetched is keys_unavailable).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, type GenerateKeyPairResult, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { JwksCache } from '../../../mcp-server/src/auth/jwks-cache.ts';
import { isServerError } from '../../../mcp-server/src/errors.ts';

/** jose's code for "no key in the set matches the token" (refused as an invalid token). */
const NO_MATCHING_KEY = 'ERR_JWKS_NO_MATCHING_KEY';

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

  const sign = (kid: Kid | 'zz', key: Kid = kid === 'zz' ? 'a' : kid) =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid }).setExpirationTime('5m').sign(pairs[key].privateKey);
  /** 'ok', or the code of the refusal (jose's `ERR_*` or a ServerError code): never just "it failed". */
  const outcome = (cache: JwksCache, token: string): Promise<string> =>
    jwtVerify(token, cache.getKey).then(
      () => 'ok',
      (err: unknown) => String((err as { code?: unknown }).code ?? err),
    );
  /** A clock the test moves by hand, so freshness and cooldowns need no sleeping. */
  const manualClock = () => {
    const clock = { t: 1_000_000, now: () => clock.t };
    return clock;
  };

  it('keeps the last good keys when a refetch fails, and drops removed keys when one succeeds', async () => {
    state.keys = [jwk.a];
    state.status = 200;
    const clock = manualClock();
    const cache = new JwksCache({ url, maxAgeMs: 50, cooldownMs: 20, now: clock.now });
    await cache.reload();
    const tokenA = await sign('a');
    state.status = 503;
    clock.t += 80;
    const fetches = state.fetches;
    assert.equal(await outcome(cache, tokenA), 'ok', 'stale keys used while the JWKS fails');
    clock.t += 80;
    assert.equal(await outcome(cache, tokenA), 'ok');
    assert.equal(state.fetches - fetches, 2, 'each expired use tried one refetch');
    state.status = 200;
    state.keys = [jwk.b];
    clock.t += 80;
    assert.equal(await outcome(cache, tokenA), NO_MATCHING_KEY, 'removed key refused after a successful refetch');
    assert.equal(await outcome(cache, await sign('b')), 'ok');
  });

  it('a burst of unknown kids costs one fetch per cooldown, and a new kid within the cooldown waits instead of failing', async () => {
    state.keys = [jwk.a];
    state.status = 200;
    const cache = new JwksCache({ url, maxAgeMs: 60_000, cooldownMs: 300 });
    await cache.reload();
    const before = state.fetches;
    state.keys = [jwk.a, jwk.b];
    const junk = await sign('zz');
    const results = await Promise.all([
      ...Array.from({ length: 30 }, () => outcome(cache, junk)),
      outcome(cache, await sign('b')),
    ]);
    assert.equal(results.at(-1), 'ok');
    assert.deepEqual(new Set(results.slice(0, -1)), new Set([NO_MATCHING_KEY]));
    assert.ok(state.fetches - before <= 2, `fetches: ${state.fetches - before}`);
    // Right after that fetch a third key appears: its first token waits out the cooldown, then passes.
    state.keys = [jwk.a, jwk.b, jwk.c];
    const t0 = Date.now();
    assert.equal(await outcome(cache, await sign('c')), 'ok');
    assert.ok(Date.now() - t0 <= 300 + 1000, 'the wait is bounded by the cooldown');
  });

  it('a made-up kid within a long cooldown is refused as no matching key, without a fetch', async () => {
    state.keys = [jwk.a];
    state.status = 200;
    const clock = manualClock();
    const cache = new JwksCache({ url, cooldownMs: 60_000, now: clock.now });
    await cache.reload();
    clock.t += 10; // a set fetched when the verification began is final; this one is older
    assert.equal(await outcome(cache, await sign('zz')), NO_MATCHING_KEY, 'first: one refetch, then refused');
    const fetches = state.fetches;
    clock.t += 1000;
    for (let i = 0; i < 20; i++) assert.equal(await outcome(cache, await sign('zz')), NO_MATCHING_KEY);
    assert.equal(state.fetches, fetches, 'no fetch within the cooldown');
    assert.equal(await outcome(cache, await sign('a')), 'ok');
  });

  it('an unknown kid while the key set cannot be fetched is keys_unavailable; known kids keep verifying', async () => {
    state.keys = [jwk.a];
    state.status = 200;
    const clock = manualClock();
    const cache = new JwksCache({ url, cooldownMs: 60_000, now: clock.now });
    await cache.reload();
    clock.t += 10;
    state.status = 503;
    assert.equal(await outcome(cache, await sign('b')), 'keys_unavailable', 'the refetch failed');
    clock.t += 1000;
    const fetches = state.fetches;
    assert.equal(await outcome(cache, await sign('b')), 'keys_unavailable', 'still down (within the cooldown)');
    assert.equal(state.fetches, fetches);
    assert.equal(await outcome(cache, await sign('a')), 'ok', 'stale-if-error');
    state.status = 200;
  });

  it('with no keys ever loaded, answers keys_unavailable', async () => {
    state.status = 503;
    const cache = new JwksCache({ url, cooldownMs: 0 });
    await assert.rejects(cache.getKey({ alg: 'RS256', kid: 'a' }, { payload: '', signature: '' }), (err: unknown) => {
      assert.ok(isServerError(err, 'keys_unavailable'), String(err));
      return true;
    });
    await assert.rejects(cache.reload(), /answered HTTP 503$/);
    state.status = 200;
  });

  it('stale-if-error is bounded: past max age + max staleness, even a known kid is keys_unavailable until a refetch succeeds', async () => {
    state.keys = [jwk.a];
    state.status = 200;
    const clock = manualClock();
    const cache = new JwksCache({ url, maxAgeMs: 1000, cooldownMs: 100, maxStalenessMs: 5000, now: clock.now });
    await cache.reload();
    const tokenA = await sign('a');
    state.status = 503;
    clock.t += 5999; // 4999 ms past max age: the stale set still serves
    assert.equal(await outcome(cache, tokenA), 'ok', 'within the bound');
    clock.t += 2; // 5001 ms past max age
    assert.equal(await outcome(cache, tokenA), 'keys_unavailable', 'past the bound');
    clock.t += 100_000;
    assert.equal(await outcome(cache, tokenA), 'keys_unavailable', 'stays refused while the set cannot be fetched');
    state.status = 200;
    clock.t += 200; // past the cooldown: the next verification refetches
    assert.equal(await outcome(cache, tokenA), 'ok', 'a successful refetch restores service');
  });
});
