// RevocationWatch: one introspection per distinct token per round however many holders share it,
// holders judged by their current token, inactive tokens refused and their holders withdrawn, the
// failure policy (last verdict up to the staleness bound, then fail closed), bounded concurrency
// and memory. The authorization server is a function here; tests/integration/revocation-*.test.ts
// run the same code against the real Keycloak.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { AuthInfo } from '@modelcontextprotocol/server';
import {
  RevocationWatch,
  type TokenHolder,
  type WithdrawnReason,
} from '../../../mcp-server/src/auth/revocation-watch.ts';
import { isServerError } from '../../../mcp-server/src/errors.ts';
import { createLogger } from '../../../mcp-server/src/log.ts';

const auth = (token: string, clientId = 'mcp-client'): AuthInfo => ({
  token,
  clientId,
  scopes: ['file.read'],
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
  extra: { sub: `sub-of-${clientId}` },
});

function setup(options: { maxStalenessMs?: number; maxTokens?: number; concurrency?: number } = {}) {
  const clock = { t: Date.now() };
  const verdicts = new Map<string, boolean | 'fail'>();
  const asked: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const watch = new RevocationWatch({
    async introspect(token) {
      asked.push(token);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      const v = verdicts.get(token) ?? true;
      if (v === 'fail') throw new Error('connect ECONNREFUSED');
      return { active: v };
    },
    intervalMs: 1000,
    maxStalenessMs: options.maxStalenessMs ?? 10_000,
    maxTokens: options.maxTokens ?? 10_000,
    concurrency: options.concurrency,
    logger: createLogger({ level: 'info', destination }),
    now: () => clock.t,
  });
  const holder = (token: string) => {
    const h = { token, withdrawn: [] as WithdrawnReason[] };
    const th: TokenHolder = { current: () => auth(h.token), withdraw: (r) => h.withdrawn.push(r) };
    return { h, release: watch.hold(th) };
  };
  return { clock, verdicts, asked, watch, holder, logs, maxInFlight: () => maxInFlight };
}

const refusedWith = (fn: () => void): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(isServerError(err), String(err));
    return err.code;
  }
};

