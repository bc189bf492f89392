// In-band token renewal on a WebSocket (auth/renew): when it is due, that a fresh token (not the
// cached one about to expire) is presented on the open connection while a call is in flight, in
// both eras; -32601 stops it (reconnect at exp, as before); -32040 is tried once more, then stops.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  ClientCredentialsTokenSource,
  RENEW_REFUSED,
  type RenewalEvent,
  ResilientClient,
  renewalDelayMs,
  type SessionEvent,
} from 'mcp-client';
import { FakeMcpServer, type RenewAnswer } from './fake-mcp-server.ts';
import { FakeTokenEndpoint } from './fake-token-endpoint.ts';

describe('renewalDelayMs', () => {
  const now = 1_000_000_000_000;
  const at = (s: number) => now / 1000 + s;
  it('renews at 80% of the lifetime or 30 s before exp, whichever is earlier, never before half the remaining time', () => {
    assert.equal(renewalDelayMs(at(300), at(0), now), 240_000); // 80%
    assert.equal(renewalDelayMs(at(100), at(0), now), 70_000); // exp - 30 s
    assert.equal(renewalDelayMs(at(20), at(0), now), 10_000); // half of what is left
    assert.equal(renewalDelayMs(at(300), undefined, now), 240_000); // lifetime from now
    assert.equal(renewalDelayMs(at(200), at(-100), now), 140_000); // already 1/3 through
    assert.equal(renewalDelayMs(at(0), at(-300), now), undefined);
  });
});

/** Collects session events and lets a test await the next one of a type. */
class Events {
  readonly all: SessionEvent[] = [];
  readonly #emitter = new EventEmitter();
  readonly push = (e: SessionEvent): void => {
    this.all.push(e);
    this.#emitter.emit(e.type, e);
  };
  async next<T extends SessionEvent['type']>(type: T): Promise<Extract<SessionEvent, { type: T }>> {
    // Bounded: a renewal that never comes fails the test instead of hanging it.
    const [e] = await once(this.#emitter, type, { signal: AbortSignal.timeout(20_000) });
    return e;
  }
}

const expOf = (token: unknown) => decodeJwt(String(token)).exp as number;
const accept =
  (modern: boolean) =>
  (token: unknown): RenewAnswer => ({
    result: { expiresAt: expOf(token), scopes: ['file.read'], ...(modern ? { resultType: 'complete' } : {}) },
  });
const refuse: RenewAnswer = {
  error: {
    code: RENEW_REFUSED,
    message: 'token renewal refused',
    data: { error: 'invalid_token', error_description: 'x' },
  },
};

describe('in-band token renewal over WebSocket', () => {
  let tokens: FakeTokenEndpoint;
  before(async () => {
    // Two-second tokens: renewal falls due after about one second.
    tokens = await FakeTokenEndpoint.start({ expiresIn: 2 });
  });
  after(() => tokens.stop());

  async function start(server: FakeMcpServer, events: Events): Promise<ResilientClient> {
    const tokenSource = new ClientCredentialsTokenSource({
      tokenUrl: tokens.tokenUrl,
      clientId: 'mcp-client',
      clientSecret: 's3cret',
      scope: 'file.read file.list',
      resource: server.url.replace('ws://', 'http://'),
    });
    return ResilientClient.connect({ url: server.url, tokenSource, onEvent: events.push, pingIntervalMs: 0 });
  }

  for (const era of ['legacy', 'dual'] as const) {
    it(`presents a fresh token on the open connection without cutting the call in flight (${era === 'dual' ? '2026-07-28' : '2025-11-25'})`, async () => {
      const server = await FakeMcpServer.start({ era, callDelayMs: 3000, renew: accept(era === 'dual') });
      const events = new Events();
      const client = await start(server, events);
      try {
        const first = server.tokens[0];
        let settled = false;
        const call = client.callTool('read-file', { filePath: 'a.txt' }).finally(() => {
          settled = true;
        });
        await server.waitForCalls(1);
        const renewed = await events.next('renewed');
        assert.equal(settled, false, 'the call was still in flight when the token was renewed');
        const request = server.requests.find((r) => r.method === 'auth/renew');
        assert.notEqual(request?.params?.token, first, 'a fresh token, not the cached one');
        assert.ok(expOf(request?.params?.token) > expOf(first));
        assert.equal(renewed.expiresAt, expOf(request?.params?.token));
        if (era === 'dual') {
          const meta = request?.params?._meta as Record<string, unknown>;
          assert.equal(meta['io.modelcontextprotocol/protocolVersion'], '2026-07-28');
        }
        assert.equal(((await call).content[0] as { text: string }).text, 'contents of a.txt');
        await events.next('renewed'); // and again, ahead of the new exp
        assert.equal(server.upgrades, 1, 'one connection throughout');
        assert.ok(!events.all.some((e) => e.type === 'disconnected'));
        const tokensSeen = server.requests.filter((r) => r.method === 'auth/renew').map((r) => String(r.params?.token));
        for (const t of [first, ...tokensSeen]) assert.ok(!JSON.stringify(events.all).includes(String(t)));
      } finally {
        await client.close();
        await server.stop();
      }
    });
  }

  it('stops on -32601 (a server without renewal): one auth/renew, the connection stays as it was', async () => {
    const server = await FakeMcpServer.start({ era: 'dual' });
    const events = new Events();
    const client = await start(server, events);
    try {
      const stopped = await events.next('renewal_stopped');
      assert.equal(stopped.reason, 'unsupported');
      assert.equal(server.methods.filter((m) => m === 'auth/renew').length, 1);
      assert.ok(!(await client.callTool('read-file', { filePath: 'a.txt' })).isError);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('on -32040 gets another fresh token once more, then stops with the refusal', async () => {
    const server = await FakeMcpServer.start({ renew: () => refuse });
    const events = new Events();
    const client = await start(server, events);
    try {
      const stopped = (await events.next('renewal_stopped')) as Extract<RenewalEvent, { type: 'renewal_stopped' }>;
      assert.deepEqual([stopped.reason, stopped.error], ['refused', 'invalid_token']);
      const presented = server.requests.filter((r) => r.method === 'auth/renew').map((r) => r.params?.token);
      assert.equal(presented.length, 2);
      assert.notEqual(presented[0], presented[1], 'the second try has another fresh token');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it("schedules the next renewal from the token's exp, not from the server's expiresAt", async () => {
    // A server answering "expired in 1970" (or "in a second") must not stop renewal nor speed it up.
    const server = await FakeMcpServer.start({ renew: () => ({ result: { expiresAt: 1, scopes: [] } }) });
    const events = new Events();
    const client = await start(server, events);
    try {
      assert.equal((await events.next('renewed')).expiresAt, 1);
      await events.next('renewed');
      assert.equal(server.methods.filter((m) => m === 'auth/renew').length, 2);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('a refusal followed by an acceptance renews', async () => {
    let n = 0;
    const server = await FakeMcpServer.start({ renew: (t) => (++n === 1 ? refuse : accept(false)(t)) });
    const events = new Events();
    const client = await start(server, events);
    try {
      await events.next('renewed');
      assert.equal(server.methods.filter((m) => m === 'auth/renew').length, 2);
      assert.ok(!events.all.some((e) => e.type === 'renewal_stopped'));
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
