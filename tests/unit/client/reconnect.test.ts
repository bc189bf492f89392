// ResilientClient: reconnect on 4401 / restarts with in-flight calls re-sent, and the attempt bound,
// in both eras (a 2025-11-25 session is re-initialized, a 2026-07-28 connection just reconnects).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backoffDelayMs,
  ClientError,
  type GetTokenOptions,
  ResilientClient,
  reconnectPolicy,
  type SessionEvent,
  type TokenSource,
} from 'mcp-client';
import { FakeMcpServer } from './fake-mcp-server.ts';

/** Hands out tok-1, tok-2, ... : a new token only on a forced refresh. */
class CountingTokenSource implements TokenSource {
  readonly refreshable = true;
  readonly clientId = 'mcp-client';
  n = 1;
  readonly forced: boolean[] = [];
  async getToken(o: GetTokenOptions = {}): Promise<string> {
    this.forced.push(o.forceRefresh === true);
    if (o.forceRefresh) this.n += 1;
    return `tok-${this.n}`;
  }
}

const fast = { maxAttempts: 8, baseDelayMs: 20, maxDelayMs: 100 };
const text = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;

for (const [era, revision] of [
  ['legacy', '2025-11-25'],
  ['dual', '2026-07-28'],
] as const)
  describe(`ResilientClient reconnects (MCP ${revision})`, () => {
    it('after 4401 gets a fresh token, reconnects and re-sends the calls in flight', async () => {
      const revoked = new Set<string>();
      const server = await FakeMcpServer.start({
        era,
        callDelayMs: 150,
        auth: (t) => (t && revoked.has(t) ? { status: 401, error: 'invalid_token' } : undefined),
      });
      const ts = new CountingTokenSource();
      const events: SessionEvent[] = [];
      const client = await ResilientClient.connect({
        url: server.url,
        tokenSource: ts,
        reconnect: fast,
        onEvent: (e) => events.push(e),
      });
      try {
        assert.equal(client.protocolVersion, revision);
        const calls = ['a.txt', 'b.txt', 'c.txt'].map((f) => client.callTool('read-file', { filePath: f }));
        await server.waitForCalls(3); // all three in flight
        revoked.add('tok-1');
        server.closeAll(4401, 'token expired');
        const results = await Promise.all(calls);
        assert.deepEqual(results.map(text), ['contents of a.txt', 'contents of b.txt', 'contents of c.txt']);
        assert.deepEqual(server.tokens, ['tok-1', 'tok-2']);
        assert.deepEqual(ts.forced, [false, true]);
        assert.equal(server.calls.length, 6, 'each in-flight call was sent twice');
        assert.deepEqual(
          events.map((e) => e.type),
          ['disconnected', 'reconnecting', 'reconnected'],
        );
        assert.equal((events[0] as { code: number }).code, 4401);
      } finally {
        await client.close();
        await server.stop();
      }
    });

    for (const how of ['crash', 'stop'] as const) {
      it(`survives a server restart (${how === 'crash' ? '1006' : '1001'}) mid-run`, async () => {
        let server = await FakeMcpServer.start({ era, callDelayMs: 100 });
        const port = server.port;
        let failedOnce!: () => void;
        const reconnectFailed = new Promise<void>((resolve) => {
          failedOnce = resolve;
        });
        const client = await ResilientClient.connect({
          url: server.url,
          tokenSource: new CountingTokenSource(),
          reconnect: fast,
          onEvent: (e) => (e.type === 'reconnect_failed' ? failedOnce() : undefined),
        });
        try {
          const inflight = client.callTool('list-files', { directory: '.' });
          await server.waitForCalls(1);
          await server[how]();
          const later = client.callTool('read-file', { filePath: 'x.txt' }); // issued while disconnected
          await reconnectFailed; // both calls wait through a refused reconnect
          server = await FakeMcpServer.start({ era, port });
          const [listing, read] = await Promise.all([inflight, later]);
          assert.equal((listing.structuredContent as { entries: unknown[] }).entries.length, 2);
          assert.equal(text(read), 'contents of x.txt');
          assert.deepEqual(server.calls.sort(), ['list-files', 'read-file']);
        } finally {
          await client.close();
          await server.stop();
        }
      });
    }

    it('fails with reconnect_exhausted once the bound is reached', async () => {
      const server = await FakeMcpServer.start({ era, callDelayMs: 100 });
      const client = await ResilientClient.connect({
        url: server.url,
        tokenSource: new CountingTokenSource(),
        reconnect: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
      });
      const inflight = client.callTool('list-files', {});
      await server.waitForCalls(1);
      await server.crash();
      await assert.rejects(inflight, (err: unknown) => {
        assert.ok(err instanceof ClientError);
        assert.equal(err.code, 'reconnect_exhausted');
        assert.equal(err.closeCode, 1006);
        assert.match(
          err.message,
          /3 reconnect attempts failed; last error: connection refused at .*: is the server running\?/,
        );
        return true;
      });
      await assert.rejects(
        client.listTools(),
        (err: unknown) => err instanceof ClientError && err.code === 'reconnect_exhausted',
      );
      await client.close();
    });

    it('does not reconnect after a non-reconnectable close (1008)', async () => {
      const server = await FakeMcpServer.start({ era, callDelayMs: 100 });
      const client = await ResilientClient.connect({
        url: server.url,
        tokenSource: new CountingTokenSource(),
        reconnect: fast,
      });
      const inflight = client.callTool('list-files', {});
      await server.waitForCalls(1);
      server.closeAll(1008, 'policy');
      await assert.rejects(
        inflight,
        (err: unknown) => err instanceof ClientError && err.code === 'connect_failed' && err.closeCode === 1008,
      );
      assert.equal(server.upgrades, 1);
      await client.close();
      await server.stop();
    });

    it('retries the first connect once with a fresh token after a 401', async () => {
      const server = await FakeMcpServer.start({
        era,
        auth: (t) => (t === 'tok-1' ? { status: 401, error: 'invalid_token' } : undefined),
      });
      const ts = new CountingTokenSource();
      const client = await ResilientClient.connect({ url: server.url, tokenSource: ts });
      assert.deepEqual(server.tokens, ['tok-2']);
      await client.close();
      await server.stop();
    });
  });

describe('backoffDelayMs', () => {
  it('uses full jitter under a doubling, capped ceiling', () => {
    const top = reconnectPolicy({ baseDelayMs: 200, maxDelayMs: 5000, random: () => 0.999999 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelayMs(a, top)),
      [199, 399, 799, 1599, 3199, 4999, 4999],
    );
    assert.equal(backoffDelayMs(3, reconnectPolicy({ random: () => 0 })), 0);
    assert.throws(() => reconnectPolicy({ maxAttempts: -1 }), TypeError);
  });
});