describe('RevocationWatch', () => {
  it('1000 connections and many requests sharing one token cost one introspection per round', async () => {
    const s = setup();
    s.watch.screen(auth('shared'));
    const holders = Array.from({ length: 1000 }, () => s.holder('shared'));
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 500; i++) s.watch.screen(auth('shared')); // HTTP requests with it
      s.clock.t += 1000;
      await s.watch.check();
      assert.equal(s.asked.length, round, `round ${round}: one request`);
    }
    assert.ok(holders.every(({ h }) => h.withdrawn.length === 0));
  });

  it('a token turned inactive: refused at once, every holder of it withdrawn, others untouched, audited', async () => {
    const s = setup();
    s.watch.screen(auth('t1'));
    s.watch.screen(auth('t2', 'mcp-lister'));
    const a = s.holder('t1');
    const b = s.holder('t1');
    const other = s.holder('t2');
    s.verdicts.set('t1', false);
    await s.watch.check();
    assert.deepEqual(a.h.withdrawn, ['revoked']);
    assert.deepEqual(b.h.withdrawn, ['revoked']);
    assert.deepEqual(other.h.withdrawn, []);
    assert.equal(
      refusedWith(() => s.watch.screen(auth('t1'))),
      'token_revoked',
    );
    assert.equal(
      refusedWith(() => s.watch.screen(auth('t2', 'mcp-lister'))),
      'ok',
    );
    const audit = s.logs.filter((l) => l.event === 'auth.revoked');
    assert.equal(audit.length, 1, 'one audit line per token');
    assert.equal(audit[0]?.azp, 'mcp-client');
    assert.equal(audit[0]?.sub, 'sub-of-mcp-client');
    assert.equal(audit[0]?.reason, 'inactive');
    assert.ok(!JSON.stringify(s.logs).includes('"t1"'), 'the token is never logged');
    s.asked.length = 0;
    await s.watch.check();
    assert.deepEqual(s.asked, ['t2'], 'an inactive token is not asked about again');
  });

  it("a holder is judged by its current token: a renewal before the round saves it, one to a revoked token doesn't", async () => {
    const s = setup();
    s.watch.screen(auth('old'));
    s.watch.screen(auth('new'));
    const renewed = s.holder('old');
    const stuck = s.holder('old');
    renewed.h.token = 'new';
    s.verdicts.set('old', false);
    await s.watch.check();
    assert.deepEqual(renewed.h.withdrawn, []);
    assert.deepEqual(stuck.h.withdrawn, ['revoked']);
    s.verdicts.set('new', false);
    await s.watch.check();
    assert.deepEqual(renewed.h.withdrawn, ['revoked']);
  });

  it('introspection failing: the last verdict serves up to the staleness bound, then fail closed; recovery restores', async () => {
    const s = setup({ maxStalenessMs: 5000 });
    s.watch.screen(auth('t'));
    const h = s.holder('t');
    await s.watch.check(); // confirmed now
    s.verdicts.set('t', 'fail');
    s.clock.t += 4000;
    await s.watch.check();
    assert.deepEqual(h.h.withdrawn, [], 'within the bound');
    assert.equal(
      refusedWith(() => s.watch.screen(auth('t'))),
      'ok',
    );
    s.clock.t += 1500; // 5500 ms since the last good verdict
    await s.watch.check();
    assert.deepEqual(h.h.withdrawn, ['unverifiable']);
    assert.equal(
      refusedWith(() => s.watch.screen(auth('t'))),
      'introspection_unavailable',
    );
    assert.equal(
      refusedWith(() => s.watch.screen(auth('brand-new'))),
      'introspection_unavailable',
      'a new token too',
    );
    assert.ok(s.logs.some((l) => l.event === 'introspection_failed'));
    s.verdicts.set('t', true);
    s.verdicts.set('brand-new', true);
    await s.watch.check();
    assert.equal(
      refusedWith(() => s.watch.screen(auth('t'))),
      'ok',
      'restored once introspection answers',
    );
    assert.equal(
      refusedWith(() => s.watch.screen(auth('brand-new'))),
      'ok',
    );
  });

  it('many distinct tokens: at most `concurrency` introspections at once, each token once per round', async () => {
    const s = setup({ concurrency: 4 });
    for (let i = 0; i < 200; i++) s.watch.screen(auth(`t${i}`));
    await s.watch.check();
    assert.equal(s.asked.length, 200);
    assert.equal(new Set(s.asked).size, 200);
    assert.equal(s.maxInFlight(), 4);
  });

  it('tracks at most maxTokens: a flood of tokens costs O(1) each, and a held token is tracked again and checked', async () => {
    const s = setup({ maxTokens: 100 });
    s.watch.screen(auth('held'));
    const h = s.holder('held');
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) s.watch.screen(auth(`flood${i}`));
    const ms = performance.now() - started;
    assert.equal(s.watch.size, 100);
    assert.ok(ms < 2000, `10000 screens took ${ms} ms`);
    s.verdicts.set('held', false);
    await s.watch.check();
    assert.deepEqual(h.h.withdrawn, ['revoked'], 'the held token was tracked again and checked');
    assert.ok(s.watch.size <= 100);
  });

  it('expired tokens are dropped and not introspected', async () => {
    const s = setup();
    s.watch.screen({ ...auth('short'), expiresAt: Math.floor(s.clock.t / 1000) + 2 });
    s.clock.t += 3000;
    await s.watch.check();
    assert.deepEqual(s.asked, []);
    assert.equal(s.watch.size, 0);
  });
  it('with an audience: only tokens whose aud names the introspecting client are tracked (Keycloak says inactive for others)', async () => {
    const clock = { t: Date.now() };
    const asked: string[] = [];
    const watch = new RevocationWatch({
      introspect: async (token) => {
        asked.push(token);
        return { active: true };
      },
      audience: 'https://mcp.example/mcp',
      intervalMs: 1000,
      maxStalenessMs: 10_000,
      maxTokens: 100,
      logger: createLogger({ level: 'silent' }),
      now: () => clock.t,
    });
    watch.screen({ ...auth('bound'), extra: { sub: 's', aud: 'https://mcp.example/mcp' } });
    watch.screen({ ...auth('both'), extra: { sub: 's', aud: ['mcp-server', 'https://mcp.example/mcp'] } });
    watch.screen({ ...auth('compat'), extra: { sub: 's', aud: 'mcp-server' } });
    await watch.check();
    assert.deepEqual(asked.sort(), ['both', 'bound']);
  });
});
